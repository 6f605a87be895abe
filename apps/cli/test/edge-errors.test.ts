import { execFileSync } from "node:child_process";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { createApiToken, startServer, type RunningServer } from "@sessionvault/server";
import { conformanceId, sessionHeadLines } from "@sessionvault/core/conformance";
import type { SessionInput } from "@sessionvault/core";
import { uiLogin } from "@sessionvault/testing/ui-login";
import { EXIT_CODES } from "../src/exit-codes.js";
import { FIXTURES, fixtureRollouts } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.js";

// Errors the server and the CLI must make clear: a full disk, a line the server will never
// take, a missing session (without the server's paths), and bytes that are not UTF-8.

const dirs: string[] = [];
const mounts: string[] = [];
afterAll(async () => {
  for (const m of mounts) execFileSync("umount", [m]);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A 256 KiB tmpfs (a disk that fills up for real), or null where this process may not mount one. */
async function smallDisk(): Promise<string | null> {
  const dir = await tempDir("sv-full-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir], { stdio: "ignore" });
  } catch {
    return null;
  }
  mounts.push(dir);
  return dir;
}

function input(title: string): SessionInput {
  return {
    id: conformanceId(),
    created_at: "2026-05-01T10:00:00.000Z",
    cwd: "/work",
    title,
    archived: false,
    source: "exec",
    originator: "codex_exec",
    cli_version: "0.169.0",
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
  };
}

/** A Codex home holding `sessions`, each its head lines plus `extra` lines. */
async function homeWith(sessions: { input: SessionInput; extra: string[] }[]): Promise<string> {
  const home = await tempDir("sv-edge-home-");
  const fs = new FsStore({ root: home });
  try {
    for (const s of sessions) {
      await fs.putSession(s.input);
      await fs.append(s.input.id, "rollout", 0, [...sessionHeadLines(s.input), ...s.extra]);
    }
  } finally {
    await fs.close();
  }
  return home;
}

const agentLine = (text: string) =>
  JSON.stringify({ timestamp: "2026-05-01T10:00:01.000Z", type: "event_msg", payload: { type: "agent_message", message: text } });

const disk = await smallDisk();

describe.skipIf(disk === null)("a full disk on the server (a 256 KiB tmpfs)", () => {
  let server: RunningServer;
  afterAll(async () => {
    await server?.close();
  });

  it("reaches an API client as 507 STORAGE_FULL and the CLI as a clear error with its own exit code", async () => {
    server = await startServer({ store: disk!, port: 0, logger: false });
    const { token } = await createApiToken(server.tokens, "acme", ["write"]);
    const s = input("fills the disk");
    const home = await homeWith([{ input: s, extra: Array.from({ length: 12 }, (_, i) => agentLine(`${i} ${"y".repeat(60_000)}`)) }]);
    const res = await runCli(["sync", "--from", home, "--to", server.url], { SESSIONVAULT_TOKEN: token });
    expect(res.code).toBe(EXIT_CODES.STORAGE_FULL);
    expect(res.stderr).toBe("sessionvault: the server's storage is full: nothing more can be stored until space is freed\n");

    const api = await fetch(
      `${server.url}/v1/sessions/${s.id}/streams/rollout?expected_seq=${((await (await fetch(`${server.url}/v1/sessions/${s.id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { lines: number }).lines}`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" },
        // Larger than the whole disk: it cannot fit whatever the sync left (a failed write is cut back).
        body: agentLine("z".repeat(300_000)) + "\n",
      },
    );
    expect(api.status).toBe(507);
    expect(await api.json()).toEqual({ code: "STORAGE_FULL", message: "the server's storage is full: nothing more can be stored until space is freed" });
  });
});

describe("a line the server never accepts (larger than its append limit)", () => {
  it("is reported as never storable there, not as something to retry", async () => {
    const dir = await tempDir("sv-limit-");
    const server = await startServer({ store: dir, port: 0, logger: false, maxAppendBytes: 256 * 1024 });
    try {
      const { token } = await createApiToken(server.tokens, "acme", ["write"]);
      const big = input("one huge line");
      const fine = input("fine");
      const home = await homeWith([
        { input: big, extra: [agentLine("x".repeat(300 * 1024))] },
        { input: fine, extra: [agentLine("ok")] },
      ]);
      const res = await runCli(["sync", "--from", home, "--to", server.url], { SESSIONVAULT_TOKEN: token });
      expect(res.code).toBe(EXIT_CODES.PARTIAL_FAILURE);
      expect(res.stderr).toMatch(
        new RegExp(
          `session ${big.id}: line 3 of rollout is \\d+ bytes, more than http://127\\.0\\.0\\.1:\\d+ accepts in one request: it can never be stored there`,
        ),
      );
      expect(res.stderr).toContain("1 can never be stored in the target");
      expect(res.stderr).not.toContain("retry");
      expect(res.out).toMatch(/^sent 1 of 2 sessions/);
      // The lines before the huge one were sent (the batch was split), and the other session whole.
      const get = (id: string) =>
        fetch(`${server.url}/v1/sessions/${id}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<{ lines: number }>);
      expect((await get(big.id)).lines).toBe(3);
      expect((await get(fine.id)).lines).toBe(4);
    } finally {
      await server.close();
    }
  });
});

describe("a session that is not there", () => {
  it("is a 404 whose message (API and web UI) does not show where the server keeps its files", async () => {
    const dir = await tempDir("sv-paths-");
    const server = await startServer({ store: dir, port: 0, logger: false });
    try {
      const { token } = await createApiToken(server.tokens, "acme", ["admin"]);
      // The org holds a session, so its directory exists (the message that named it).
      const there = input("there");
      const put = await fetch(`${server.url}/v1/sessions/${there.id}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(there),
      });
      expect(put.status).toBe(200);
      const missing = conformanceId();
      for (const path of [
        `/v1/sessions/${missing}`,
        `/v1/sessions/${missing.slice(0, 13)}`,
        `/v1/sessions/${missing}/streams/rollout`,
        `/v1/sessions/${missing}/actions`,
      ]) {
        const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        const body = await res.text();
        expect(res.status, path).toBe(404);
        expect(body, path).toContain(missing.slice(0, 13));
        expect(body, path).not.toContain(dir);
        expect(body, path).not.toContain(tmpdir());
      }
      for (const method of ["DELETE"]) {
        const res = await fetch(`${server.url}/v1/sessions/${missing}`, { method, headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(404);
        expect(await res.text()).not.toContain(tmpdir());
      }
      const { cookie } = await uiLogin(server.url, token);
      for (const path of [`/sessions/${missing}`, `/sessions/${missing}/download/rollout`]) {
        const page = await fetch(`${server.url}${path}`, { headers: { cookie } });
        expect(page.status, path).toBe(404);
        const html = await page.text();
        expect(html, path).toContain("Not found");
        expect(html, path).not.toContain(tmpdir());
      }
    } finally {
      await server.close();
    }
  });
});

