import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startPostgres } from "@sessionvault/testing/postgres";
import { startS3Server, uniquePrefix } from "@sessionvault/testing/s3-server";
import { StoreRegistry } from "@sessionvault/core";
import { startTestServer, type TestServer } from "./support/server.js";

interface Backend {
  server: TestServer;
  stop(): Promise<void>;
}

const BACKENDS: Record<string, () => Promise<Backend>> = {
  "a file tree": async () => {
    const server = await startTestServer();
    return { server, stop: () => server.stop() };
  },
  Postgres: async () => {
    const pg = await startPostgres();
    const u = new URL(pg.url);
    u.searchParams.set("schema", `sv_live_${process.pid}`);
    const server = await startTestServer({ store: u.href });
    return {
      server,
      stop: async () => {
        await server.stop();
        await pg.stop();
      },
    };
  },
  S3: async () => {
    const s3 = await startS3Server();
    const url = `s3://${s3.bucket}/${uniquePrefix("live")}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&force_path_style=true`;
    // The emulator's keys reach the store the way the server binary passes them: as its environment.
    const registry = new StoreRegistry({
      env: { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey },
    }).register(["s3"], () => import("@sessionvault/s3-store"));
    const server = await startTestServer({ store: url, registry });
    return {
      server,
      stop: async () => {
        await server.stop();
        await s3.stop();
      },
    };
  },
};

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
});
afterAll(async () => {
  await browser?.close();
});

function line(type: string, payload: Record<string, unknown>, at: string): string {
  return JSON.stringify({ timestamp: at, type, payload }) + "\n";
}

describe.each(Object.keys(BACKENDS))("live pages over %s", (name) => {
  let b: Backend;
  let writer: string;
  let reader: string;
  const first = "0f0f0f0f-0000-7000-8000-0000000011e1";
  const second = "0f0f0f0f-0000-7000-8000-0000000011e2";

  async function append(sid: string, seq: number, lines: string[]): Promise<void> {
    const res = await fetch(`${b.server.url}/v1/sessions/${sid}/streams/rollout?expected_seq=${seq}`, {
      method: "POST",
      headers: { authorization: `Bearer ${writer}`, "content-type": "application/x-ndjson" },
      body: lines.join(""),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }
  async function create(sid: string, title: string): Promise<void> {
    const res = await fetch(`${b.server.url}/v1/sessions/${sid}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${writer}`, "content-type": "application/json" },
      body: JSON.stringify({ created_at: new Date().toISOString(), title }),
    });
    expect(res.status).toBe(200);
    const at = new Date().toISOString();
    await append(sid, 0, [
      line("session_meta", { id: sid, timestamp: at, cwd: "/w", originator: "t", cli_version: "0" }, at),
      line("event_msg", { type: "task_started", turn_id: "t1" }, at),
      line("response_item", { type: "message", role: "user", content: [{ type: "input_text", text: `first message of ${title}` }] }, at),
    ]);
  }

  beforeAll(async () => {
    b = await BACKENDS[name]!();
    writer = await b.server.token("acme", ["write"]);
    reader = await b.server.token("acme", ["read"]);
    await create(first, "the first session");
  }, 120_000);
  afterAll(async () => {
    await b?.stop();
  });

  test("a new session appears in the open list, and a line appended to an open session shows, without a reload", async () => {
    const context = await browser.newContext();
    try {
      const list = await context.newPage();
      await list.goto(`${b.server.url}/login`);
      await list.fill("#token", reader);
      await list.click("button[type=submit]");
      await list.waitForURL(`${b.server.url}/`);
      await expect.poll(() => list.locator("tr.session-row").count()).toBe(1);
      const session = await context.newPage();
      await session.goto(`${b.server.url}/sessions/${first}`);
      expect(await session.locator("body").innerText()).toContain("first message of the first session");
      // Both pages have their event stream open before anything is written.
      await Promise.all([list, session].map((p) => p.waitForSelector('[data-live-state="open"]', { state: "attached" })));

      // The pages are never reloaded, so what the polls below see came over the event stream. How soon
      // it comes (about a second, on a quiet machine) is not asserted here: a busy machine delays it.
      await create(second, "a session that started later");
      await expect.poll(() => list.locator("tr.session-row").count(), { timeout: 30_000, interval: 100 }).toBe(2);
      expect(await list.locator("tr.session-row").first().innerText()).toContain("a session that started later");

      const at = new Date().toISOString();
      await append(first, 3, [
        line("response_item", { type: "message", role: "assistant", content: [{ type: "output_text", text: "a reply written after the page opened" }] }, at),
      ]);
      await expect.poll(() => session.locator("body").innerText(), { timeout: 30_000, interval: 100 }).toContain("a reply written after the page opened");
    } finally {
      await context.close();
    }
  }, 60_000);
});
