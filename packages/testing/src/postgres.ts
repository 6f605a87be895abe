import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chmod, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

/**
 * A throwaway Postgres for tests (DESIGN.md §9). With DATABASE_URL set it is
 * reused as is (and cannot be restarted). Otherwise: initdb into a temp dir,
 * as `nobody` when we are root (Postgres refuses to run as root), on a random
 * free port with its socket in the temp dir, fsync off.
 */
export interface TestPostgres {
  url: string;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
  /** Whether pauseServer/resumeServer work (false for an external DATABASE_URL). */
  readonly restartable: boolean;
  /** Stops the server but keeps its data, to simulate an outage. */
  pauseServer(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  resumeServer(): Promise<void>;
}

export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.DATABASE_URL;
  if (external) {
    return {
      url: external,
      restartable: false,
      stop: async () => {},
      pauseServer: async () => {
        throw new Error("cannot pause an external DATABASE_URL server");
      },
      resumeServer: async () => {
        throw new Error("cannot resume an external DATABASE_URL server");
      },
    };
  }
  const bin = await findBinDir();
  const dir = await mkdtemp(join(tmpdir(), "sv-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ["setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", cmd, ...args]] : [cmd, args];
  if (asRoot) {
    await chown(dir, 65534, 65534);
  }
  await chmod(dir, 0o700);
  const pwfile = join(dir, "pw");
  await writeFile(pwfile, "postgres\n");
  if (asRoot) await chown(pwfile, 65534, 65534);
  const [c1, a1] = wrap(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync", `--pwfile=${pwfile}`]);
  await run(c1, a1, { cwd: dir, env: { ...process.env, LC_ALL: "C" } });
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=100 -c shared_buffers=128MB`;
  const ctl = async (args: string[]) => {
    const [c, a] = wrap(join(bin, "pg_ctl"), args);
    await run(c, a, { cwd: dir, env: { ...process.env, LC_ALL: "C" } });
  };
  let running = false;
  const startServer = async () => {
    await ctl(["-D", data, "-o", options, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]);
    running = true;
  };
  const stopServer = async () => {
    if (!running) return;
    running = false;
    await ctl(["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
  };
  await startServer();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitReady(url);
  return {
    url,
    restartable: true,
    pauseServer: stopServer,
    resumeServer: async () => {
      await startServer();
      await waitReady(url);
    },
    stop: async () => {
      await stopServer();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function findBinDir(): Promise<string> {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  try {
    const { stdout } = await run("pg_config", ["--bindir"]);
    candidates.push(stdout.trim());
  } catch {
    // no pg_config on PATH: fall through to the Debian layout.
  }
  if (existsSync("/usr/lib/postgresql")) {
    const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join("/usr/lib/postgresql", v, "bin"));
  }
  for (const c of candidates) {
    if (existsSync(join(c, "initdb")) && existsSync(join(c, "pg_ctl"))) return c;
  }
  throw new Error("no Postgres binaries found: set DATABASE_URL, or PG_BIN to a directory with initdb and pg_ctl");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("select 1");
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
