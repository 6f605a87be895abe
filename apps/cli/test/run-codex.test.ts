import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRolloutPath } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import {
  CLI_BIN,
  CODEX_BIN,
  codexExecArgs,
  FAKE_KEY,
  killLeftovers,
  listFiles,
  makeScratch,
  removeScratch,
  spawnCli,
  spawnProcess,
  startMock,
  threadIdOf,
  waitFor,
  type MockServer,
  type Scratch,
} from "./support/codex-harness.js";
import { runsProgram } from "./support/process-tree.js";
import { reachableRepo } from "./support/reachable-repo.js";

// The real Codex CLI (the pinned devDependency, 0.171.0) against the scripted Responses API mock; the CLI runs from its dist/ (turbo builds it before tests).
let mockDir: string;
let mock: MockServer;
const scratches: Scratch[] = [];

beforeAll(async () => {
  mockDir = await mkdtemp(join(tmpdir(), "sv-mock-"));
  mock = await startMock(mockDir);
});
afterAll(async () => {
  killLeftovers();
  await mock.stop();
  for (const s of scratches) await removeScratch(s);
  await rm(mockDir, { recursive: true, force: true });
});

async function scratch(owner?: { uid: number; gid: number }, providerToml?: string) {
  const s = await makeScratch(mock, owner, providerToml);
  scratches.push(s);
  return s;
}

const lines = async (p: string) => {
  const text = await readFile(p, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text.slice(0, -1).split("\n");
};
const jsonLines = async (p: string) => (await lines(p)).map((l) => JSON.parse(l) as Record<string, unknown>);

/** Fails if the fake API key is in any file under `root` (binary-safe: sqlite files included). */
async function expectNoSecretUnder(root: string) {
  const files = await listFiles(root);
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    const buf = await readFile(join(root, f)).catch(() => Buffer.alloc(0));
    expect(buf.includes(FAKE_KEY), `${f} holds the API key`).toBe(false);
  }
}

type Raw = { type: string; method: string; url: string; status?: number; headers?: Record<string, string>; body?: unknown; event?: string; data?: unknown };

