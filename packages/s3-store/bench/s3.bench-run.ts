// s3-store benchmarks (run by `pnpm bench`), against the test S3 server (in-process s3rver behind the front
// server that closes its gaps, on this machine's disk). Every figure is printed with a baseline measured in
// the same run:
//
//   1. sync into S3 (syncStores from a Codex home): MB/s and requests per session, vs raw PutObject of the
//      same bytes with the SDK (one object per stream).
//      a) the real Codex fixture homes (small sessions: request-bound);
//      b) generated sessions of SV_BENCH_SYNC_LINES lines (~230 B each).
//   2. first page (50) of listSessions over 1k / 10k / 100k sessions (target < 200 ms, flat), vs two
//      baselines: one raw ListObjectsV2 of 50 keys, and the floor of this layout — that LIST plus 50 raw
//      GetObjects of the same session.json objects (16 in parallel, as the store does). Index entries and session.json objects are written straight into the
//      emulator's data directory (the store would write the same objects, only slower).
//
// Env: SV_BENCH_SYNC_SESSIONS (default 10), SV_BENCH_SYNC_LINES (default 4000), SV_BENCH_LIST_COUNTS
// ("1000,10000,100000"), SV_BENCH_LIST_RUNS (15).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { syncStores, type SessionStore } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { test } from "vitest";
import { S3Store } from "../src/index.js";
import { indexRelative } from "../src/keys.js";
import { startS3Server, uniquePrefix, type TestS3Server } from "@sessionvault/testing/s3-server";

const SYNC_SESSIONS = Number(process.env.SV_BENCH_SYNC_SESSIONS ?? 10);
const SYNC_LINES = Number(process.env.SV_BENCH_SYNC_LINES ?? 4000);
const LIST_COUNTS = (process.env.SV_BENCH_LIST_COUNTS ?? "1000,10000,100000")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const LIST_RUNS = Number(process.env.SV_BENCH_LIST_RUNS ?? 15);
const FIXTURES = join(import.meta.dirname, "../../../fixtures/codex");

