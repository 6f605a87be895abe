import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DirectorySink, IoError } from "@sessionvault/core";
import { mountSmallDisk, type SmallDisk } from "@sessionvault/testing/small-disk";

/**
 * Issue 12, item 1 for capture streams: a batch that a full disk cuts short
 * leaves part of a line; the next batch must start on a new line instead of
 * being glued onto that fragment (and lost with it). Real 1 MiB tmpfs.
 */
const disk = await mountSmallDisk("1m");
const skip = typeof disk === "string" ? disk : null;
afterAll(async () => {
  if (typeof disk !== "string") await disk.unmount();
});

describe.skipIf(skip !== null)(`DirectorySink on a full disk${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("the line after a failed batch is whole: the fragment is ended first", async () => {
    const d = disk as SmallDisk;
    const sink = new DirectorySink(join(d.dir, "session"));
    const path = sink.pathOf("meta-events");
    // Lines until the file's last page has some room left, less than one line.
    const line = (i: number) => JSON.stringify({ type: "event", i, pad: "x".repeat(200) });
    const tail = () => (statSync(path, { throwIfNoEntry: false })?.size ?? 0) % 4096;
    let i = 0;
    while (i < 200 && tail() <= 4096 - 200) await sink.append("meta-events", [line(i++)]);
    expect(tail()).toBeGreaterThan(4096 - 200);

    d.fill();
    const err = await sink.append("meta-events", [line(i++)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect(readFileSync(path, "utf8").endsWith("\n"), "the failed batch wrote part of its line").toBe(false);
    await d.free();

    const after = line(i);
    await sink.append("meta-events", [after]);
    await sink.close();
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines.at(-2), "the line after the failure was glued onto the fragment").toBe(after);
  });
});
