import { readdir, readFile, readlink, realpath } from "node:fs/promises";

/**
 * Which processes hold which files open, from Linux's /proc. Codex keeps
 * its rollout open while it runs, so this tells which agent writes which
 * session. Every function answers null where there is no /proc.
 */

async function processTable(): Promise<Map<number, number> | null> {
  let names: string[];
  try {
    names = await readdir("/proc");
  } catch {
    return null;
  }
  const parents = new Map<number, number>();
  await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n) => {
        try {
          const stat = await readFile(`/proc/${n}/stat`, "utf8");
          // "pid (comm) state ppid …": comm may contain spaces and parentheses.
          parents.set(Number(n), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
        } catch {
          // exited meanwhile
        }
      }),
  );
  return parents;
}

async function openFiles(pid: number): Promise<string[]> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const fd of fds) {
    try {
      out.push(await readlink(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** Files held open by any descendant of this process. */
export async function filesOpenByDescendants(): Promise<Set<string> | null> {
  const parents = await processTable();
  if (!parents) return null;
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const open = new Set<string>();
  const queue = [...(children.get(process.pid) ?? [])];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    queue.push(...(children.get(pid) ?? []));
    for (const f of await openFiles(pid)) open.add(f);
  }
  return open;
}

/** Processes (other than this one) that hold `path` open. */
export async function processesHolding(path: string): Promise<number[] | null> {
  const parents = await processTable();
  if (!parents) return null;
  const target = await realpath(path).catch(() => path);
  const out: number[] = [];
  for (const pid of parents.keys()) {
    if (pid === process.pid) continue;
    if ((await openFiles(pid)).includes(target)) out.push(pid);
  }
  return out;
}

/**
 * Processes (other than this one and its ancestors) with `arg` as one of their command-line
 * arguments. Claude Code does not keep its transcript open between writes,
 * but every run of a session names it (`--session-id <id>`, `--resume
 * <id>`), so this tells which agent still runs that session.
 */
export async function processesNaming(arg: string): Promise<number[] | null> {
  const parents = await processTable();
  if (!parents) return null;
  // This process and the ones that started it (a shell, npx) name the session too when it was given as an id.
  const ancestors = new Set<number>();
  for (let pid: number | undefined = process.pid; pid !== undefined && pid > 0 && !ancestors.has(pid); pid = parents.get(pid)) ancestors.add(pid);
  const out: number[] = [];
  for (const pid of parents.keys()) {
    if (ancestors.has(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`).catch(() => null);
    if (cmdline?.toString("utf8").split("\0").includes(arg)) out.push(pid);
  }
  return out;
}