describe("export --format jsonl --no-redact", () => {
  it("is byte-exact on a line that is not valid UTF-8", async () => {
    const root = await tempDir("sv-latin1-");
    await cp(join(FIXTURES, "0.98.0", "sessions"), join(root, "sessions"), { recursive: true });
    await mkdir(join(root, "archived_sessions"), { recursive: true });
    const f = fixtureRollouts("0.98.0")[0]!;
    const path = join(root, f.path.slice(join(FIXTURES, "0.98.0").length + 1));
    await appendFile(
      path,
      Buffer.concat([
        Buffer.from('{"timestamp":"2026-11-21T10:00:00.000Z","type":"event_msg","payload":{"type":"note","text":"caf'),
        Buffer.from([0xe9, 0xff]),
        Buffer.from('"}}\n'),
      ]),
    );
    const res = await runCli(["export", f.id, "--format", "jsonl", "--no-redact", "--store", root]);
    expect(res.code).toBe(0);
    expect(res.stdout.equals(await readFile(path))).toBe(true);
    const out = join(root, "export.jsonl");
    expect((await runCli(["export", f.id, "--format", "jsonl", "--no-redact", "-o", out, "--store", root])).code).toBe(0);
    expect((await readFile(out)).equals(await readFile(path))).toBe(true);
  });
});
