import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { createApiToken, startServer } from "@sessionvault/server";

const FIXTURES = join(import.meta.dirname, "../../../fixtures/codex");

describe("the CLI against a server URL", () => {
  test("sync --to http://…, then list and cat through the server, byte-exact; a rerun sends nothing", async () => {
    const { main } = await import("../src/main.ts");
    const { PassThrough } = await import("node:stream");
    const dir = await mkdtemp(join(tmpdir(), "sv-cli-http-"));
    const server = await startServer({ store: join(dir, "data"), port: 0, logger: false });
    try {
      const { token } = await createApiToken(server.tokens, "team", ["write"]);
      const run = async (argv: string[]) => {
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        const out: Buffer[] = [];
        let err = "";
        stdout.on("data", (c: Buffer) => out.push(c));
        stderr.on("data", (c: Buffer) => (err += c.toString()));
        const code = await main(argv, { stdout, stderr, env: { HOME: dir, SESSIONVAULT_TOKEN: token }, cwd: dir });
        return { code, out: Buffer.concat(out), err };
      };
      const home = join(FIXTURES, "0.169.0");
      const first = await run(["sync", "--from", home, "--to", server.url, "--json"]);
      expect(first.code, first.err).toBe(0);
      const summary = JSON.parse(first.out.toString()) as { sessions_sent: number; lines_sent: number; errors: unknown[] };
      expect(summary.errors).toEqual([]);
      expect(summary.sessions_sent).toBe(16);
      const again = await run(["sync", "--from", home, "--to", server.url, "--json"]);
      expect(JSON.parse(again.out.toString())).toMatchObject({ lines_sent: 0, errors: [] });

      const list = await run(["list", "--store", server.url, "--all", "--json", "--limit", "100"]);
      expect(list.code, list.err).toBe(0);
      const ids = (JSON.parse(list.out.toString()) as { sessions: { id: string }[] }).sessions.map((s) => s.id);
      expect(ids).toHaveLength(16);

      const local = new FsStore({ root: home });
      try {
        for (const id of ids) {
          const cat = await run(["cat", id, "--store", server.url]);
          expect(cat.code, cat.err).toBe(0);
          const lines: string[] = [];
          for await (const l of local.readStream(id, "rollout")) lines.push(l + "\n");
          expect(cat.out.equals(Buffer.from(lines.join("")))).toBe(true);
        }
      } finally {
        await local.close();
      }

      const denied = await (async () => {
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        let err = "";
        stderr.on("data", (c: Buffer) => (err += c.toString()));
        const code = await main(["list", "--store", server.url], { stdout, stderr, env: { HOME: dir }, cwd: dir });
        return { code, err };
      })();
      expect(denied.code).toBe(7);
      expect(denied.err).toMatch(/^sessionvault: .*SESSIONVAULT_TOKEN/m);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
