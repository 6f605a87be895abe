import { execFileSync } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A small tmpfs of its own, to fill up for real (ENOSPC, short writes). */
export interface SmallDisk {
  dir: string;
  /** Writes a filler file until the disk refuses another byte; returns its path. */
  fill(): string;
  /** Removes the filler: the disk has room again. */
  free(): Promise<void>;
  unmount(): Promise<void>;
}

/**
 * Mounts a tmpfs of `size` (e.g. "1m") on a fresh folder, or returns why it
 * cannot (mounting needs root, or CAP_SYS_ADMIN in a user namespace), so a
 * test can skip with that reason.
 */
export async function mountSmallDisk(size: string): Promise<SmallDisk | string> {
  if (process.platform !== "linux") return `tmpfs needs Linux (this is ${process.platform})`;
  const dir = await mkdtemp(join(tmpdir(), "sv-small-disk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim();
    return `cannot mount a tmpfs (needs root or CAP_SYS_ADMIN; euid ${process.geteuid?.()}): ${stderr || (err as Error).message}`;
  }
  const filler = join(dir, "filler");
  return {
    dir,
    fill() {
      const fd = openSync(filler, "a");
      const page = Buffer.alloc(4096, 0x2e);
      try {
        // Whole pages until the disk is full: then every free byte left is in the
        // last pages of other files, and a write past them fails part-way.
        for (let i = 0; i < 1 << 20; i++) writeSync(fd, page);
        throw new Error(`${dir} never filled up`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
      } finally {
        closeSync(fd);
      }
      return filler;
    },
    async free() {
      await unlink(filler);
    },
    async unmount() {
      execFileSync("umount", ["-l", dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
