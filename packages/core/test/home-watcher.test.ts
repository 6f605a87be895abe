import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { HomeWatcher } from "../src/watch/home-watcher.js";

/** The watch under `sync --watch`, on real folders: every wait is for the watcher's own signal, bounded by a deadline. */
const DEADLINE_MS = 30_000;
let dir: string;
let w: HomeWatcher;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-home-watcher-"));
});
afterEach(async () => {
  w?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Takes changes until `path` is among them. */
async function seen(path: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  const all = new Set<string>();
  while (!all.has(path)) {
    if (Date.now() > deadline) throw new Error(`${path} not reported within ${DEADLINE_MS} ms; saw ${[...all].join(", ")}`);
    await Promise.race([w.changed(), new Promise((r) => setTimeout(r, deadline - Date.now()))]);
    for (const p of w.take()) all.add(p);
  }
}

it("reports files written in folders made after it started, however deep, and in a folder removed and made again", async () => {
  mkdirSync(join(dir, "sessions", "2026", "12", "01"), { recursive: true });
  writeFileSync(join(dir, "sessions", "2026", "12", "01", "old.jsonl"), "a\n");
  w = new HomeWatcher(dir);
  expect(w.start()).toBe(true);
  expect(w.watching).toBe(true);

  appendFileSync(join(dir, "sessions", "2026", "12", "01", "old.jsonl"), "b\n");
  await seen(join("sessions", "2026", "12", "01", "old.jsonl"));

  // A new month and day folder and a file in it, made in one go.
  mkdirSync(join(dir, "sessions", "2026", "13", "02"), { recursive: true });
  writeFileSync(join(dir, "sessions", "2026", "13", "02", "new.jsonl"), "a\n");
  await seen(join("sessions", "2026", "13", "02", "new.jsonl"));
  appendFileSync(join(dir, "sessions", "2026", "13", "02", "new.jsonl"), "b\n");
  await seen(join("sessions", "2026", "13", "02", "new.jsonl"));

  // A session folder moved out (retention's soft delete) and back.
  mkdirSync(join(dir, "sessions", "s1"));
  writeFileSync(join(dir, "sessions", "s1", "x.log"), "1\n");
  await seen(join("sessions", "s1", "x.log"));
  await rm(join(dir, "sessions", "s1"), { recursive: true });
  mkdirSync(join(dir, "sessions", "s1"));
  writeFileSync(join(dir, "sessions", "s1", "y.log"), "1\n");
  await seen(join("sessions", "s1", "y.log"));
  appendFileSync(join(dir, "sessions", "s1", "y.log"), "2\n");
  await seen(join("sessions", "s1", "y.log"));
});

it("cannot watch a folder that is not there, and says why", () => {
  w = new HomeWatcher(join(dir, "missing"));
  expect(w.start()).toBe(false);
  expect(w.watching).toBe(false);
  expect(w.failure).not.toBeNull();
});
