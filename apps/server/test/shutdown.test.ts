import { request } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { createApiToken } from "../src/tokens.js";
import { spawnServer, type ServerProcess } from "./support/server-process.js";

let dir: string;
let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("SIGTERM lets an append that is still uploading finish, refuses new work, then exits 0", async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-shutdown-"));
  const store = new FsStore({ root: dir });
  const { token } = await createApiToken(store, "acme", ["write"]);
  const id = "0c0c0c0c-0000-7000-8000-000000000001";
  await store.close();
  // At debug the server logs each request as it starts (the wait below needs that).
  server = await spawnServer(dir, { LOG_LEVEL: "debug" });
  const headers = { authorization: `Bearer ${token}` };
  const put = await fetch(`${server.url}/v1/sessions/${id}`, {
    method: "PUT",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ created_at: "2026-01-01T00:00:00.000Z" }),
  });
  expect(put.status).toBe(200);

  const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ n: i, pad: "y".repeat(100) }));
  const body = Buffer.from(lines.join("\n") + "\n");
  const url = new URL(`${server.url}/v1/sessions/${id}/streams/debug-log?expected_seq=0`);
  let requestHandle: ReturnType<typeof request> | undefined;
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", headers: { ...headers, "content-type": "application/x-ndjson", "content-length": String(body.length) } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    requestHandle = req;
    // Half the body now; the rest once the server drains.
    req.write(body.subarray(0, body.length / 2));
  });
  // SIGTERM once the server is handling the request (it logs each incoming request).
  const started = () =>
    server!
      .output()
      .split("\n")
      .some((l) => l.includes('"msg":"incoming request"') && l.includes("/streams/:name"));
  while (!started()) await new Promise((r) => setTimeout(r, 10));
  server.child.kill("SIGTERM");

  // While draining, nothing new is accepted: wait until the server says so, then send the rest of the body in flight.
  let late: number | string = 200;
  while (late === 200)
    late = await fetch(`${server.url}/healthz`).then(
      (r) => r.status,
      () => "refused",
    );
  expect([503, "refused"]).toContain(late);
  requestHandle!.end(body.subarray(body.length / 2));

  const res = await response;
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body)).toEqual({ seq: 2000 });
  const t0 = Date.now();
  expect(await server.stop()).toBe(0);
  // The finished request's keep-alive connection does not hold the process open.
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(server.output()).toContain("shutting down");

  const check = new FsStore({ root: dir, org: "acme" });
  const back: string[] = [];
  for await (const l of check.readStream(id, "debug-log")) back.push(l);
  await check.close();
  expect(back).toEqual(lines);
});