describe("sessionvault run --persist-session with the real Codex CLI", () => {
  it("collects rollout link, debug log, raw API exchanges and meta events for a command + patch turn", async () => {
    const s = await scratch();
    const prompt = "Create hello.txt, then change its text with a patch and add a notes.md file.";
    const { done } = spawnCli(["--persist-session"], codexExecArgs(mock, "patch", [prompt]), s);
    const r = await done;
    expect(r.stderr).not.toMatch(/sessionvault: /);
    expect(r.code).toBe(0);
    const id = threadIdOf(r.stdout);
    const dir = join(s.codexHome, "sessions", id);

    expect((await readdir(dir)).sort()).toEqual(["rollout.jsonl", "session.log", "session_meta.log", "session_oai_raw.log"]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);

    // rollout.jsonl is the dated rollout itself (same inode); the dated file stays where Codex expects it.
    const dated = await findRolloutPath(s.codexHome, id);
    expect(dated).toMatch(/sessions\/\d{4}\/\d{2}\/\d{2}\/rollout-.*\.jsonl$/);
    expect((await stat(join(dir, "rollout.jsonl"))).ino).toBe((await stat(dated!)).ino);
    const rollout = await jsonLines(join(dir, "rollout.jsonl"));
    expect(rollout[0]).toMatchObject({ type: "session_meta", payload: { id } });

    // session.log: timestamped wrapper lines and the agent's stderr.
    const log = await lines(join(dir, "session.log"));
    for (const l of log) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z +(DEBUG|INFO|WARN|ERROR) (sessionvault|agent): /);
    expect(log.some((l) => / INFO sessionvault: recording proxy http:\/\/127\.0\.0\.1:\d+ -> /.test(l))).toBe(true);
    expect(log.some((l) => l.includes("INFO agent: ") && r.stderr.includes(l.split("INFO agent: ")[1]!))).toBe(true);
    expect(log.at(-1)).toMatch(/INFO sessionvault: agent exited with code 0$/);

    // session_meta.log: lifecycle.
    const meta = await jsonLines(join(dir, "session_meta.log"));
    expect(meta[0]).toMatchObject({ type: "started", agent: "codex", cwd: s.work });
    expect(meta.at(-1)).toMatchObject({ type: "exited", code: 0, signal: null });

    // session_oai_raw.log: every request the mock answered, with its response events; Authorization redacted.
    const raw = (await jsonLines(join(dir, "session_oai_raw.log"))) as Raw[];
    const requests = raw.filter((x) => x.type === "request");
    const answered = (await mock.requests()).filter((q) => q.scenario === "patch" && q.headers["thread-id"] === id);
    expect(requests.length).toBe(answered.length);
    expect(requests.length).toBeGreaterThanOrEqual(4);
    for (const q of requests) {
      expect(q.method).toBe("POST");
      expect(q.url).toBe(`${mock.baseUrl("patch")}/responses`);
      expect(q.headers!.authorization).toBe("Bearer [REDACTED]");
      expect(q.headers!["thread-id"]).toBe(id);
    }
    expect(JSON.stringify(requests[0]!.body)).toContain(prompt);
    const events = raw.filter((x) => x.type === "event");
    const doneItems = events.filter((e) => e.event === "response.output_item.done").map((e) => (e.data as { item: Record<string, unknown> }).item);
    // A command, a patch and the final answer of the turn, as the model sent them.
    expect(doneItems.some((i) => i.type === "function_call" && i.name === "exec_command")).toBe(true);
    expect(doneItems.some((i) => i.type === "custom_tool_call" && i.name === "apply_patch" && String(i.input).includes("*** Begin Patch"))).toBe(true);
    expect(doneItems.some((i) => i.type === "message")).toBe(true);
    expect(events.filter((e) => e.event === "response.completed").length).toBe(requests.length);
    expect(raw.filter((x) => x.type === "response").every((x) => x.status === 200)).toBe(true);
    // The command's output went back to the model in the next request: that is in the log too.
    expect(requests.some((q) => JSON.stringify(q.body).includes("function_call_output"))).toBe(true);

    await expectNoSecretUnder(s.root);
  });

  it("files a resumed session's capture in the same directory and records the resume", async () => {
    const s = await scratch();
    const first = await spawnCli(["--persist-session"], codexExecArgs(mock, "turn1", ["Start a log file called log.txt with one line."]), s).done;
    expect(first.code).toBe(0);
    const id = threadIdOf(first.stdout);
    const dir = join(s.codexHome, "sessions", id);
    const before = (await jsonLines(join(dir, "session_oai_raw.log"))).length;
    const second = await spawnCli(
      ["--persist-session", "--debug-log", "resume.log"],
      codexExecArgs(mock, "turn2", ["resume", id, "Now add a second line to log.txt."]),
      s,
    ).done;
    expect(second.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(["resume.log", "rollout.jsonl", "session.log", "session_meta.log", "session_oai_raw.log"]);
    const meta = await jsonLines(join(dir, "session_meta.log"));
    expect(meta.map((m) => m.type)).toEqual(["started", "exited", "resumed", "exited"]);
    expect(meta[2]).toMatchObject({ session_id: id });
    expect((await jsonLines(join(dir, "session_oai_raw.log"))).length).toBeGreaterThan(before);
    expect((await lines(join(dir, "resume.log"))).at(-1)).toMatch(/agent exited with code 0$/);
    const dated = await findRolloutPath(s.codexHome, id);
    expect((await stat(join(dir, "rollout.jsonl"))).ino).toBe((await stat(dated!)).ino);
    await expectNoSecretUnder(s.root);
  });

  it("an absolute --debug-log path is used as given", async () => {
    const s = await scratch();
    const logPath = join(s.root, "codex-debug.log");
    const r = await spawnCli(["--persist-session", "--debug-log", logPath], codexExecArgs(mock, "qa", ["What is the capital of France?"]), s).done;
    expect(r.code).toBe(0);
    const dir = join(s.codexHome, "sessions", threadIdOf(r.stdout));
    expect((await readdir(dir)).sort()).toEqual(["rollout.jsonl", "session_meta.log", "session_oai_raw.log"]);
    expect((await lines(logPath)).at(-1)).toMatch(/agent exited with code 0$/);
  });

  it("without --persist-session writes nothing Codex would not write itself", async () => {
    const plain = await scratch();
    const wrapped = await scratch();
    const args = ["List the files here, then create hello.txt containing hello."];
    const a = await spawnProcess(codexExecArgs(mock, "shell", args), plain).done;
    const b = await spawnCli([], codexExecArgs(mock, "shell", args), wrapped).done;
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(b.stderr).not.toMatch(/sessionvault/);
    const shape = async (s: Scratch) =>
      (await listFiles(s.root))
        .map((f) =>
          f
            .replace(/rollout-[\dT-]+-[0-9a-f-]{36}\.jsonl$/, "rollout-*.jsonl")
            .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>"),
        )
        // SQLite's -wal/-shm files come and go with Codex's background checkpoints, wrapped or not.
        .filter((f) => !/\.sqlite-(wal|shm)$/.test(f))
        .sort();
    expect(await shape(wrapped)).toEqual(await shape(plain));
    const sessions = await readdir(join(wrapped.codexHome, "sessions"));
    expect(sessions.every((n) => /^\d{4}$/.test(n))).toBe(true);
    expect(
      b.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).type),
    ).toEqual(
      a.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).type),
    );
  });

  it("exits with the agent's exit code", async () => {
    const s = await scratch();
    const r = await spawnCli(["--persist-session"], codexExecArgs(mock, "apierror", ["This request will fail on the server side."]), s).done;
    expect(r.code).toBe(1);
    const meta = await jsonLines(join(s.codexHome, "sessions", threadIdOf(r.stdout), "session_meta.log"));
    expect(meta.at(-1)).toMatchObject({ type: "exited", code: 1 });
    expect(meta.some((m) => m.type === "error")).toBe(true);
  });
});

