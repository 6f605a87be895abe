import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { withLock } from "../src/file-lock.js";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const BUILT_LOCK = fileURLToPath(new URL("../dist/file-lock.js", import.meta.url));

/**
 * Another process asks for the lock, waiting at most `timeoutMs`: its error message, or "" once it got it.
 * `afterNote`: it first waits until the lock file holds a note (read there: a read in the holder's
 * process would drop the holder's lock, POSIX locks being per process).
 */
function lockFromAnotherProcess(lockPath: string, timeoutMs: number, afterNote = false): Promise<string> {
  const script = `
    const { readFileSync } = await import("node:fs");
    const { withLock } = await import(${JSON.stringify(BUILT_LOCK)});
    while (${afterNote} && readFileSync(process.argv[1], "utf8") === "") await new Promise((r) => setTimeout(r, 10));
    try {
      await withLock(process.argv[1], async () => {}, { timeoutMs: ${timeoutMs} });
    } catch (err) {
      process.stdout.write(err.message);
    }`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", script, lockPath], (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

it("a lock released at once leaves its file empty; a holder names itself in a lock it keeps, and a waiter in another process names it when it gives up", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sv-lock-"));
  dirs.push(dir);
  const lockPath = join(dir, "locks", "s.lock");
  // A sync takes a lock per session: a note in every lock file was a data block to allocate and write back each time.
  await withLock(lockPath, async () => {});
  expect(readFileSync(lockPath, "utf8")).toBe("");
  // An earlier holder's note does not stay to name it as the holder of a later lock.
  writeFileSync(lockPath, "elsewhere pid 1 owner gone");
  await withLock(lockPath, async () => {});
  expect(readFileSync(lockPath, "utf8")).toBe("");

  // Held for a while: the note appears, and names this process to the waiter.
  const message = await withLock(lockPath, () => lockFromAnotherProcess(lockPath, 200, true));
  expect(message).toContain(`is held by ${hostname()} pid ${process.pid} owner `);
  expect(message).toContain("for more than 200 ms");
  // Released: the other process gets it.
  expect(await lockFromAnotherProcess(lockPath, 5000)).toBe("");
}, 30_000);
