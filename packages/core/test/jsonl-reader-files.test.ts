import { spawn, spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compress, init as initZstd } from "@bokuweb/zstd-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidInputError, openFileBytes, readFileLines, readJsonLines, type LineWarning, type RawLine } from "@sessionvault/core";

const FIXTURE_SESSIONS = fileURLToPath(new URL("../../../fixtures/codex/0.169.0/sessions/", import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-jsonl-"));
  await initZstd();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, bytes: string | Buffer | Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

async function lines(path: string): Promise<{ lines: RawLine[]; warnings: LineWarning[] }> {
  const warnings: LineWarning[] = [];
  const out: RawLine[] = [];
  for await (const l of readFileLines(path, { onWarning: (w) => warnings.push(w) })) out.push(l);
  return { lines: out, warnings };
}

async function values(path: string) {
  const warnings: LineWarning[] = [];
  const out: { lineNo: number; value: unknown }[] = [];
  for await (const l of readJsonLines(openFileBytes(path), { onWarning: (w) => warnings.push(w) })) out.push({ lineNo: l.lineNo, value: l.value });
  return { values: out, warnings };
}

const joined = (ls: RawLine[]) => Buffer.from(ls.map((l) => `${l.text}\n`).join(""), "utf8");

async function firstFixtureRollout(): Promise<string> {
  const walk = async (d: string): Promise<string[]> => {
    const out: string[] = [];
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) out.push(...(await walk(join(d, e.name))));
      else if (e.name.endsWith(".jsonl")) out.push(join(d, e.name));
    }
    return out;
  };
  const all = (await walk(FIXTURE_SESSIONS)).sort();
  expect(all.length).toBeGreaterThan(0);
  return all[0]!;
}

