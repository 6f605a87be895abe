import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { generateClaudeHome, generateGeminiHome } from "@sessionvault/testing/agent-homes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * A restore into an empty agent home, killed with SIGKILL part-way (mid
 * append or between sessions) and run again: every transcript the agent
 * would read is byte-identical to the source, none holds a line twice.
 */
const CLI_BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const KILLS = 4;

let dir: string;
beforeAll(async () => {
  if (!existsSync(CLI_BIN)) throw new Error(`${CLI_BIN} is missing: build the CLI first (pnpm turbo run build)`);
  dir = await mkdtemp(join(tmpdir(), "sv-agent-kill-"));
  generateClaudeHome(join(dir, "from", ".claude"), { sessions: 300, groups: 5, bigEvery: 3 });
  generateGeminiHome(join(dir, "from", ".gemini"), { sessions: 200, groups: 5 });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Transcript files under a home (Claude Code `projects/`, Gemini CLI `tmp/*\/chats/`), by path relative to it, with their sizes. */
function transcripts(root: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p);
      else if (st && n.endsWith(".jsonl")) out.set(relative(root, p), st.size);
    }
  };
  walk(join(root, "projects"));
  walk(join(root, "tmp"));
  return out;
}

function runSync(from: string, to: string, onSpawn?: (kill: () => void) => void): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_BIN, "sync", "--from", from, "--to", to, "--json"], {
      env: { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, "cache") },
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code, signal) => resolve({ code, signal, out }));
    onSpawn?.(() => child.kill("SIGKILL"));
  });
}

describe.each([".claude", ".gemini"])("a sync into an empty %s killed and rerun", (name) => {
  it(`SIGKILL at ${KILLS} points, then a full run: byte-identical transcripts, no line twice, a further run sends nothing`, async () => {
    const from = join(dir, "from", name);
    const to = join(dir, "to", name);
    const source = transcripts(from);
    const totalBytes = [...source.values()].reduce((a, b) => a + b, 0);
    let kills = 0;
    for (let attempt = 0; attempt < KILLS; attempt++) {
      const haveBytes = [...transcripts(to).values()].reduce((a, b) => a + b, 0);
      const killAt = haveBytes + 1 + Math.floor(((0.2 + 0.6 * Math.random()) / (KILLS - attempt)) * (totalBytes - haveBytes));
      let stop = false;
      const r = await runSync(from, to, (kill) => {
        void (async () => {
          for (;;) {
            if (stop) return;
            if ([...transcripts(to).values()].reduce((a, b) => a + b, 0) >= killAt) return kill();
            await new Promise((res) => setImmediate(res));
          }
        })();
      });
      stop = true;
      // A run that got past its kill point and finished before the poll saw it is a clean run: it only means one kill fewer.
      if (r.signal === "SIGKILL") kills++;
      else expect(r.code, r.out).toBe(0);
    }
    expect(kills).toBeGreaterThan(0);
    const rest = await runSync(from, to);
    expect(rest.code, rest.out).toBe(0);
    expect(JSON.parse(rest.out).errors).toEqual([]);
    const copied = transcripts(to);
    // Gemini CLI chats go under the sha256 of their cwd (the source has the CLI's short project names): compare by file name.
    const byName = (m: Map<string, number>, root: string) =>
      new Map([...m.keys()].map((k) => [name === ".gemini" ? k.split("/").slice(-2).join("/") : k, join(root, k)]));
    const a = byName(source, from);
    const b = byName(copied, to);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, path] of a) expect(readFileSync(b.get(k)!).equals(readFileSync(path)), k).toBe(true);
    const again = await runSync(from, to);
    expect(JSON.parse(again.out)).toMatchObject({ lines_sent: 0, errors: [] });
  }, 300_000);
});
