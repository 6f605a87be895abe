import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recordingFetch, type RawApiRecord } from "@sessionvault/core";
import { startTestUpstream, type TestUpstream } from "@sessionvault/testing/capture-upstream";

const KEY = "sk-test-0123456789abcdef0123456789abcdef";
let upstream: TestUpstream;
beforeEach(async () => {
  upstream = await startTestUpstream();
});
afterEach(async () => {
  upstream.release();
  await upstream.close();
});

describe("recordingFetch", () => {
  it("passes a streamed response through as the caller reads it and records each event, redacted", async () => {
    const records: RawApiRecord[] = [];
    const f = recordingFetch(fetch, { rawApi: (r) => records.push(r) });
    const res = await f(`${upstream.url}/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ input: "hello", api_key: KEY }),
    });
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${upstream.url}/responses`);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    // The upstream has not sent the rest yet: the wrapper hands over bytes as they come.
    expect(first).toContain("response.created");
    expect(records.map((r) => r.type)).toEqual(["request", "response", "event"]);
    upstream.release();
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toContain("sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
    expect(records.map((r) => r.type)).toEqual(["request", "response", "event", "event", "event", "response_end"]);
    expect(upstream.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    const text = JSON.stringify(records);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
    expect((records[0] as { body: { input: string } }).body.input).toBe("hello");
  });

  it("records a JSON body whole and a failed fetch as an error, rethrowing it", async () => {
    const records: RawApiRecord[] = [];
    const f = recordingFetch(fetch, { rawApi: (r) => records.push(r) });
    const res = await f(`${upstream.url}/models`);
    expect(await res.json()).toEqual({ data: [{ id: "m1" }], token: "body-token-value" });
    expect(records.map((r) => r.type)).toEqual(["request", "response", "response_body"]);
    expect((records[2] as { body: unknown }).body).toEqual({ data: [{ id: "m1" }], token: "[REDACTED]" });

    const dead = "http://127.0.0.1:1/v1/models";
    await expect(f(dead)).rejects.toThrow();
    expect(records.at(-1)!.type).toBe("error");
  });
});
