import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import type { CliContext } from "../src/io.js";
import { startTestUpstream, type TestUpstream } from "@sessionvault/testing/capture-upstream";

let root: string;
let upstream: TestUpstream;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sv-run-agent-"));
  upstream = await startTestUpstream();
});
afterAll(async () => {
  upstream.release();
  await upstream.close();
  await rm(root, { recursive: true, force: true });
});

function context(env: Record<string, string>): CliContext & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: new Writable({
      write: (c, _e, cb) => {
        out += c.toString();
        cb();
      },
    }),
    stderr: new Writable({
      write: (c, _e, cb) => {
        err += c.toString();
        cb();
      },
    }),
    env,
    cwd: root,
    out: () => out,
    err: () => err,
  };
}

// A TypeScript-free agent that talks to the model API named by OPENAI_BASE_URL, like any OpenAI SDK client.
const AGENT = `
const base = process.env.OPENAI_BASE_URL;
const res = await fetch(base + "/models", { headers: { authorization: "Bearer " + process.env.OPENAI_API_KEY, session_id: process.argv[2] } });
console.log(JSON.stringify({ base, status: res.status, body: await res.json() }));
process.exit(Number(process.argv[3] ?? 0));
`;

describe("sessionvault run (command function)", () => {
  it("points an OpenAI-style agent at the proxy with OPENAI_BASE_URL, forwards to --upstream and exits with its code", async () => {
    const agent = join(root, "agent.mjs");
    await writeFile(agent, AGENT);
    const home = join(root, "codex-home");
    const id = "0199aaaa-bbbb-7ccc-8ddd-eeeeffff0000";
    const ctx = context({ PATH: process.env.PATH!, CODEX_HOME: home, OPENAI_API_KEY: "sk-test-agentkey0123456789abcdefghij" });
    const code = await main(["run", "--persist-session", "--upstream", upstream.url, "--", process.execPath, agent, id, "3"], ctx);
    expect(code).toBe(3);
    const seen = upstream.requests.at(-1)!;
    expect(seen.url).toBe("/v1/models");
    expect(seen.headers.authorization).toBe("Bearer sk-test-agentkey0123456789abcdefghij");
    const dir = join(home, "sessions", id);
    expect((await readdir(dir)).sort()).toEqual(["session.log", "session_meta.log", "session_oai_raw.log"]);
    const raw = (await readFile(join(dir, "session_oai_raw.log"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(raw.map((r) => r.type)).toEqual(["request", "response", "response_body"]);
    expect(raw[0].headers.authorization).toBe("Bearer [REDACTED]");
    expect(raw[0].url).toBe(`${upstream.url}/models`);
    const meta = (await readFile(join(dir, "session_meta.log"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(meta[0]).toMatchObject({ type: "started", agent: "node" });
    expect(meta.at(-1)).toMatchObject({ type: "exited", code: 3 });
    for (const f of await readdir(dir)) expect(await readFile(join(dir, f), "utf8")).not.toContain("agentkey0123456789");
  });

  it("without --persist-session runs the agent untouched: no proxy, no files", async () => {
    const agent = join(root, "agent.mjs");
    await writeFile(agent, AGENT);
    const home = join(root, "untouched-home");
    const ctx = context({ PATH: process.env.PATH!, CODEX_HOME: home, OPENAI_BASE_URL: upstream.url });
    const before = upstream.requests.length;
    expect(await main(["run", "--", process.execPath, agent, "0199aaaa-bbbb-7ccc-8ddd-eeeeffff0001", "0"], ctx)).toBe(0);
    expect(upstream.requests.length).toBe(before + 1);
    await expect(readdir(home)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("warns when the agent never names a session, and writes nothing", async () => {
    const home = join(root, "no-session-home");
    const ctx = context({ PATH: process.env.PATH!, CODEX_HOME: home });
    expect(await main(["run", "--persist-session", "--", "true"], ctx)).toBe(0);
    expect(ctx.err()).toBe("sessionvault: warning: the agent named no session (no model request, no new rollout); nothing was captured\n");
    await expect(readdir(home)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("usage errors are clear and exit 2; a missing agent is reported", async () => {
    const ctx = context({ PATH: process.env.PATH! });
    expect(await main(["run", "--persist-session"], ctx)).toBe(2);
    const c2 = context({ PATH: process.env.PATH! });
    expect(await main(["run", "--debug-log", "x.log", "--", "true"], c2)).toBe(2);
    expect(c2.err()).toBe("sessionvault: --debug-log, --store and --upstream only apply with --persist-session\n");
    const c3 = context({ PATH: process.env.PATH!, CODEX_HOME: join(root, "h3") });
    expect(await main(["run", "--persist-session", "--log-level", "loud", "--", "true"], c3)).toBe(2);
    expect(c3.err()).toMatch(/^sessionvault: --log-level loud: use debug, info, warn or error\n$/);
    const c4 = context({ PATH: process.env.PATH! });
    expect(await main(["run", "--", "/nonexistent/agent-binary"], c4)).toBe(4);
    expect(c4.err()).toBe('sessionvault: cannot run "/nonexistent/agent-binary": command not found\n');
    const c6 = context({ PATH: process.env.PATH!, CODEX_HOME: join(root, "h6") });
    expect(await main(["run", "--persist-session", "--upstream", "ftp://example.com", "--", "true"], c6)).toBe(2);
    expect(c6.err()).toBe("sessionvault: upstream must be an http(s) URL, got ftp:\n");
    const c5 = context({ PATH: process.env.PATH!, CODEX_HOME: join(root, "h5") });
    expect(await main(["run", "--persist-session", "--debug-log", "../../escape.log", "--", "true"], c5)).toBe(2);
    expect(c5.err()).toMatch(/must stay inside the session directory/);
  });
});
