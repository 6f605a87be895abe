#!/usr/bin/env node
// How the session page copes with a huge session (issue 8: "a 100 MB session
// stays fast"). Builds a BIG_MB rollout of many turns with large command
// outputs, then times the session page (first, middle and last page of turns)
// against the same pages of a one-turn session measured in the same run.
//
// Env: BIG_MB (default 100), BIG_RUNS (timed requests per page, default 5).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsStore } from "@sessionvault/fs-store";
import { createApiToken, startServer } from "../dist/index.js";

const BIG_MB = Number(process.env.BIG_MB ?? 100);
const RUNS = Number(process.env.BIG_RUNS ?? 5);
const OUTPUT_BYTES = 48 * 1024;

function* turnLines(t, ts) {
  const at = (k) => new Date(ts + t * 1000 + k).toISOString();
  const call = `call_${t}`;
  yield JSON.stringify({ timestamp: at(0), type: "event_msg", payload: { type: "task_started", turn_id: `turn-${t}` } });
  yield JSON.stringify({
    timestamp: at(1),
    type: "response_item",
    payload: { type: "message", role: "user", content: [{ type: "input_text", text: `Step ${t}: run the build` }] },
  });
  yield JSON.stringify({
    timestamp: at(2),
    type: "response_item",
    payload: { type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: `make step-${t}` }), call_id: call },
  });
  const output = `Process exited with code 0\nOutput:\n${`build log line for step ${t} `.repeat(Math.ceil(OUTPUT_BYTES / 30)).slice(0, OUTPUT_BYTES)}`;
  yield JSON.stringify({ timestamp: at(3), type: "response_item", payload: { type: "function_call_output", call_id: call, output } });
  yield JSON.stringify({
    timestamp: at(4),
    type: "response_item",
    payload: { type: "message", role: "assistant", content: [{ type: "output_text", text: `Step ${t} built.` }] },
  });
  yield JSON.stringify({
    timestamp: at(5),
    type: "event_msg",
    payload: { type: "token_count", info: { total_token_usage: { input_tokens: t * 1000, output_tokens: t * 10, total_tokens: t * 1010 } } },
  });
  yield JSON.stringify({ timestamp: at(6), type: "event_msg", payload: { type: "task_complete", turn_id: `turn-${t}` } });
}

async function writeSession(store, id, turns) {
  const ts = Date.UTC(2026, 0, 1);
  await store.putSession({
    id,
    created_at: new Date(ts).toISOString(),
    cwd: "/big",
    title: `session of ${turns} turns`,
    archived: false,
    source: "exec",
    originator: "bench",
    cli_version: "0.0.0",
    model_provider: "bench",
    git: null,
    parent_id: null,
    forked_from_id: null,
  });
  let seq = 0;
  let batch = [
    JSON.stringify({
      timestamp: new Date(ts).toISOString(),
      type: "session_meta",
      payload: { id, timestamp: new Date(ts).toISOString(), cwd: "/big", originator: "bench", cli_version: "0.0.0", source: "exec" },
    }),
  ];
  let bytes = 0;
  for (let t = 0; t < turns; t++) {
    for (const l of turnLines(t, ts)) {
      batch.push(l);
      bytes += l.length + 1;
    }
    if (batch.length >= 350) {
      seq = (await store.append(id, "rollout", seq, batch)).seq;
      batch = [];
    }
  }
  if (batch.length) seq = (await store.append(id, "rollout", seq, batch)).seq;
  return bytes;
}

async function time(url, cookie) {
  const samples = [];
  let size = 0;
  // One untimed request first: JIT warm-up and cold file caches are not what we measure.
  await (await fetch(url, { headers: { cookie } })).text();
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { cookie } });
    const html = await res.text();
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    samples.push(performance.now() - t0);
    size = html.length;
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)], size };
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "sv-big-"));
  try {
    const turns = Math.ceil((BIG_MB * 1024 * 1024) / (OUTPUT_BYTES + 1200));
    const store = new FsStore({ root: dir, org: "bench" });
    const small = "0d0d0d0d-0000-7000-8000-000000000001";
    const big = "0d0d0d0d-0000-7000-8000-000000000002";
    await writeSession(store, small, 1);
    const t0 = performance.now();
    const bytes = await writeSession(store, big, turns);
    await store.close();
    console.log(`big session: ${turns} turns, ${(bytes / 1024 / 1024).toFixed(1)} MiB (written in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

    const server = await startServer({ store: dir, port: 0, logger: false });
    try {
      const { token } = await createApiToken(server.tokens, "bench", ["read"]);
      // The login form first: its CSRF cookie and token go with the login.
      const form = await fetch(`${server.url}/login`);
      const csrfCookie = form.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())[1];
      const login = await fetch(`${server.url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie, origin: server.url },
        body: new URLSearchParams({ token, _csrf: csrf }).toString(),
      });
      const cookie = login.headers
        .getSetCookie()
        .find((c) => c.startsWith("sv_session="))
        .split(";")[0];
      const lastPage = Math.floor((turns - 1) / 20);
      const rssBefore = process.memoryUsage().rss;
      const base = await time(`${server.url}/sessions/${small}`, cookie);
      console.log(`baseline (1-turn session page): ${base.ms.toFixed(1)} ms, ${(base.size / 1024).toFixed(0)} KiB of HTML`);
      for (const [name, page] of [
        ["first page", 0],
        ["middle page", Math.floor(lastPage / 2)],
        ["last page", lastPage],
      ]) {
        const r = await time(`${server.url}/sessions/${big}?page=${page}`, cookie);
        console.log(
          `${name} (turns ${page * 20 + 1}–${Math.min(turns, page * 20 + 20)}): ${r.ms.toFixed(1)} ms (${(r.ms / base.ms).toFixed(1)}× baseline), ${(r.size / 1024).toFixed(0)} KiB of HTML`,
        );
      }
      console.log(
        `server RSS grew by ${((process.memoryUsage().rss - rssBefore) / 1024 / 1024).toFixed(1)} MiB while serving pages of a ${(bytes / 1024 / 1024).toFixed(0)} MiB session`,
      );
    } finally {
      await server.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
