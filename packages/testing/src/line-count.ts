import pg from "pg";

/**
 * Counts the rows of a pg-store schema's lines table from outside the store,
 * for tests that watch a sync from another process. `storeUrl` is the URL to
 * give that process: it names the schema, and tags its connections with the
 * schema as application_name so that `settle` waits for them alone (other
 * test files share the server and keep it busy).
 */
export function lineCounter(url: string, schema: string): { storeUrl: string; count(): Promise<number>; settle(): Promise<void>; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on("error", () => {});
  const storeUrl = new URL(url);
  storeUrl.searchParams.set("schema", schema);
  storeUrl.searchParams.set("application_name", schema);
  return {
    storeUrl: storeUrl.href,
    // Before the first sync has created the table there is none: 0. Any other error is the test's to see.
    count: async () => {
      const exists = await pool.query("select to_regclass($1) is not null as e", [`"${schema}".lines`]);
      if (!exists.rows[0].e) return 0;
      const r = await pool.query(`select count(*)::int as n from "${schema}".lines`);
      return r.rows[0].n as number;
    },
    // A killed client's last statement still runs to its end on the server:
    // wait until none of the sync's connections is busy, so the count is final.
    settle: async () => {
      for (;;) {
        const r = await pool.query("select count(*)::int as n from pg_stat_activity where application_name = $1 and state <> 'idle'", [schema]);
        if (r.rows[0].n === 0) return;
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    close: () => pool.end(),
  };
}