const out = (line: string) => process.stdout.write(line + "\n");
const mb = (bytes: number, ms: number) => bytes / 1024 / 1024 / (ms / 1000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

function openStore(server: TestS3Server, prefix: string): S3Store {
  return new S3Store({
    bucket: server.bucket,
    prefix,
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    forcePathStyle: true,
  });
}

async function readStream(store: SessionStore, id: string, name: string): Promise<Buffer> {
  const parts: string[] = [];
  for await (const l of store.readStream(id, name)) parts.push(l + "\n");
  return Buffer.from(parts.join(""), "utf8");
}

async function syncBench(server: TestS3Server, client: S3Client, label: string, sources: SessionStore[]): Promise<void> {
  const prefix = uniquePrefix("bench-sync");
  const target = openStore(server, prefix);
  let bytes = 0;
  let sessions = 0;
  const req0 = await server.requestCount();
  const t0 = performance.now();
  for (const source of sources) {
    const s = await syncStores(source, target);
    if (s.errors.length) throw new Error(`sync errors: ${JSON.stringify(s.errors.slice(0, 3))}`);
    bytes += s.bytes_sent;
    sessions += s.sessions_sent;
  }
  const syncMs = performance.now() - t0;
  const syncReq = (await server.requestCount()) - req0;
  await target.close();

  // Baseline: the same bytes, one PutObject per stream, prepared in memory before the clock starts.
  const bodies: { key: string; body: Buffer }[] = [];
  const basePrefix = uniquePrefix("bench-raw");
  for (const source of sources) {
    for (const s of (await source.listSessions({ archived: "all", limit: 1000 })).sessions) {
      for (const p of await source.streamPositions(s.id)) bodies.push({ key: `${basePrefix}/${s.id}/${p.name}`, body: await readStream(source, s.id, p.name) });
    }
  }
  const rawBytes = bodies.reduce((n, b) => n + b.body.length, 0);
  const req1 = await server.requestCount();
  const t1 = performance.now();
  for (const b of bodies) await client.send(new PutObjectCommand({ Bucket: server.bucket, Key: b.key, Body: b.body }));
  const rawMs = performance.now() - t1;
  const rawReq = (await server.requestCount()) - req1;
  if (rawBytes !== bytes) throw new Error(`baseline has ${rawBytes} bytes, sync sent ${bytes}`);

  const syncRate = mb(bytes, syncMs);
  const rawRate = mb(rawBytes, rawMs);
  out(`sync → S3, ${label}: ${sessions} sessions, ${(bytes / 1024 / 1024).toFixed(2)} MiB`);
  out(`  syncStores (fs → s3-store):   ${syncRate.toFixed(2)} MB/s  ${(syncMs / 1000).toFixed(2)} s  ${(syncReq / sessions).toFixed(1)} requests/session`);
  out(`  baseline raw PutObject:       ${rawRate.toFixed(2)} MB/s  ${(rawMs / 1000).toFixed(2)} s  ${(rawReq / sessions).toFixed(1)} requests/session`);
  out(`  ratio sync/baseline:          ${(syncRate / rawRate).toFixed(2)}×`);
}

async function generatedHome(dir: string): Promise<FsStore> {
  const fs = new FsStore({ root: dir });
  for (let s = 0; s < SYNC_SESSIONS; s++) {
    const created = new Date(Date.UTC(2026, 9, 1, 8, 0, 0) + s * 3_600_000);
    const id = `0e${String(s).padStart(6, "0")}-4444-7000-8000-000000000000`;
    await fs.putSession({
      id,
      created_at: created.toISOString(),
      cwd: "/bench",
      title: "bench",
      archived: false,
      source: "exec",
      originator: "bench",
      cli_version: "0.169.0",
      model_provider: "mock",
      git: null,
      parent_id: null,
      forked_from_id: null,
    });
    const lines: string[] = [
      JSON.stringify({ timestamp: created.toISOString(), type: "session_meta", payload: { id, cwd: "/bench", originator: "bench", cli_version: "0.169.0" } }),
    ];
    lines.push(
      JSON.stringify({
        timestamp: created.toISOString(),
        type: "response_item",
        payload: { type: "message", role: "user", content: [{ type: "input_text", text: "bench" }] },
      }),
    );
    lines.push(JSON.stringify({ timestamp: created.toISOString(), type: "event_msg", payload: { type: "user_message", message: "bench" } }));
    for (let i = lines.length; i < SYNC_LINES; i++) {
      lines.push(
        JSON.stringify({
          timestamp: new Date(created.getTime() + i).toISOString(),
          type: "event_msg",
          payload: { type: "agent_message", message: `step ${i}: the quick brown fox jumps over the lazy dog`, pad: "x".repeat(70) },
        }),
      );
    }
    for (let i = 0; i < lines.length; i += 1000) await fs.append(id, "rollout", i, lines.slice(i, i + 1000));
  }
  return fs;
}

/** Writes `count` sessions (index entry + session.json) as s3rver files, newest `created_ms` first apart. */
function writeSessionsDirect(dataDir: string, prefix: string, from: number, to: number): void {
  const base = Date.UTC(2026, 10, 1, 0, 0, 0);
  for (let i = from; i < to; i++) {
    const id = `0f${String(i).padStart(6, "0")}-5555-7000-8000-${String(i).padStart(12, "0")}`;
    // One session every 5 minutes, going back in time.
    const created = new Date(base - i * 300_000).toISOString();
    const summary = {
      id,
      created_at: created,
      cwd: "/bench",
      title: `session ${i}`,
      archived: false,
      source: "exec",
      originator: "bench",
      cli_version: "0.169.0",
      model_provider: "mock",
      git: null,
      parent_id: null,
      forked_from_id: null,
    };
    const doc = JSON.stringify({ v: 1, summary, streams: { rollout: { lines: 3, bytes: 900 } }, rollout_last_ts: created, deleted: null });
    writeObject(dataDir, `${prefix}/sessions/${id}/session.json`, doc);
    writeObject(dataDir, `${prefix}/${indexRelative(Date.parse(created), id)}`, "");
  }
}

function writeObject(dataDir: string, key: string, body: string): void {
  const parts = key.split("/");
  const last = parts.pop()!;
  const dir = join(dataDir, ...parts);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${last}._S3rver_object`), body);
}

async function listBench(server: TestS3Server, client: S3Client): Promise<void> {
  if (!server.dataDir) {
    out("list bench skipped: needs the in-process S3 server (unset S3_ENDPOINT)");
    return;
  }
  const prefix = uniquePrefix("bench-list");
  const store = openStore(server, prefix);
  out(`first page (50) of listSessions, ${LIST_RUNS} runs each (target < 200 ms, flat):`);
  let written = 0;
  for (const count of LIST_COUNTS) {
    const t = performance.now();
    writeSessionsDirect(server.dataDir, prefix, written, count);
    written = count;
    const setup = performance.now() - t;
    const pageMs: number[] = [];
    const rawMs: number[] = [];
    const floorMs: number[] = [];
    let first: string | undefined;
    for (let w = 0; w < 3; w++) await store.listSessions({ limit: 50 }); // warm-up
    for (let r = 0; r < LIST_RUNS; r++) {
      const t0 = performance.now();
      const page = await store.listSessions({ limit: 50 });
      pageMs.push(performance.now() - t0);
      if (page.sessions.length !== 50) throw new Error(`page has ${page.sessions.length} sessions`);
      first = page.sessions[0]!.id;
      const t1 = performance.now();
      const listed = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${prefix}/index/by-time/`, MaxKeys: 50 }));
      rawMs.push(performance.now() - t1);
      const ids = (listed.Contents ?? []).map((o) => o.Key!.slice(-36));
      let next = 0;
      const worker = async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          const res = await client.send(new GetObjectCommand({ Bucket: server.bucket, Key: `${prefix}/sessions/${id}/session.json` }));
          await res.Body!.transformToString();
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      floorMs.push(performance.now() - t1);
    }
    out(
      `  ${String(count).padStart(7)} sessions: median ${median(pageMs).toFixed(1)} ms, p95 ${p95(pageMs).toFixed(1)} ms` +
        ` | raw LIST of 50 index keys ${median(rawMs).toFixed(1)} ms (${(median(pageMs) / median(rawMs)).toFixed(1)}×)` +
        ` | raw LIST + 50 GETs ${median(floorMs).toFixed(1)} ms (${(median(pageMs) / median(floorMs)).toFixed(2)}×)` +
        ` | newest ${first?.slice(0, 8)} | setup ${(setup / 1000).toFixed(1)} s`,
    );
  }
  await store.close();
}

test("s3-store bench", async () => {
  const server = await startS3Server();
  const client = new S3Client({ endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true });
  const scratch = mkdtempSync(join(tmpdir(), "sv-s3-bench-"));
  try {
    const fixtures = ["0.39.0", "0.98.0", "0.169.0"].map((v) => new FsStore({ root: join(FIXTURES, v) }));
    await syncBench(server, client, "the real Codex fixture homes", fixtures);
    await Promise.all(fixtures.map((f) => f.close()));
    const generated = await generatedHome(join(scratch, "home"));
    await syncBench(server, client, `${SYNC_SESSIONS} generated sessions of ${SYNC_LINES} lines`, [generated]);
    await generated.close();
    await listBench(server, client);
  } finally {
    client.destroy();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
});
