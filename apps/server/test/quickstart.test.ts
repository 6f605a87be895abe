import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { FIXTURES } from "@sessionvault/testing/codex-fixtures";
import { spawnServer, type ServerProcess } from "./support/server-process.js";

let dir: string;
const servers: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});

test("quickstart: first start prints the URL and an admin token and imports the Codex home; a restart imports nothing new", async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-quickstart-"));
  const codexHome = join(dir, "codex-home");
  await cp(join(FIXTURES, "0.169.0"), codexHome, { recursive: true });
  const data = join(dir, "data");
  const env = { SESSIONVAULT_DATA: data, CODEX_HOME: codexHome, HOME: dir };

  const first = await spawnServer(data, env, ["--quickstart"]);
  servers.push(first);
  await expect.poll(() => first.output(), { timeout: 60_000 }).toMatch(/admin token \(shown once, keep it\): (sv_\S+)/);
  const token = /admin token \(shown once, keep it\): (sv_\S+)/.exec(first.output())![1]!;
  expect(first.output()).toContain(`sessionvault is running at ${first.url}`);
  await expect.poll(() => first.output(), { timeout: 60_000 }).toMatch(/imported 16 session\(s\)/);

  const list = await fetch(`${first.url}/v1/sessions?limit=100&archived=all`, { headers: { authorization: `Bearer ${token}` } });
  expect(list.status).toBe(200);
  expect(((await list.json()) as { sessions: unknown[] }).sessions).toHaveLength(16);
  expect(await first.stop()).toBe(0);

  const second = await spawnServer(data, env, ["--quickstart"]);
  servers.push(second);
  await expect.poll(() => second.output(), { timeout: 60_000 }).toMatch(/imported 0 session\(s\), 0 new line\(s\)/);
  expect(second.output()).not.toMatch(/admin token/);
  const again = await fetch(`${second.url}/v1/sessions?limit=100&archived=all`, { headers: { authorization: `Bearer ${token}` } });
  expect(((await again.json()) as { sessions: unknown[] }).sessions).toHaveLength(16);
});
