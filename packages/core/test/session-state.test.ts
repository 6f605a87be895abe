import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidIdError, InvalidInputError, IoError, SessionStateFile, UnsupportedError } from "@sessionvault/core";

const ID1 = "019a0000-0000-7000-8000-000000000001";
const ID2 = "019a0000-0000-7000-8000-000000000002";

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sv-state-"));
  file = join(dir, "sub", "state.json");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("SessionStateFile", () => {
  it("persists slots across instances and keeps other slots on update", async () => {
    const a = new SessionStateFile(file);
    expect(await a.get("pane-1")).toBeNull();
    const written = await a.set("pane-1", { session_id: ID1, agent: "codex", cwd: "/work", extra: { n: 1 } });
    expect(written.updated_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    await a.set("ci-job.17", { session_id: ID2, agent: "codex", cwd: "/ci" });

    const b = new SessionStateFile(file);
    expect(await b.get("pane-1")).toEqual({ session_id: ID1, agent: "codex", cwd: "/work", extra: { n: 1 }, updated_at: written.updated_at });
    expect((await b.list()).map((e) => [e.slot, e.record.session_id])).toEqual([
      ["ci-job.17", ID2],
      ["pane-1", ID1],
    ]);
    const doc = JSON.parse(readFileSync(file, "utf8"));
    expect(doc.version).toBe(1);
    expect(Object.keys(doc.slots)).toEqual(["ci-job.17", "pane-1"]);

    expect(await b.clear("pane-1")).toBe(true);
    expect(await b.clear("pane-1")).toBe(false);
    expect(await a.get("pane-1")).toBeNull();
    expect(await a.get("ci-job.17")).not.toBeNull();
    // No temp or lock files are left behind by successful writes.
    expect(readdirSync(join(dir, "sub")).sort()).toEqual(["state.json"]);
  });

  it("refuses slot names that are paths and ids that are not UUIDs, leaving the file intact", async () => {
    const s = new SessionStateFile(file);
    await s.set("ok", { session_id: ID1, agent: "codex", cwd: "/" });
    const before = readFileSync(file);
    for (const bad of ["../x", "a/b", "", "Upper", ".hidden", "x".repeat(65)]) {
      await expect(s.set(bad, { session_id: ID1, agent: "codex", cwd: "/" })).rejects.toBeInstanceOf(InvalidIdError);
      await expect(s.get(bad)).rejects.toBeInstanceOf(InvalidIdError);
    }
    await expect(s.set("ok2", { session_id: "--last", agent: "codex", cwd: "/" })).rejects.toBeInstanceOf(InvalidIdError);
    await expect(s.set("ok2", { session_id: ID1, agent: "", cwd: "/" })).rejects.toBeInstanceOf(InvalidInputError);
    expect(readFileSync(file)).toEqual(before);
  });

  it("a slot named like an Object.prototype member is just a slot", async () => {
    const s = new SessionStateFile(file);
    expect(await s.get("constructor")).toBeNull();
    await s.set("constructor", { session_id: ID1, agent: "codex", cwd: "/" });
    expect((await new SessionStateFile(file).get("constructor"))?.session_id).toBe(ID1);
  });

  describe("a corrupt state file is reported and set aside, never silently reset", () => {
    const cases: Array<[string, Buffer]> = [
      ["garbage", Buffer.from("{not json")],
      ["torn JSON", Buffer.from('{"version":1,"slots":{"a":{"session_id":"')],
      ["bad UTF-8", Buffer.concat([Buffer.from('{"version":1,"slots":{},"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])],
      ["wrong shape", Buffer.from('{"version":1,"slots":[]}')],
      ["bad record", Buffer.from('{"version":1,"slots":{"a":{"session_id":1}}}')],
      ["path as slot", Buffer.from(`{"version":1,"slots":{"../x":{"session_id":"${ID1}","agent":"a","cwd":"/","updated_at":"t"}}}`)],
      ["no version", Buffer.from('{"slots":{}}')],
      ["empty file", Buffer.alloc(0)],
    ];
    for (const [name, bytes] of cases) {
      it(`${name}: warning names the file, original bytes kept aside, writes continue`, async () => {
        const warnings: string[] = [];
        const s = new SessionStateFile(file, { onWarning: (m) => warnings.push(m) });
        await s.set("seed", { session_id: ID1, agent: "codex", cwd: "/" });
        writeFileSync(file, bytes);

        expect(await s.get("a")).toBeNull();
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain(file);
        expect(warnings[0]).toMatch(/corrupt/);
        const aside = readdirSync(join(dir, "sub")).filter((n) => n.startsWith("state.json.corrupt-"));
        expect(aside).toHaveLength(1);
        expect(warnings[0]).toContain(aside[0]);
        expect(readFileSync(join(dir, "sub", aside[0]!))).toEqual(bytes);
        expect(existsSync(file)).toBe(false);

        await s.set("b", { session_id: ID2, agent: "codex", cwd: "/" });
        expect((await s.list()).map((e) => e.slot)).toEqual(["b"]);
        expect(warnings).toHaveLength(1);
      });
    }

    it("without a warning handler the corruption is raised as an error (after setting the file aside)", async () => {
      writeFileSync(join(dir, "state.json"), "garbage");
      const s = new SessionStateFile(join(dir, "state.json"));
      const err = await s.set("a", { session_id: ID1, agent: "codex", cwd: "/" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as Error).message).toContain(join(dir, "state.json"));
      expect(readdirSync(dir).filter((n) => n.startsWith("state.json.corrupt-"))).toHaveLength(1);
      // The next write starts from an empty state.
      await s.set("a", { session_id: ID1, agent: "codex", cwd: "/" });
      expect((await s.get("a"))?.session_id).toBe(ID1);
    });

    it("a file from a newer version is refused and left where it is", async () => {
      const content = '{"version":2,"slots":{"a":{"future":true}}}';
      writeFileSync(join(dir, "state.json"), content);
      const s = new SessionStateFile(join(dir, "state.json"), { onWarning: () => {} });
      await expect(s.get("a")).rejects.toBeInstanceOf(UnsupportedError);
      await expect(s.set("a", { session_id: ID1, agent: "codex", cwd: "/" })).rejects.toBeInstanceOf(UnsupportedError);
      expect(readFileSync(join(dir, "state.json"), "utf8")).toBe(content);
      expect(readdirSync(dir)).toEqual(["state.json"]);
    });
  });

  describe("lock", () => {
    it("takes over a lock left by a dead process and removes its leftovers", async () => {
      const pid = deadPid();
      const lockDir = join(dir, "sub");
      new SessionStateFile(file); // no I/O in the constructor
      expect(existsSync(lockDir)).toBe(false);
      const { mkdirSync } = await import("node:fs");
      mkdirSync(lockDir, { recursive: true });
      writeFileSync(`${file}.lock`, JSON.stringify({ pid, host: hostname(), nonce: "dead", acquired_at: new Date().toISOString() }));
      writeFileSync(`${file}.tmp-${pid}-abc`, "half a state file");
      writeFileSync(`${file}.lock.${pid}.dead`, "x");
      const warnings: string[] = [];
      const s = new SessionStateFile(file, { onWarning: (m) => warnings.push(m), lockTimeoutMs: 2_000 });
      await s.set("a", { session_id: ID1, agent: "codex", cwd: "/" });
      expect(warnings.join("\n")).toContain(`stale lock on ${file} left by pid ${pid}`);
      expect(readdirSync(lockDir)).toEqual(["state.json"]);
    });

    it("waits for a live holder and times out with a clear error naming it", async () => {
      const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
      try {
        const { mkdirSync } = await import("node:fs");
        mkdirSync(join(dir, "sub"), { recursive: true });
        writeFileSync(`${file}.lock`, JSON.stringify({ pid: holder.pid, host: hostname(), nonce: "live", acquired_at: new Date().toISOString() }));
        const s = new SessionStateFile(file, { lockTimeoutMs: 300 });
        const err = await s.set("a", { session_id: ID1, agent: "codex", cwd: "/" }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(IoError);
        expect((err as Error).message).toContain(`pid ${holder.pid}`);
        expect(existsSync(file)).toBe(false);

        // Once the holder releases, the writer gets through.
        const s2 = new SessionStateFile(file, { lockTimeoutMs: 5_000 });
        const pending = s2.set("a", { session_id: ID1, agent: "codex", cwd: "/" });
        setTimeout(() => rmSync(`${file}.lock`), 200);
        await pending;
        expect((await s2.get("a"))?.session_id).toBe(ID1);
      } finally {
        holder.kill("SIGKILL");
      }
    });

    it("serialises writers inside one process (no lost updates)", async () => {
      const writers = Array.from({ length: 4 }, () => new SessionStateFile(file));
      await Promise.all(Array.from({ length: 40 }, (_, i) => writers[i % 4]!.set(`w-${i}`, { session_id: ID1, agent: "codex", cwd: "/", i })));
      expect((await writers[0]!.list()).length).toBe(40);
    });
  });
});