describe("JSONL files", () => {
  it("handles a BOM and CRLF line endings, and stays byte-exact", async () => {
    const bytes = Buffer.from('\uFEFF{"a":1}\r\n{"b":"é"}\r\n', "utf8");
    const p = await file("bom-crlf.jsonl", bytes);
    const { lines: ls, warnings } = await lines(p);
    expect(ls.map((l) => l.text)).toEqual(['\uFEFF{"a":1}\r', '{"b":"é"}\r']);
    expect(ls.map((l) => l.byteLength)).toEqual([11, 11]);
    expect(joined(ls).equals(bytes)).toBe(true);
    expect(warnings).toEqual([]);
    expect((await values(p)).values.map((v) => v.value)).toEqual([{ a: 1 }, { b: "é" }]);
  });

  it("skips blank lines (also whitespace-only and CRLF-blank) when reading values, but keeps them as raw lines", async () => {
    const bytes = Buffer.from('\n{"a":1}\n\n   \n\r\n{"b":2}\n', "utf8");
    const p = await file("blank.jsonl", bytes);
    const { lines: ls } = await lines(p);
    expect(ls).toHaveLength(6);
    expect(joined(ls).equals(bytes)).toBe(true);
    const { values: vs, warnings } = await values(p);
    expect(vs).toEqual([
      { lineNo: 2, value: { a: 1 } },
      { lineNo: 6, value: { b: 2 } },
    ]);
    expect(warnings).toEqual([]);
  });

  it("counts each garbage line with its line number and goes on", async () => {
    const p = await file("garbage.jsonl", '{"ok":1}\n{not json\n{"ok":2}\n}{\n\u0000\u0001binary\n{"ok":3}\n');
    const { values: vs, warnings } = await values(p);
    expect(vs.map((v) => v.value)).toEqual([{ ok: 1 }, { ok: 2 }, { ok: 3 }]);
    expect(vs.map((v) => v.lineNo)).toEqual([1, 3, 6]);
    expect(warnings.map((w) => [w.kind, w.lineNo])).toEqual([
      ["unparsable", 2],
      ["unparsable", 4],
      ["unparsable", 5],
    ]);
    expect(warnings[0]!.message).toMatch(/line 2/);
  });

  it("bad UTF-8: skipped by default, or kept with replacement characters so the line count stays the position", async () => {
    const p = await file("bad-utf8.jsonl", Buffer.concat([Buffer.from('{"a":1}\n{"b":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"c":3}\n')]));
    const skipped = await lines(p);
    expect(skipped.lines.map((l) => l.lineNo)).toEqual([1, 3]);
    expect(skipped.warnings.map((w) => [w.kind, w.lineNo])).toEqual([["invalid-utf8", 2]]);

    const warnings: LineWarning[] = [];
    const kept: RawLine[] = [];
    for await (const l of readFileLines(p, { invalidUtf8: "replace", onWarning: (w) => warnings.push(w) })) kept.push(l);
    expect(kept.map((l) => l.text)).toEqual(['{"a":1}', '{"b":"\uFFFD\uFFFD"}', '{"c":3}']);
    expect(kept[1]!.byteLength).toBe(10);
    expect(warnings.map((w) => [w.kind, w.lineNo])).toEqual([["invalid-utf8", 2]]);
  });

  it("does not yield a torn last line, and reports it", async () => {
    const p = await file("torn.jsonl", '{"a":1}\n{"b":2}\n{"c":');
    const { lines: ls, warnings } = await lines(p);
    expect(ls.map((l) => l.text)).toEqual(['{"a":1}', '{"b":2}']);
    expect(warnings.map((w) => [w.kind, w.lineNo])).toEqual([["torn-last-line", 3]]);
    // The torn line is not a garbage line: readJsonLines reports it once, as torn.
    const v = await values(p);
    expect(v.values.map((x) => x.value)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(v.warnings.map((w) => w.kind)).toEqual(["torn-last-line"]);
  });

  it("streams a 50 MB line", async () => {
    const size = 50 * 1024 * 1024;
    const p = join(dir, "huge.jsonl");
    const prefix =
      '{"timestamp":"2026-01-01T00:00:00.000Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,';
    const suffix = '"}]}}';
    const out = createWriteStream(p);
    out.write('{"before":true}\n');
    out.write(prefix);
    const chunk = "QUJD".repeat(256 * 1024); // 1 MiB of base64
    let written = 0;
    while (written < size) {
      const ok = out.write(chunk);
      written += chunk.length;
      if (!ok) await new Promise<void>((r) => out.once("drain", () => r()));
    }
    out.write(`${suffix}\n{"after":true}\n`);
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));

    const seen: { lineNo: number; byteLength: number; head: string }[] = [];
    const warnings: LineWarning[] = [];
    for await (const l of readFileLines(p, { onWarning: (w) => warnings.push(w) }))
      seen.push({ lineNo: l.lineNo, byteLength: l.byteLength, head: l.text.slice(0, 20) });
    expect(warnings).toEqual([]);
    expect(seen.map((s) => s.lineNo)).toEqual([1, 2, 3]);
    expect(seen[1]!.byteLength).toBe(prefix.length + written + suffix.length);
    expect(seen[1]!.byteLength).toBeGreaterThanOrEqual(size);
    expect(seen[2]!.head).toBe('{"after":true}');

    const { values: vs } = await values(p);
    const big = vs[1]!.value as { payload: { content: { image_url: string }[] } };
    expect(big.payload.content[0]!.image_url.length).toBe("data:image/png;base64,".length + written);
    expect(vs[2]!.value).toEqual({ after: true });
  }, 120_000);

  it("streams: lines come out before the source ends (an endless source is read line by line)", async () => {
    let chunks = 0;
    const endless = (async function* () {
      for (;;) {
        chunks++;
        yield Buffer.from('{"tick":1}\n'.repeat(100_000));
      }
    })();
    const seen: number[] = [];
    for await (const l of readJsonLines(endless)) {
      seen.push(l.lineNo);
      if (seen.length === 250_000) break;
    }
    expect(seen.at(-1)).toBe(250_000);
    expect(chunks).toBe(3);
  });

  it("reads a file of several chunks exactly, and a file that grows while it is read to its new end", async () => {
    const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => JSON.stringify({ i, pad: "x".repeat(i % 700) })).join("\n") + "\n");
    const path = await file("chunks.jsonl", body);
    const small: Uint8Array[] = [];
    for await (const c of openFileBytes(path, { highWaterMark: 4096 })) small.push(c);
    expect(small.length).toBeGreaterThan(100);
    expect(Buffer.concat(small).equals(body)).toBe(true);

    // Appended after the reader opened it (and saw its first size): still read.
    const grown: Uint8Array[] = [];
    let appended = false;
    for await (const c of openFileBytes(path, { highWaterMark: 64 * 1024 })) {
      grown.push(c);
      if (!appended) {
        appended = true;
        await writeFile(path, '{"late":true}\n', { flag: "a" });
      }
    }
    expect(Buffer.concat(grown).toString()).toBe(body.toString() + '{"late":true}\n');

    // A stale size hint (smaller or larger than the file) only changes how it is read, not what.
    const all = await readFile(path);
    for (const sizeHint of [0, 100, all.length - 1, all.length, all.length * 3]) {
      const got: Uint8Array[] = [];
      for await (const c of openFileBytes(path, { sizeHint, highWaterMark: 256 * 1024 })) got.push(c);
      expect(Buffer.concat(got).equals(all)).toBe(true);
    }
  });

  it("reads a FIFO to its end, though its reads come back short", async () => {
    const fifo = join(dir, "pipe.jsonl");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    // The writer sends three pieces with pauses, so reads return partial data.
    const writer = spawn(
      process.execPath,
      [
        "-e",
        `
      const fs = require("node:fs");
      const fd = fs.openSync(${JSON.stringify(fifo)}, "w");
      let n = 0;
      const tick = () => { fs.writeSync(fd, '{"piece":' + n + '}\\n'); if (++n < 3) setTimeout(tick, 50); else fs.closeSync(fd); };
      tick();`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    writer.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const writerDone = new Promise<number | null>((r) => writer.on("close", r));
    // A writer that dies before it opens the pipe would leave the read waiting for ever: it fails the test instead.
    const reading = lines(fifo);
    const { lines: ls } = await Promise.race([
      reading,
      writerDone.then((code) => {
        if (code !== 0) throw new Error(`the FIFO's writer exited with ${code}: ${stderr}`);
        return reading;
      }),
    ]);
    expect(await writerDone).toBe(0);
    expect(ls.map((l) => l.text)).toEqual(['{"piece":0}', '{"piece":1}', '{"piece":2}']);
  });

  describe(".jsonl.zst", () => {
    it("reads a compressed real Codex rollout byte-identically to the plain file", async () => {
      const plainPath = await firstFixtureRollout();
      const plain = await readFile(plainPath);
      const p = await file("rollout.jsonl.zst", compress(plain, 3));
      const { lines: ls, warnings } = await lines(p);
      expect(warnings).toEqual([]);
      expect(joined(ls).equals(plain)).toBe(true);
      expect((await lines(plainPath)).lines.map((l) => l.text)).toEqual(ls.map((l) => l.text));
    });

    it("reads several concatenated frames and large content in order", async () => {
      const a = Buffer.from(Array.from({ length: 5000 }, (_, i) => JSON.stringify({ i, pad: "p".repeat(i % 300) })).join("\n") + "\n");
      const longLine = `{"long":"${"z".repeat(3 * 1024 * 1024)}"}\n`;
      const b = Buffer.from(longLine + '{"last":true}\n');
      const p = await file("frames.jsonl.zst", Buffer.concat([compress(a, 1), compress(b, 19)]));
      const { lines: ls, warnings } = await lines(p);
      expect(warnings).toEqual([]);
      expect(ls).toHaveLength(5002);
      expect(joined(ls).equals(Buffer.concat([a, b]))).toBe(true);
      expect(ls[5000]!.byteLength).toBe(longLine.length - 1);
    });

    it("a torn last line inside the compressed data is not yielded", async () => {
      const p = await file("torn.jsonl.zst", compress(Buffer.from('{"a":1}\n{"b":'), 3));
      const { lines: ls, warnings } = await lines(p);
      expect(ls.map((l) => l.text)).toEqual(['{"a":1}']);
      expect(warnings.map((w) => w.kind)).toEqual(["torn-last-line"]);
    });

    it("truncated or garbage compressed data is a clear InvalidInputError after every readable line", async () => {
      const content = Buffer.from(Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ i, r: Math.sin(i).toString(36) })).join("\n") + "\n");
      const packed = compress(content, 3);
      const truncated = await file("truncated.jsonl.zst", packed.subarray(0, Math.floor(packed.length / 2)));
      const got: string[] = [];
      const err = await (async () => {
        for await (const l of readFileLines(truncated)) got.push(l.text);
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as Error).message).toContain("truncated.jsonl.zst");
      expect(got.length).toBeGreaterThan(0);
      expect(got.length).toBeLessThan(20_000);
      expect(got).toEqual(content.toString("utf8").split("\n").slice(0, got.length));

      const garbage = await file("garbage.jsonl.zst", Buffer.from("this is not zstd at all\n"));
      await expect(
        (async () => {
          for await (const _ of readFileLines(garbage)) void _;
        })(),
      ).rejects.toBeInstanceOf(InvalidInputError);
    });

    it("a missing file fails with the system error, not a decompression error", async () => {
      const err = await (async () => {
        for await (const _ of readFileLines(join(dir, "missing.jsonl.zst"))) void _;
      })().catch((e: unknown) => e);
      expect((err as NodeJS.ErrnoException).code).toBe("ENOENT");
    });

    const zstdCli = spawnSync("zstd", ["--version"]).status === 0;
    it.skipIf(!zstdCli)("reads a file compressed by the zstd command-line tool (skipped where zstd is not installed)", async () => {
      const plainPath = await firstFixtureRollout();
      const out = join(dir, "cli.jsonl.zst");
      const res = spawnSync("zstd", ["-q", "-19", "-f", plainPath, "-o", out]);
      expect(res.status).toBe(0);
      const { lines: ls } = await lines(out);
      expect(joined(ls).equals(await readFile(plainPath))).toBe(true);
    });
  });
});
