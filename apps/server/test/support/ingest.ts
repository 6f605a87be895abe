import { expect } from "vitest";
import { readFileLines, summarizeRollout } from "@sessionvault/core";
import type { FixtureRollout } from "@sessionvault/testing/codex-fixtures";

/** Uploads one real rollout over the API as a client would: PUT the summary, then POST the lines in batches by position. */
export async function ingestRollout(baseUrl: string, token: string, r: FixtureRollout, batchLines = 25): Promise<number> {
  const headers = { authorization: `Bearer ${token}` };
  const head = await summarizeRollout(readFileLines(r.path));
  const summary = head ?? { id: r.id, created_at: new Date().toISOString() };
  const put = await fetch(`${baseUrl}/v1/sessions/${r.id}`, {
    method: "PUT",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ ...summary, archived: r.archived }),
  });
  expect(put.status, await put.clone().text()).toBe(200);
  let seq = 0;
  let batch: string[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const res = await fetch(`${baseUrl}/v1/sessions/${r.id}/streams/rollout?expected_seq=${seq}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-ndjson" },
      body: batch.map((l) => l + "\n").join(""),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    seq = ((await res.json()) as { seq: number }).seq;
    batch = [];
  };
  for await (const line of readFileLines(r.path)) {
    batch.push(line.text);
    if (batch.length === batchLines) await flush();
  }
  await flush();
  return seq;
}
