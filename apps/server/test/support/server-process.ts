import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const SERVER_MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server wrote to stdout and stderr (JSON log lines). */
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * The built server (dist/main.js) as a child process on 127.0.0.1, port 0.
 * Its data folder (where it keeps the web UI secret) is a fresh temporary one unless env names one.
 * `launcher`: a command that runs it (e.g. `unshare --pid --fork --kill-child`).
 */
export async function spawnServer(store: string, env: Record<string, string> = {}, args: string[] = [], launcher: string[] = []): Promise<ServerProcess> {
  if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: build the server first (turbo builds it before test)`);
  const argv = [...launcher, process.execPath, SERVER_MAIN, "--store", store, "--port", "0", ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", SESSIONVAULT_DATA: mkdtempSync(join(tmpdir(), "sv-data-")), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /(?:listening on|running at) (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (launcher.length === 0) {
        if (child.exitCode === null) child.kill("SIGTERM");
        return exited;
      }
      // A launcher such as `unshare --fork` ignores SIGTERM while it waits; killed, it
      // hands the server SIGTERM (--kill-child). Done once the server stops answering.
      if (child.exitCode === null) child.kill("SIGKILL");
      const code = await exited;
      for (let i = 0; i < 600; i++) {
        const up = await fetch(`${url}/healthz`).then(
          () => true,
          () => false,
        );
        if (!up) return code;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`server at ${url} still answers after its launcher was killed`);
    },
  };
}
