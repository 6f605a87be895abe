import { spawn, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const WORKER = fileURLToPath(new URL("./session-state-worker.mjs", import.meta.url));
const SRC = fileURLToPath(new URL("../../src/session-state.ts", import.meta.url));
const DIST = fileURLToPath(new URL("../../dist/session-state.js", import.meta.url));

/**
 * The worker runs core's dist/ (a child process cannot load the TypeScript
 * sources). `pnpm test` builds first; a stale dist/ would test old code, so
 * refuse to run against it.
 */
export function assertDistFresh(): void {
  let dist: number;
  try {
    dist = statSync(DIST).mtimeMs;
  } catch {
    throw new Error(`${DIST} is missing: build core first (pnpm turbo run build --filter=@sessionvault/core)`);
  }
  if (dist < statSync(SRC).mtimeMs) throw new Error(`${DIST} is older than ${SRC}: rebuild core first`);
}

export interface Worker {
  child: ChildProcess;
  /** stdout so far, split into lines. */
  lines(): string[];
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when a stdout line matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
}

export function startWorker(args: string[]): Worker {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => {
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    }),
  );
  const lines = () => out.split("\n").filter(Boolean);
  const waitFor = (re: RegExp, timeoutMs = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker did not print ${re} within ${timeoutMs} ms; stdout tail: ${lines().slice(-3).join(" | ")}; stderr: ${err}`)),
        timeoutMs,
      );
      const check = () => {
        const hit = lines().find((l) => re.test(l));
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`worker exited (${child.exitCode ?? child.signalCode}) before printing ${re}; stderr: ${err}`));
        } else waiters.push(check);
      };
      check();
    });
  return { child, lines, stderr: () => err, exited, waitFor };
}
