import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";

/**
 * path -> "mode size mtime sha256" for every entry under `dir`, so a test can
 * assert that an operation modified nothing (not even an mtime).
 */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(p);
      if (st.isDirectory()) {
        out[r + "/"] = `${st.mode.toString(8)}`;
        await walk(p, r);
      } else if (st.isSymbolicLink()) {
        out[r] = `-> ${await readlink(p)}`;
      } else {
        const hash = createHash("sha256")
          .update(await readFile(p))
          .digest("hex");
        out[r] = `${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${hash}`;
      }
    }
  };
  await walk(dir, "");
  return out;
}
