import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileLines, type LineWarning } from "@sessionvault/core";
import { sessionHeadLines } from "@sessionvault/core/conformance";
import { FsStore } from "@sessionvault/fs-store";

/**
 * Crash safety (issue 2, "Done when"): a child process writes through
 * WriterQueue into fs-store and is SIGKILLed at random points, many times.
 * After every kill: each line acknowledged by flush() is in the file exactly
 * once, lines are contiguous (nothing lost, nothing duplicated), and apart
 * from a torn last line (not committed) the file reads cleanly. The next
 * writer continues from the committed position and cuts the torn tail.
 */
const CHILD = fileURLToPath(new URL("./support/crash-writer.mjs", import.meta.url));
const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const ITERATIONS = Number(process.env.SV_CRASH_ITERATIONS ?? 20);
const ID = "01a1fd77-0000-7000-8000-00000000c4a5";

let root: string;

beforeAll(async () => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build fs-store first (pnpm turbo run build --filter=@sessionvault/fs-store...)`);
  root = await mkdtemp(join(tmpdir(), "sv-crash-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function readAll(path: string): Promise<{ lines: string[]; warnings: LineWarning[] }> {
  const lines: string[] = [];
  const warnings: LineWarning[] = [];
  for await (const l of readFileLines(path, { onWarning: (w) => warnings.push(w) })) lines.push(l.text);
  return { lines, warnings };
}

/** Starts a writer, waits until it has opened the stream (its "start" line), then kills it after `killAfterMs`. */
function runAndKill(ackFile: string, seed: number, killAfterMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, root, ID, ackFile, String(seed)], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on("data", (d) => (stderr += d));
    // Start the clock once the writer is running, so a slow machine still kills it mid-stream.
    const poll = setInterval(() => {
      void readFile(ackFile, "utf8").then(
        (text) => {
          if (timer || !text.startsWith("start ")) return;
          clearInterval(poll);
          timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
        },
        () => {},
      );
    }, 10);
    child.on("exit", (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      if (signal === "SIGKILL") resolve();
      else reject(new Error(`writer exited on its own (code ${code}): ${stderr}`));
    });
  });
}

describe("fs-store under SIGKILL", () => {
  it(`keeps every acknowledged line exactly once over ${ITERATIONS} kills`, async () => {
    const store = new FsStore({ root });
    const input = {
      id: ID,
      created_at: "2026-11-21T09:00:00.000Z",
      cwd: "/w",
      title: "crash test",
      archived: false,
      source: "exec",
      originator: "codex_exec",
      cli_version: "0.169.0",
      model_provider: "mock",
      git: null,
      parent_id: null,
      forked_from_id: null,
    };
    await store.putSession(input);
    const head = sessionHeadLines(input);
    await store.append(ID, "rollout", 0, head);
    const path = (await store.streamFile(ID, "rollout"))!;

    let tornSeen = 0;
    let maxAcked = head.length;
    for (let it = 0; it < ITERATIONS; it++) {
      const ackFile = join(root, `acks-${it}`);
      await runAndKill(ackFile, it + 1, 20 + Math.floor(Math.random() * 400));
      const acks = (await readFile(ackFile, "utf8").catch(() => ""))
        .split("\n")
        .filter((l) => l.startsWith("ack "))
        .map((l) => Number(l.slice(4)));
      const { lines, warnings } = await readAll(path);
      // Only a torn last line may be reported; every other line is committed and whole.
      expect(warnings.filter((w) => w.kind !== "torn-last-line")).toEqual([]);
      tornSeen += warnings.length;
      expect(lines.slice(0, head.length)).toEqual(head);
      const numbers = lines.slice(head.length).map((l) => (JSON.parse(l) as { payload: { i: number } }).payload.i);
      // Contiguous from the head: nothing lost, nothing duplicated, in order.
      for (const [k, n] of numbers.entries()) expect(n).toBe(head.length + k);
      const acked = Math.max(maxAcked, ...acks);
      expect(lines.length).toBeGreaterThanOrEqual(acked);
      maxAcked = acked;
    }
    // Lines were acknowledged along the way, so the test exercised real progress.
    expect(maxAcked).toBeGreaterThan(head.length + 50);

    // A final writer continues from the committed position; afterwards the file has no torn tail.
    const before = (await readAll(path)).lines.length;
    const pos = (await store.streamPositions(ID)).find((s) => s.name === "rollout")!.lines;
    expect(pos).toBe(before);
    const extra = JSON.stringify({ timestamp: new Date().toISOString(), type: "event_msg", payload: { type: "crash_test", i: pos, pad: "" } });
    await store.append(ID, "rollout", pos, [extra]);
    const after = await readAll(path);
    expect(after.warnings).toEqual([]);
    expect(after.lines.length).toBe(before + 1);
    expect(after.lines.at(-1)).toBe(extra);
    // Report how often a kill landed mid-write (not asserted: it is random). A killed
    // writer's lock is dropped by the kernel, so each next writer started at once.
    console.log(`crash test: ${ITERATIONS} kills, ${tornSeen} left a torn last line, ${maxAcked} lines acknowledged`);
    await store.close();
  }, 180_000);
});
