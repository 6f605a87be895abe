import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { createApiToken } from "../src/tokens.js";
import { SERVER_MAIN, spawnServer, type ServerProcess } from "./support/server-process.js";

let dir: string;
let store: string;
let data: string;
let token: string;
let browser: Browser;
const running: ServerProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-ops-"));
  store = join(dir, "store");
  data = join(dir, "data");
  const tokens = new FsStore({ root: store });
  try {
    token = (await createApiToken(tokens, "acme", ["read"])).token;
  } finally {
    await tokens.close();
  }
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
});

afterAll(async () => {
  await browser?.close();
  for (const s of running) await s.stop();
  await rm(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<ServerProcess> {
  const s = await spawnServer(store, { SESSIONVAULT_DATA: data, ...env });
  running.push(s);
  return s;
}

test("a login survives a restart of the server process: the signing secret is made once and kept in the data folder", async () => {
  const first = await start();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${first.url}/login`);
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    await page.waitForURL(`${first.url}/`);
    const secretFile = await stat(join(data, "ui-secret"));
    expect(secretFile.mode & 0o777).toBe(0o600);
    expect(await first.stop()).toBe(0);

    const second = await start();
    // Cookies belong to the host, not the port: the new process gets the same cookie.
    await page.goto(`${second.url}/`);
    expect(new URL(page.url()).pathname).toBe("/");
    expect(await page.locator("h1, .empty").first().textContent()).not.toContain("Log in");
    expect((await stat(join(data, "ui-secret"))).mtimeMs).toBe(secretFile.mtimeMs);
  } finally {
    await context.close();
  }
});

test("no favicon or asset request fails, and error pages never show the server's paths", async () => {
  const s = await start();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const failed: string[] = [];
    page.on("response", (r) => {
      if (r.status() >= 400 && !r.url().includes("/sessions/")) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${s.url}/login`);
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    await page.waitForURL(`${s.url}/`);
    const icon = await page.request.get(`${s.url}/favicon.ico`);
    expect(icon.status()).toBe(200);
    expect(icon.headers()["content-type"]).toBe("image/svg+xml");
    expect(await page.locator('link[rel="icon"]').getAttribute("href")).toBe("/assets/favicon.svg");
    expect(failed).toEqual([]);

    for (const path of ["/sessions/0f0f0f0f-0000-7000-8000-00000000dead", "/sessions/0f0f0f0f", "/sessions/not-an-id"]) {
      const res = await page.goto(`${s.url}${path}`);
      expect(res?.status(), path).toBeGreaterThanOrEqual(400);
      const text = await page.locator("body").innerText();
      expect(text, path).not.toContain(dir);
      expect(text, path).not.toMatch(/\/tmp\//);
    }
  } finally {
    await context.close();
  }
});

test("logs: JSON lines when not on a terminal, per-request lines only at debug", async () => {
  const quiet = await start();
  for (let i = 0; i < 3; i++) await (await fetch(`${quiet.url}/login`)).text();
  await fetch(`${quiet.url}/healthz`);
  const lines = quiet
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"));
  expect(lines.length).toBeGreaterThan(0);
  for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  expect(lines.filter((l) => /"msg":"(request|incoming request|request completed)"/.test(l))).toEqual([]);

  const chatty = await start({ LOG_LEVEL: "debug" });
  await (await fetch(`${chatty.url}/login`)).text();
  await expect
    .poll(
      () =>
        chatty
          .output()
          .split("\n")
          .filter((l) => l.includes('"msg":"request"') && l.includes('"route":"/login"')).length,
    )
    .toBe(1);
  const line = JSON.parse(
    chatty
      .output()
      .split("\n")
      .find((l) => l.includes('"msg":"request"'))!,
  ) as Record<string, unknown>;
  expect(line).toMatchObject({ level: 20, method: "GET", route: "/login", status: 200 });
});

test("logs: readable lines on a terminal, and the quickstart token stays in view", async () => {
  // `script` gives the server a pseudo-terminal, as `pnpm start` in a terminal does.
  const child = spawn(
    "script",
    ["-qfec", `${JSON.stringify(process.execPath)} ${JSON.stringify(SERVER_MAIN)} --store ${JSON.stringify(store)} --port 0 --quickstart`, "/dev/null"],
    {
      // HOME too: quickstart imports every agent home it finds there (~/.claude, ~/.gemini), and this test wants none.
      env: {
        PATH: process.env.PATH ?? "",
        HOME: join(dir, "no-home"),
        SESSIONVAULT_DATA: join(dir, "tty-data"),
        CODEX_HOME: join(dir, "no-codex-home"),
        TERM: "dumb",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    await expect.poll(() => /no agent home found/.test(out), { timeout: 30_000 }).toBe(true);
    const url = /running at (http:\/\/\S+)/.exec(out)![1]!;
    for (let i = 0; i < 5; i++) await (await fetch(`${url}/login`)).text();
    await expect.poll(() => /INFO.*Server listening/.test(out), { timeout: 60_000 }).toBe(true);
    expect(out).not.toMatch(/^\{"level"/m);
    // Nothing logged per request at the default level: the token is still the last thing of note on screen.
    expect(out).toMatch(/admin token \(shown once, keep it\): sv_/);
    expect(out).not.toMatch(/GET|incoming request|request completed/);
    expect(out).not.toMatch(/Deprecation/);
  } finally {
    process.kill(-child.pid!, "SIGTERM");
    await exited;
  }
});
