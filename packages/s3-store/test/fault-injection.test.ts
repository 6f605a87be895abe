import { join } from "node:path";
import { syncStores, type SessionStore } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFaultyProxy, type FaultyProxy } from "./support/faulty-proxy.js";
import { openTestStore } from "./support/open-store.js";
import { uniquePrefix } from "@sessionvault/testing/s3-server";
import { sharedS3Server } from "@sessionvault/testing/shared-services";
import { S3Store } from "../src/index.js";

const FIXTURES = join(import.meta.dirname, "../../../fixtures/codex");

const server = sharedS3Server();
let proxy: FaultyProxy;
beforeAll(async () => {
  // SV_FAULT_SEED replays another fault sequence.
  proxy = await startFaultyProxy({ target: server.endpoint, rate: 0.1, slowMs: 900, seed: Number(process.env.SV_FAULT_SEED ?? 7) });
});
afterAll(async () => {
  await proxy?.stop();
});

async function readAll(store: SessionStore, id: string, stream: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of store.readStream(id, stream)) out.push(l);
  return out;
}

test("10% of S3 requests fail (500, 503, resets before and after the write, slow answers, answers cut mid-body) during a sync of the Codex fixtures: the sync completes, nothing lost, nothing duplicated", {
  timeout: 600_000,
}, async () => {
  const prefix = uniquePrefix("faults");
  // Small batches and frequent compaction: many requests, conditional creates and manifest switches under fire.
  const flaky = openTestStore({ ...server, endpoint: proxy.endpoint }, { prefix, requestTimeoutMs: 500, maxAttempts: 10, compactAfterAppends: 3 });
  const direct = new S3Store({
    bucket: server.bucket,
    prefix,
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    forcePathStyle: true,
  });
  const sources = ["0.39.0", "0.98.0", "0.169.0"].map((v) => new FsStore({ root: join(FIXTURES, v) }));
  try {
    let linesSent = 0;
    for (const source of sources) {
      const summary = await syncStores(source, flaky, { batchLines: 5 });
      expect(summary.errors).toEqual([]);
      linesSent += summary.lines_sent;
    }
    // The faults really happened, of every kind.
    expect(proxy.requests).toBeGreaterThan(1000);
    for (const [kind, n] of Object.entries(proxy.faults)) expect(n, kind).toBeGreaterThan(0);

    // Verified over a clean connection: every session once, every stream exactly the source's lines.
    let expectedLines = 0;
    const listed = new Map<string, { lines: number; bytes: number }>();
    let cursor: string | null = null;
    do {
      const page = await direct.listSessions({ archived: "all", limit: 7, cursor });
      for (const s of page.sessions) {
        expect(listed.has(s.id)).toBe(false);
        listed.set(s.id, { lines: s.lines, bytes: s.bytes });
      }
      cursor = page.next_cursor;
    } while (cursor);
    const expectedIds = new Set<string>();
    for (const source of sources) {
      for (const s of (await source.listSessions({ archived: "all", limit: 1000 })).sessions) {
        expectedIds.add(s.id);
        const positions = await source.streamPositions(s.id);
        expect(await direct.streamPositions(s.id)).toEqual(positions);
        // The listing's counts (what an incremental sync trusts) are the committed ones too.
        const rollout = positions.find((p) => p.name === "rollout");
        expect(listed.get(s.id), s.id).toEqual({ lines: rollout?.lines ?? 0, bytes: rollout?.bytes ?? 0 });
        for (const p of positions) {
          expectedLines += p.lines;
          expect(await readAll(direct, s.id, p.name)).toEqual(await readAll(source, s.id, p.name));
        }
      }
    }
    expect([...listed.keys()].sort()).toEqual([...expectedIds].sort());
    expect(linesSent).toBe(expectedLines);

    // A rerun through the faulty proxy finds nothing to send.
    for (const source of sources) expect(await syncStores(source, flaky)).toMatchObject({ lines_sent: 0, errors: [] });
  } finally {
    await Promise.all([flaky.close(), direct.close(), ...sources.map((s) => s.close())]);
  }
});
