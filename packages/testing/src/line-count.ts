import pg from "pg";

/** Counts the rows of a pg-store schema's lines table from outside the store, for tests that watch a sync from another process. */
export function lineCounter(url: string, schema: string): { count(): Promise<number>; settle(): Promise<void>; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on("error", () => {});
  return {
    // Before the first sync has migrated the schema there is no table yet: 0.
    count: async () => {
      try {
        const r = await pool.query(`select count(*)::int as n from "${schema}".lines`);
        return r.rows[0].n as number;
      } catch {
        return 0;
      }
    },
    // A killed client's last statement still runs to its end on the server:
    // wait until no other session is busy, so the count is final.
    settle: async () => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const r = await pool.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'");
        if (r.rows[0].n === 0) return;
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    close: () => pool.end(),
  };
}
