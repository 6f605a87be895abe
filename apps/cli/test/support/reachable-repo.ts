import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { REPO } from "@sessionvault/testing/codex-fixtures";
import { CLI_BIN, CODEX_BIN } from "./codex-harness.js";

export interface ReachableRepo {
  cliBin: string;
  codexBin: string;
  remove(): Promise<void>;
}

/**
 * The CLI and the Codex binary where `owner` can run them. A test that runs
 * them as an unprivileged user (uid 65534 when the suite runs as root) needs
 * that user to search every directory down to them, which a clone inside a
 * 0700 directory (as `mktemp -d` makes) does not allow. Then the repository
 * (without .git) is hard-linked into a fresh directory under the system temp
 * directory (pnpm's links inside it are relative, so it runs as is there).
 * If the user still cannot reach it, this says what is missing.
 */
export async function reachableRepo(owner: { uid: number; gid: number }): Promise<ReachableRepo> {
  if (canRun(owner, CLI_BIN, CODEX_BIN)) return { cliBin: CLI_BIN, codexBin: CODEX_BIN, remove: async () => {} };
  const root = await mkdtemp(join(tmpdir(), "sv-reachable-"));
  const remove = () => rm(root, { recursive: true, force: true });
  try {
    await chmod(root, 0o755);
    for (const name of await readdir(REPO)) {
      if (name === ".git") continue;
      const cp = spawnSync("cp", ["-al", join(REPO, name), join(root, name)], { encoding: "utf8" });
      if (cp.status !== 0) throw new Error(`cp -al ${name}: ${cp.stderr.trim()}`);
    }
    const cliBin = join(root, relative(REPO, CLI_BIN));
    const codexBin = join(root, relative(REPO, CODEX_BIN));
    if (!canRun(owner, cliBin, codexBin)) throw new Error(`not even a hard-linked copy in ${root} is`);
    return { cliBin, codexBin, remove };
  } catch (err) {
    await remove();
    throw new Error(
      `uid ${owner.uid} cannot reach ${CLI_BIN} (a directory above the clone is not searchable by others, e.g. a 0700 mktemp -d), and ${(err as Error).message}: ` +
        `put the clone where uid ${owner.uid} can search every directory, or ${tmpdir()} on the clone's filesystem`,
    );
  }
}

/** Whether `owner` can read the CLI and execute the Codex launcher (node checks it as that user). */
function canRun(owner: { uid: number; gid: number }, cliBin: string, codexBin: string): boolean {
  const check = `const fs = require("node:fs"); fs.accessSync(${JSON.stringify(cliBin)}, fs.constants.R_OK); fs.accessSync(${JSON.stringify(codexBin)}, fs.constants.X_OK);`;
  return spawnSync(process.execPath, ["-e", check], { uid: owner.uid, gid: owner.gid, cwd: "/", stdio: "ignore" }).status === 0;
}
