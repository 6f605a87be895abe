import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CLI_DIR } from "./codex-harness.js";

/** Every descendant of `pid` (children first found, then theirs), from /proc. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid …; comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(name), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** Whether a descendant of `pid` runs the program `comm` (e.g. the agent's `sleep` is running). */
export function runsProgram(pid: number, comm: string): boolean {
  return descendants(pid).some((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, "utf8").trim() === comm;
    } catch {
      return false;
    }
  });
}

/** kill -9 a set of processes (each may already be gone). */
export function killAll(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/**
 * Child processes run the CLI's bundle, dist/bin.js (turbo builds it before
 * `test`); refuse one older than the sources it is meant to test.
 */
export function assertCliBuilt(sources: string[]): void {
  const built = join(CLI_DIR, "dist", "bin.js");
  if (!existsSync(built)) throw new Error(`${built} is missing: build the CLI first (pnpm turbo run build --filter=@sessionvault/cli...)`);
  for (const src of sources)
    if (statSync(built).mtimeMs < statSync(join(CLI_DIR, "src", src)).mtimeMs) throw new Error(`${built} is older than src/${src}: rebuild the CLI`);
}
