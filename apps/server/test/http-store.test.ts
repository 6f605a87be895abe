import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runStoreConformance } from "@sessionvault/core/conformance";
import { ConflictError, StoreUnavailableError, syncStores, UnauthorizedError, ForbiddenError, NotFoundError } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { createApiToken, startServer, type RunningServer } from "../src/index.js";
import { HttpStore } from "@sessionvault/http-store";

const FIXTURES = join(import.meta.dirname, "../../../fixtures/codex");

/** One real server for the conformance run; every open() is a new org with its own token, so stores are isolated. */
let shared: Promise<{ server: RunningServer; dir: string }> | null = null;
function sharedServer() {
  shared ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "sv-http-conf-"));
    return { server: await startServer({ store: dir, port: 0, logger: false }), dir };
  })();
  return shared;
}

runStoreConformance("http-store (archive server over fs-store)", {
  async open() {
    const { server } = await sharedServer();
    const org = `conf-${randomBytes(6).toString("hex")}`;
    const { token } = await createApiToken(server.tokens, org, ["admin"]);
    return new HttpStore({ baseUrl: server.url, token });
  },
  async cleanup() {
    if (!shared) return;
    const { server, dir } = await shared;
    await server.close();
    await rm(dir, { recursive: true, force: true });
  },
  // The server scans rollouts when its store has no text index.
  supportsSearch: true,
});

describe("sync through the archive server", () => {
  let server: RunningServer;
  let dir: string;
  let token: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sv-http-sync-"));
    server = await startServer({ store: dir, port: 0, logger: false });
    token = (await createApiToken(server.tokens, "acme", ["write"])).token;
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test.each(["0.39.0", "0.98.0", "0.169.0"])("uploads the real Codex %s home byte-exact, and a rerun sends nothing", async (version) => {
    const from = new FsStore({ root: join(FIXTURES, version) });
    const to = new HttpStore({ baseUrl: server.url, token });
    try {
      const first = await syncStores(from, to);
      expect(first.errors).toEqual([]);
      expect(first.lines_sent).toBeGreaterThan(0);
      const again = await syncStores(from, to);
      expect(again).toMatchObject({ lines_sent: 0, bytes_sent: 0, errors: [] });

      const page = await from.listSessions({ archived: "all", limit: 500 });
      expect(page.sessions.length).toBeGreaterThan(0);
      for (const s of page.sessions) {
        const remote = await to.getSession(s.id);
        expect(remote.lines).toBe(s.lines);
        const local: string[] = [];
        for await (const l of from.readStream(s.id, "rollout")) local.push(l);
        const got: string[] = [];
        for await (const l of to.readStream(s.id, "rollout")) got.push(l);
        expect(got).toEqual(local);
      }
    } finally {
      await from.close();
      await to.close();
    }
  });

  test("an append racing a stale position gets ConflictError with the server's position", async () => {
    const to = new HttpStore({ baseUrl: server.url, token });
    const id = "0a0a0a0a-0000-7000-8000-000000000001";
    await to.putSession({
      id,
      created_at: "2026-01-01T00:00:00.000Z",
      cwd: "/w",
      title: "race",
      archived: false,
      source: "cli",
      originator: "t",
      cli_version: "0",
      model_provider: null,
      git: null,
      parent_id: null,
      forked_from_id: null,
    });
    await to.append(id, "debug-log", 0, ["a", "b"]);
    const err = await to.append(id, "debug-log", 1, ["c"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).currentSeq).toBe(2);
  });

  test("splits big batches into several requests without changing the bytes", async () => {
    const to = new HttpStore({ baseUrl: server.url, token, maxBatchBytes: 64 * 1024 });
    const id = "0a0a0a0a-0000-7000-8000-000000000002";
    await to.putSession({
      id,
      created_at: "2026-01-01T00:00:00.000Z",
      cwd: null,
      title: null,
      archived: false,
      source: null,
      originator: null,
      cli_version: null,
      model_provider: null,
      git: null,
      parent_id: null,
      forked_from_id: null,
    });
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ i, pad: "é".repeat(500 + i) }));
    expect(await to.append(id, "raw-api", 0, lines)).toEqual({ seq: 300 });
    const back: string[] = [];
    for await (const l of to.readStream(id, "raw-api")) back.push(l);
    expect(back).toEqual(lines);
  });

  test("errors keep their meaning across the wire: 401, 403, 404, unreachable", async () => {
    await expect(new HttpStore({ baseUrl: server.url }).listSessions()).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(new HttpStore({ baseUrl: server.url, token: "sv_nope" }).listSessions()).rejects.toBeInstanceOf(UnauthorizedError);
    const reader = (await createApiToken(server.tokens, "acme", ["read"])).token;
    await expect(
      new HttpStore({ baseUrl: server.url, token: reader }).append("0a0a0a0a-0000-7000-8000-000000000002", "raw-api", 300, ["x"]),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(new HttpStore({ baseUrl: server.url, token }).getSession("0a0a0a0a-0000-7000-8000-0000000000ff")).rejects.toBeInstanceOf(NotFoundError);
    await expect(new HttpStore({ baseUrl: "http://127.0.0.1:9", token, retries: 0 }).listSessions()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  test("the store keeps the token only as a hash", async () => {
    const { readdir } = await import("node:fs/promises");
    const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    for (const f of files) expect((await readFile(join(f.parentPath, f.name), "utf8")).includes(token)).toBe(false);
  });
});

describe("lost acknowledgements", () => {
  test("an append whose response is lost in transit is retried and stored once", async () => {
    const { createServer, request } = await import("node:http");
    const dir = await mkdtemp(join(tmpdir(), "sv-http-lost-"));
    const server = await startServer({ store: dir, port: 0, logger: false });
    const upstream = new URL(server.url);
    let posts = 0;
    // Forwards everything; the 2nd POST reaches the server, but its answer is thrown away and the connection cut.
    const proxy = createServer((req, res) => {
      const isPost = req.method === "POST";
      const n = isPost ? ++posts : 0;
      const fwd = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        if (n === 2) {
          up.resume();
          up.on("end", () => req.socket.destroy());
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(fwd);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const port = (proxy.address() as { port: number }).port;
    try {
      const { token } = await createApiToken(server.tokens, "acme", ["write"]);
      const store = new HttpStore({ baseUrl: `http://127.0.0.1:${port}`, token });
      const id = "0a0a0a0a-0000-7000-8000-0000000000aa";
      await store.putSession({
        id,
        created_at: "2026-01-01T00:00:00.000Z",
        cwd: null,
        title: null,
        archived: false,
        source: null,
        originator: null,
        cli_version: null,
        model_provider: null,
        git: null,
        parent_id: null,
        forked_from_id: null,
      });
      expect(await store.append(id, "debug-log", 0, ["one", "two"])).toEqual({ seq: 2 });
      expect(await store.append(id, "debug-log", 2, ["three", "four"])).toEqual({ seq: 4 });
      expect(await store.append(id, "debug-log", 4, ["five"])).toEqual({ seq: 5 });
      expect(posts).toBeGreaterThanOrEqual(4); // the lost one was sent again
      const back: string[] = [];
      for await (const l of new HttpStore({ baseUrl: server.url, token }).readStream(id, "debug-log")) back.push(l);
      expect(back).toEqual(["one", "two", "three", "four", "five"]);
    } finally {
      await new Promise((r) => proxy.close(r));
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