describe("sessionvault run --persist-session: secrets and sub-agents", () => {
  it("no secret from a known list reaches any file sessionvault writes; the API keys reach no file at all", async () => {
    const headerSecret = "xk-live-7d1c0ffee0ddba11cafe5eed";
    const s = await scratch(undefined, `http_headers = { "x-api-key" = "${headerSecret}" }\n`);
    const inPrompt = [
      "ghp_0123456789abcdefghijABCDEFGHIJ012345",
      "AKIAIOSFODNN7EXAMPLE",
      "sk-proj-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210",
      "glpat-abcdefghij0123456789",
    ];
    const prompt = `Deploy with GITHUB_TOKEN=${inPrompt[0]} and aws key ${inPrompt[1]}; openai ${inPrompt[2]}; gitlab ${inPrompt[3]}. What is the capital of France?`;
    const r = await spawnCli(["--persist-session", "--log-level", "debug"], codexExecArgs(mock, "qa", [prompt]), s).done;
    expect(r.code).toBe(0);
    const id = threadIdOf(r.stdout);
    const dir = join(s.codexHome, "sessions", id);
    const ours = ["session.log", "session_meta.log", "session_oai_raw.log"];
    for (const f of ours) {
      const text = await readFile(join(dir, f), "utf8");
      for (const secret of [FAKE_KEY, headerSecret, ...inPrompt]) expect(text.includes(secret), `${f} holds ${secret}`).toBe(false);
    }
    // The prompt itself is still there, only the secrets in it are masked.
    const raw = await readFile(join(dir, "session_oai_raw.log"), "utf8");
    expect(raw).toContain("What is the capital of France?");
    expect(raw).toContain('"x-api-key":"[REDACTED]"');
    expect(await readFile(join(dir, "session_meta.log"), "utf8")).toContain("What is the capital of France?");
    // The credentials Codex sends as headers reach no file under the whole scratch tree (Codex's own files included).
    await expectNoSecretUnder(s.root);
    for (const f of await listFiles(s.root)) {
      if (f === "codex-home/config.toml") continue; // where the user put it
      const buf = await readFile(join(s.root, f)).catch(() => Buffer.alloc(0));
      expect(buf.includes(headerSecret), `${f} holds the x-api-key header value`).toBe(false);
    }
  });

  it("files a sub-agent's exchanges under its own thread id, not under the parent", async () => {
    const s = await scratch();
    const r = await spawnCli(["--persist-session"], codexExecArgs(mock, "subagent", ["Use a sub-agent to create child.txt, wait for it, then close it."]), s)
      .done;
    expect(r.code).toBe(0);
    const parent = threadIdOf(r.stdout);
    const dirs = (await readdir(join(s.codexHome, "sessions"))).filter((n) => n.length === 36);
    expect(dirs).toContain(parent);
    expect(dirs).toHaveLength(2);
    const child = dirs.find((d) => d !== parent)!;
    const childRollout = await jsonLines(join(s.codexHome, "sessions", child, "rollout.jsonl"));
    expect(JSON.stringify(childRollout[0])).toContain(parent);
    expect((await readdir(join(s.codexHome, "sessions", child))).sort()).toEqual(["rollout.jsonl", "session_oai_raw.log"]);
    const childRaw = (await jsonLines(join(s.codexHome, "sessions", child, "session_oai_raw.log"))) as Raw[];
    const parentRaw = (await jsonLines(join(s.codexHome, "sessions", parent, "session_oai_raw.log"))) as Raw[];
    for (const q of childRaw.filter((x) => x.type === "request")) expect(q.headers!["thread-id"]).toBe(child);
    for (const q of parentRaw.filter((x) => x.type === "request")) expect(q.headers!["thread-id"]).toBe(parent);
    // 0.169 and later name the root session in the sub-agent's session-id header: that must not have decided the filing.
    expect(childRaw.some((x) => x.type === "request" && x.headers!["session-id"] === parent)).toBe(true);
    const meta = await jsonLines(join(s.codexHome, "sessions", parent, "session_meta.log"));
    expect(meta).toContainEqual(expect.objectContaining({ type: "subagent", session_id: child }));
  });

  it("routes Codex's built-in openai provider (WebSocket first, then HTTP) through the proxy", async () => {
    const s = await scratch();
    await writeFile(
      join(s.codexHome, "config.toml"),
      'model = "gpt-5.5"\nmodel_provider = "openai"\napproval_policy = "never"\nsandbox_mode = "danger-full-access"\ncheck_for_update_on_startup = false\n[analytics]\nenabled = false\n[feedback]\nenabled = false\n',
    );
    const apiKey = "sk-test-openaiprovider0123456789abcdefgh";
    const agent = [CODEX_BIN, "exec", "--json", "--skip-git-repo-check", "What is the capital of France?"];
    const r = await spawnCli(["--persist-session"], agent, s, { env: { MOCK_API_KEY: undefined, CODEX_API_KEY: apiKey, OPENAI_BASE_URL: mock.baseUrl("qa") } })
      .done;
    expect(r.code).toBe(0);
    const id = threadIdOf(r.stdout);
    const raw = (await jsonLines(join(s.codexHome, "sessions", id, "session_oai_raw.log"))) as Raw[];
    const requests = raw.filter((x) => x.type === "request");
    // The mock speaks no WebSocket: Codex's upgrade attempts went through the proxy and were refused, then it used HTTP.
    expect(requests.some((q) => q.method === "GET" && q.headers!.upgrade === "websocket")).toBe(true);
    const post = requests.find((q) => q.method === "POST")!;
    expect(post.url).toBe(`${mock.baseUrl("qa")}/responses`);
    expect(post.headers!.authorization).toBe("Bearer [REDACTED]");
    expect(raw.some((x) => x.type === "event" && x.event === "response.completed")).toBe(true);
    for (const f of await listFiles(s.root)) {
      const buf = await readFile(join(s.root, f)).catch(() => Buffer.alloc(0));
      expect(buf.includes(apiKey), `${f} holds the API key`).toBe(false);
    }
  });

  it("--store writes the captured streams into that store instead of the Codex home", async () => {
    const s = await scratch();
    const archive = join(s.root, "archive");
    const r = await spawnCli(
      ["--persist-session", "--store", archive],
      codexExecArgs(mock, "shell", ["List the files here, then create hello.txt containing hello."]),
      s,
    ).done;
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/sessionvault: /);
    const id = threadIdOf(r.stdout);
    expect((await readdir(join(s.codexHome, "sessions"))).filter((n) => n.length === 36)).toEqual([]);
    const store = new FsStore({ root: archive });
    try {
      const read = async (stream: string) => {
        const out: string[] = [];
        for await (const l of store.readStream(id, stream)) out.push(l);
        return out;
      };
      const meta = (await read("meta-events")).map((l) => JSON.parse(l).type);
      expect(meta[0]).toBe("started");
      expect(meta.at(-1)).toBe("exited");
      const raw = (await read("raw-api")).map((l) => JSON.parse(l) as Raw);
      expect(raw.filter((x) => x.type === "request").length).toBe(3);
      expect((await read("debug-log")).some((l) => l.includes("agent exited with code 0"))).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe("sessionvault run when the session directory cannot be written", () => {
  it("warns once, Codex still completes, and no session directory or partial file is left", async () => {
    const asRoot = process.getuid?.() === 0;
    // Root ignores permissions: run the whole thing as an unprivileged user instead.
    const owner = asRoot ? { uid: 65534, gid: 65534 } : undefined;
    const s = await scratch(owner);
    // Codex may still write its dated tree; only <home>/sessions/<id>/ cannot be created.
    const now = new Date();
    const dated = join(
      s.codexHome,
      "sessions",
      String(now.getUTCFullYear()),
      String(now.getUTCMonth() + 1).padStart(2, "0"),
      String(now.getUTCDate()).padStart(2, "0"),
    );
    await mkdir(dated, { recursive: true });
    if (owner) {
      const { chown } = await import("node:fs/promises");
      for (const p of [join(s.codexHome, "sessions"), join(dated, "../.."), join(dated, ".."), dated]) await chown(p, owner.uid, owner.gid);
    }
    await chmod(join(s.codexHome, "sessions"), 0o555);
    const repo = owner ? await reachableRepo(owner) : null;
    const agent = codexExecArgs(mock, "qa", ["What is the capital of France?"]);
    if (repo) agent[0] = repo.codexBin;
    const r = await spawnProcess([process.execPath, repo?.cliBin ?? CLI_BIN, "run", "--persist-session", "--", ...agent], s, owner ?? {}).done.finally(() =>
      repo?.remove(),
    );
    await chmod(join(s.codexHome, "sessions"), 0o755);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("sessionvault:"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^sessionvault: warning: cannot write the session directory for [0-9a-f-]{36}: .*(EACCES|permission denied).*; the agent keeps running without session capture$/i,
    );
    const id = threadIdOf(r.stdout);
    expect(r.stdout).toContain('"type":"turn.completed"');
    expect(await findRolloutPath(s.codexHome, id)).not.toBeNull();
    const entries = await readdir(join(s.codexHome, "sessions"));
    expect(entries).not.toContain(id);
    expect(entries.every((n) => /^\d{4}$/.test(n))).toBe(true);
  });
});

describe("sessionvault run with a killed agent", () => {
  it("SIGINT to sessionvault is forwarded: Codex aborts the turn, files are complete, meta says interrupted and how it exited", async () => {
    const s = await scratch();
    const { child, done } = spawnCli(["--persist-session"], codexExecArgs(mock, "interrupt", ["Run the slow build."]), s);
    // Wait until Codex runs the slow command (the first response is through), then Ctrl-C, as the harness does.
    const id = await waitFor(async () => (await readdir(join(s.codexHome, "sessions")).catch(() => [])).find((n) => n.length === 36));
    await waitFor(async () => (await readFile(join(s.codexHome, "sessions", id, "session_oai_raw.log"), "utf8").catch(() => "")).includes('"response_end"'));
    await waitFor(async () => runsProgram(child.pid!, "sleep"));
    child.kill("SIGINT");
    const r = await done;
    expect(r.code).toBe(1);
    const dir = join(s.codexHome, "sessions", id);
    const meta = await jsonLines(join(dir, "session_meta.log"));
    expect(meta[0]!.type).toBe("started");
    expect(meta).toContainEqual(expect.objectContaining({ type: "interrupted", signal: "SIGINT", source: "sessionvault", forwarded: true }));
    // Codex recorded the aborted turn; the capture picked it up from the rollout.
    expect(meta).toContainEqual(expect.objectContaining({ type: "interrupted", reason: "interrupted" }));
    expect(meta.at(-1)).toMatchObject({ type: "exited", code: 1, signal: null });
    for (const f of ["session_oai_raw.log", "session_meta.log", "rollout.jsonl"]) await jsonLines(join(dir, f));
    expect((await lines(join(dir, "session.log"))).at(-1)).toMatch(/agent exited with code 1$/);
  });

  it("resume --last after an interrupt files only the new run's events", async () => {
    const s = await scratch();
    const { child, done } = spawnCli(["--persist-session"], codexExecArgs(mock, "interrupt", ["Run the slow build."]), s);
    const id = await waitFor(async () => (await readdir(join(s.codexHome, "sessions")).catch(() => [])).find((n) => n.length === 36));
    await waitFor(async () => (await readFile(join(s.codexHome, "sessions", id, "session_oai_raw.log"), "utf8").catch(() => "")).includes('"response_end"'));
    await waitFor(async () => runsProgram(child.pid!, "sleep"));
    child.kill("SIGINT");
    expect((await done).code).toBe(1);
    const again = await spawnCli(["--persist-session"], codexExecArgs(mock, "turn3", ["resume", "--last", "Anything else left to do?"]), s).done;
    expect(again.code).toBe(0);
    const meta = await jsonLines(join(s.codexHome, "sessions", id, "session_meta.log"));
    const resumedAt = meta.findIndex((m) => m.type === "resumed");
    expect(resumedAt).toBeGreaterThan(0);
    expect(meta.slice(0, resumedAt).filter((m) => m.type === "interrupted").length).toBe(2);
    // The earlier turn_aborted is still in the rollout; it must not be filed again for the resumed run.
    expect(meta.slice(resumedAt).map((m) => m.type)).toEqual(["resumed", "exited"]);
  });

  it("SIGKILL of the agent: sessionvault records the signal, exits 137, files are complete", async () => {
    const s = await scratch();
    const { done } = spawnCli(["--persist-session"], codexExecArgs(mock, "interrupt", ["Run the slow build."]), s);
    const id = await waitFor(async () => (await readdir(join(s.codexHome, "sessions")).catch(() => [])).find((n) => n.length === 36));
    const dir = join(s.codexHome, "sessions", id);
    const started = await waitFor(async () => (await readFile(join(dir, "session_meta.log"), "utf8").catch(() => "")).split("\n")[0]);
    const launcher = JSON.parse(started).pid as number;
    // The npm launcher runs the native binary as its child: kill the native agent itself, the launcher mirrors its death.
    const agentPid = await waitFor(async () => {
      const kids = (await readFile(`/proc/${launcher}/task/${launcher}/children`, "utf8").catch(() => "")).trim().split(/\s+/).filter(Boolean).map(Number);
      return kids[0];
    });
    await waitFor(async () => (await readFile(join(dir, "session_oai_raw.log"), "utf8").catch(() => "")).includes('"response_end"'));
    process.kill(agentPid, "SIGKILL");
    const r = await done;
    expect(r.code).toBe(137);
    const meta = await jsonLines(join(dir, "session_meta.log"));
    expect(meta.at(-1)).toMatchObject({ type: "exited", code: null, signal: "SIGKILL" });
    for (const f of ["session_oai_raw.log", "session_meta.log"]) await jsonLines(join(dir, f));
    expect((await lines(join(dir, "session.log"))).at(-1)).toMatch(/agent exited with signal SIGKILL$/);
    const dated = await findRolloutPath(s.codexHome, id);
    expect((await stat(join(dir, "rollout.jsonl"))).ino).toBe((await stat(dated!)).ino);
  });
});
