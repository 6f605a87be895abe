import { ConflictError, type SessionInput } from "@sessionvault/core";
import { conformanceId, sessionHeadLines } from "@sessionvault/core/conformance";
import { PgStore } from "@sessionvault/pg-store";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { sharedPostgres } from "@sessionvault/testing/shared-services";

const server = sharedPostgres();
const toClose: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of toClose) await s.close();
});

function open(schema = freshSchema("nl")): PgStore {
  const store = new PgStore({ connectionString: server.url, schema });
  toClose.push(store);
  return store;
}

function input(): SessionInput {
  return {
    id: conformanceId(),
    created_at: "2026-04-01T09:00:00.000Z",
    cwd: "/work/app",
    title: "nasty lines",
    archived: false,
    source: "cli",
    originator: "codex_cli_rs",
    cli_version: "0.169.0",
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
  };
}

async function readAll(store: PgStore, id: string, stream = "rollout"): Promise<string[]> {
  const out: string[] = [];
  for await (const l of store.readStream(id, stream)) out.push(l);
  return out;
}

/**
 * Lines whose text collides with the syntax of Postgres text formats (COPY
 * text, array literals, the "\n" split of the append statement), plus plain ones.
 */
const NASTY = [
  "a\tb\t\tc",
  "\\N",
  "\\.",
  "\\",
  "ends with a backslash \\",
  "\\\\N and \\\\. doubled",
  "literal escapes \\t \\n \\r \\\\ \\x41 \\101",
  "carriage\rreturn\r",
  "\r",
  "",
  "\t",
  "emoji 🦀👩‍💻 and ünïcödé, 中文, \u2028 \u00a0",
  '{"timestamp":"2026-04-01T09:00:01.000Z","type":"event_msg","payload":{"type":"agent_message","message":"tab\\there \\\\N \\r"}}',
  // Very long, and full of tabs and backslashes.
  "x\t\\".repeat(300_000) + "\r" + "🦀".repeat(50_000),
];

describe("big appends of lines with syntax characters", () => {
  it("round-trip nasty lines byte-exact, on the rollout and on another stream, with positions and byte counts", async () => {
    const store = open();
    const s = input();
    await store.putSession(s);
    const head = sessionHeadLines(s);
    const rollout = [...head, ...NASTY];
    // One batch of ~1.5 MB: the long line alone is most of it.
    expect(await store.append(s.id, "rollout", 0, rollout)).toEqual({ seq: rollout.length });
    expect(await store.append(s.id, "debug-log", 0, NASTY)).toEqual({ seq: NASTY.length });
    expect(await readAll(store, s.id)).toEqual(rollout);
    expect(await readAll(store, s.id, "debug-log")).toEqual(NASTY);
    const bytes = (lines: string[]) => lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    const positions = await store.streamPositions(s.id);
    expect(positions).toEqual([
      { name: "debug-log", lines: NASTY.length, bytes: bytes(NASTY) },
      { name: "rollout", lines: rollout.length, bytes: bytes(rollout) },
    ]);
    const summary = await store.getSession(s.id);
    expect(summary.lines).toBe(rollout.length);
    expect(summary.bytes).toBe(bytes(rollout));
    // The last timestamped line sets updated_at.
    expect(summary.updated_at).toBe("2026-04-01T09:00:01.000Z");
  });

  it("keep the line facts and search of lines with tabs", async () => {
    const schema = freshSchema("nlfacts");
    const store = open(schema);
    const s = input();
    await store.putSession(s);
    const words = JSON.stringify({
      timestamp: "2026-04-01T09:00:02.000Z",
      type: "response_item",
      payload: { type: "message", role: "user", content: [{ type: "input_text", text: "please frobnicate the\twombat" }] },
    });
    await store.append(s.id, "rollout", 0, [...sessionHeadLines(s), "not json", words]);
    expect((await store.listSessions({ q: "wombat" })).sessions.map((x) => x.id)).toEqual([s.id]);
    expect((await store.listSessions({ q: "frobnicate" })).sessions.map((x) => x.id)).toEqual([s.id]);
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      const { rows } = await admin.query(
        `select seq, type, payload_type, meta->>'cwd' as cwd, tsv is not null as searchable from "${schema}".lines order by seq`,
      );
      expect(rows).toEqual([
        { seq: 0, type: "session_meta", payload_type: null, cwd: "/work/app", searchable: false },
        { seq: 1, type: "response_item", payload_type: "message", cwd: null, searchable: true },
        { seq: 2, type: "event_msg", payload_type: "user_message", cwd: null, searchable: false },
        { seq: 3, type: null, payload_type: null, cwd: null, searchable: false },
        { seq: 4, type: "response_item", payload_type: "message", cwd: null, searchable: true },
      ]);
    } finally {
      await admin.end();
    }
  });

  it("let exactly one of many concurrent big appends at the same position win", async () => {
    const store = open();
    const s = input();
    await store.putSession(s);
    await store.append(s.id, "debug-log", 0, ["first"]);
    const batch = (w: number) => Array.from({ length: 200 }, (_, i) => `writer ${w} line ${i} ${"\\t".repeat(200)}`);
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, w) => store.append(s.id, "debug-log", 1, batch(w))));
    const won = results.flatMap((r, w) => (r.status === "fulfilled" ? [w] : []));
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") {
        expect(r.reason).toBeInstanceOf(ConflictError);
        expect((r.reason as ConflictError).currentSeq).toBe(201);
      }
    }
    expect(await readAll(store, s.id, "debug-log")).toEqual(["first", ...batch(won[0]!)]);
  });

  it("roll the whole batch back when a line key is already taken (the backstop), and report the position", async () => {
    const schema = freshSchema("nlkey");
    const store = open(schema);
    const s = input();
    await store.putSession(s);
    await store.append(s.id, "debug-log", 0, ["a", "b"]);
    // A stray row at seq 5 that the position row does not account for.
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query(`insert into "${schema}".lines (org, session_id, stream, seq, text) values ('', $1, 'debug-log', 5, 'stray')`, [s.id]);
    } finally {
      await admin.end();
    }
    const err = await store.append(s.id, "debug-log", 2, ["c", "d", "e", "f"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).currentSeq).toBe(2);
    // Nothing of the batch landed and the position did not move; the store still works.
    expect(await store.streamPositions(s.id)).toEqual([{ name: "debug-log", lines: 2, bytes: 4 }]);
    expect(await store.append(s.id, "debug-log", 2, ["c", "d", "e"])).toEqual({ seq: 5 });
    expect((await readAll(store, s.id, "debug-log")).slice(0, 5)).toEqual(["a", "b", "c", "d", "e"]);
  });
});
