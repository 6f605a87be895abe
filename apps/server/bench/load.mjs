#!/usr/bin/env node
// Load benchmark of the archive server (issue 8): APPENDERS concurrent
// clients append batches of lines (as a sync does) while LISTERS clients list
// sessions, over real HTTP to a server running in its own process.
//
//   phase 1 "saturation": autocannon, every client sends as fast as it is
//                         answered;
//   phase 2 "at target":  64 clients of our own with random (Poisson)
//                         arrivals adding up to TARGET lines/s, to read the
//                         latency a client sees at that rate.
//
// Baseline, measured in the same run: the same appends made directly on the
// same kind of store in-process (no HTTP), so the ratio shows what the server
// layer costs. Afterwards a count check reads every stream back: each holds
// exactly the acknowledged lines, numbered without gap or repeat.
//
// Env: BENCH_DURATION (s per phase, default 10), BENCH_APPENDERS (64),
// BENCH_LISTERS (16), BENCH_BATCH (lines per POST, 100), BENCH_LINE_BYTES
// (200), BENCH_TARGET (lines/s for phase 2, 20000), BENCH_STORE (a store
// URL for the server, default a fresh directory; e.g. postgres://…).
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { createApiToken, serverStoreRegistry, tokenStoreOf } from "../dist/index.js";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const APPENDERS = Number(process.env.BENCH_APPENDERS ?? 64);
const LISTERS = Number(process.env.BENCH_LISTERS ?? 16);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const LINE_BYTES = Number(process.env.BENCH_LINE_BYTES ?? 200);
const TARGET = Number(process.env.BENCH_TARGET ?? 20_000);
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const RUN = Date.now().toString(16).slice(-6);

const pad = "x".repeat(Math.max(0, LINE_BYTES - 120));
const line = (sid, n) =>
  JSON.stringify({
    timestamp: new Date(1_790_000_000_000 + n).toISOString(),
    type: "event_msg",
    payload: { type: "agent_message", message: `line ${n} of ${sid.slice(0, 8)} ${pad}` },
  });
const batchLines = (sid, from) => Array.from({ length: BATCH }, (_, i) => line(sid, from + i));
const sessionId = (i, salt) => `${salt}${RUN}0-${String(i).padStart(4, "0")}-7000-8000-${String(i).padStart(12, "0")}`;
const metaLine = (id) =>
  JSON.stringify({
    timestamp: "2026-01-01T00:00:00.000Z",
    type: "session_meta",
    payload: { id, timestamp: "2026-01-01T00:00:00.000Z", cwd: "/bench", originator: "bench", cli_version: "0.0.0", source: "exec", model_provider: "bench" },
  });
const userLine = (i) =>
  JSON.stringify({
    timestamp: "2026-01-01T00:00:00.001Z",
    type: "response_item",
    payload: { type: "message", role: "user", content: [{ type: "input_text", text: `bench session ${i}` }] },
  });
const input = (id, i) => ({
  id,
  created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  cwd: "/bench",
  title: `bench session ${i}`,
  archived: false,
  source: "exec",
  originator: "bench",
  cli_version: "0.0.0",
  model_provider: "bench",
  git: null,
  parent_id: null,
  forked_from_id: null,
});
const HEAD = 2;

async function baseline(storeUrl) {
  const store = serverStoreRegistry().open(storeUrl, { org: "baseline" });
  try {
    const sessions = [];
    for (let i = 0; i < APPENDERS; i++) {
      const id = sessionId(i, "a");
      await store.putSession(input(id, i));
      await store.append(id, "rollout", 0, [metaLine(id), userLine(i)]);
      sessions.push({ id, seq: HEAD });
    }
    const end = Date.now() + DURATION * 1000;
    let lines = 0;
    await Promise.all(
      sessions.map(async (s) => {
        while (Date.now() < end) {
          s.seq = (await store.append(s.id, "rollout", s.seq, batchLines(s.id, s.seq))).seq;
          lines += BATCH;
        }
      }),
    );
    return lines / DURATION;
  } finally {
    await store.close();
  }
}

async function startServer(storeUrl) {
  const child = spawn(process.execPath, [...(process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean), MAIN, "--store", storeUrl, "--port", "0"], {
    env: { ...process.env, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { url, child };
}

const cannon = (opts) =>
  new Promise((resolve, reject) => autocannon({ duration: DURATION, timeout: 30, ...opts }, (err, res) => (err ? reject(err) : resolve(res))));
const fmt = (n) => Math.round(n).toLocaleString("en");

async function main() {
  const base = await mkdtemp(join(tmpdir(), "sv-bench-"));
  const storeUrl = process.env.BENCH_STORE || join(base, "store");
  try {
    console.log(
      `load bench: ${APPENDERS} appenders × ${BATCH} lines/POST (${LINE_BYTES} B lines) + ${LISTERS} listers, ${DURATION}s per phase, store ${process.env.BENCH_STORE ? storeUrl.replace(/\/\/[^@]*@/, "//…@") : "fs (fresh directory)"}`,
    );
    const baselineRate = await baseline(storeUrl);
    console.log(`baseline: the store in-process, ${APPENDERS} writers, no HTTP: ${fmt(baselineRate)} lines/s`);

    const org = `bench${RUN}`;
    const root = serverStoreRegistry().open(storeUrl);
    const { token } = await createApiToken(tokenStoreOf(root, storeUrl), org, ["write"]);
    await root.close();
    const { url, child } = await startServer(storeUrl);
    const headers = { authorization: `Bearer ${token}` };
    try {
      // Twice as many sessions as clients: a client never waits for a free one.
      const pool = [];
      for (let i = 0; i < APPENDERS * 2; i++) {
        const id = sessionId(i, "b");
        const put = await fetch(`${url}/v1/sessions/${id}`, {
          method: "PUT",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify(input(id, i)),
        });
        if (!put.ok) throw new Error(`PUT ${put.status} ${await put.text()}`);
        const head = await fetch(`${url}/v1/sessions/${id}/streams/rollout?expected_seq=0`, {
          method: "POST",
          headers: { ...headers, "content-type": "application/x-ndjson" },
          body: `${metaLine(id)}\n${userLine(i)}\n`,
        });
        if (!head.ok) throw new Error(`POST ${head.status} ${await head.text()}`);
        pool.push({ id, seq: HEAD, inFlight: false });
      }
      const all = [...pool];
      let acked = 0;
      let conflicts = 0;
      const appendRequest = {
        method: "POST",
        setupRequest(req, ctx) {
          const s = pool.shift();
          s.inFlight = true;
          ctx.s = s;
          return {
            ...req,
            path: `/v1/sessions/${s.id}/streams/rollout?expected_seq=${s.seq}`,
            headers: { ...headers, "content-type": "application/x-ndjson" },
            body: batchLines(s.id, s.seq).join("\n") + "\n",
          };
        },
        onResponse(status, body, ctx) {
          const s = ctx.s;
          s.inFlight = false;
          if (status === 200) {
            s.seq = JSON.parse(body).seq;
            acked += BATCH;
          } else if (status === 409) {
            conflicts++;
            s.seq = JSON.parse(body).current_seq;
          }
          pool.push(s);
        },
      };

      const phase = async (name, extra) => {
        const [a, l] = await Promise.all([
          cannon({ url, connections: APPENDERS, requests: [appendRequest], ...extra }),
          LISTERS > 0
            ? cannon({ url: `${url}/v1/sessions?limit=50`, connections: LISTERS, headers })
            : { "2xx": 0, non2xx: 0, errors: 0, latency: { p50: 0, p99: 0 } },
        ]);
        const rate = (a["2xx"] * BATCH) / DURATION;
        console.log(
          `${name}: appends ${fmt(rate)} lines/s (${fmt(a["2xx"])} POSTs, ${a.non2xx} non-2xx, ${a.errors} errors) p50 ${a.latency.p50} ms p99 ${a.latency.p99} ms | lists ${fmt(l["2xx"] / DURATION)}/s (${l.non2xx} non-2xx, ${l.errors} errors) p50 ${l.latency.p50} ms p99 ${l.latency.p99} ms`,
        );
        // Requests cut off when a phase ends were sent but never answered to us: re-sync those clients.
        for (const s of all) {
          if (!s.inFlight) continue;
          const d = await (await fetch(`${url}/v1/sessions/${s.id}`, { headers })).json();
          const n = d.streams.find((x) => x.name === "rollout").lines;
          if (n !== s.seq && n !== s.seq + BATCH) throw new Error(`session ${s.id}: ${n} lines stored, client had ${s.seq} (+${BATCH} in flight)`);
          if (n !== s.seq) acked += BATCH;
          s.seq = n;
          s.inFlight = false;
          pool.push(s);
        }
        return { rate, a, l };
      };

      const sat = await phase("saturation", {});

      // Paced: autocannon's rate limit fires all connections on the same
      // timer ticks (synchronised bursts no real fleet of laptops produces),
      // so this phase uses its own clients with random (Poisson) arrivals.
      const pacedRun = async () => {
        const perClientHz = TARGET / BATCH / APPENDERS;
        const end = Date.now() + DURATION * 1000;
        const latencies = [];
        let ok = 0;
        let failed = 0;
        const client = async () => {
          let next = Date.now() + (-Math.log(1 - Math.random()) / perClientHz) * 1000;
          while (next < end) {
            await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
            const s = pool.shift();
            const t0 = performance.now();
            try {
              const res = await fetch(`${url}/v1/sessions/${s.id}/streams/rollout?expected_seq=${s.seq}`, {
                method: "POST",
                headers: { ...headers, "content-type": "application/x-ndjson" },
                body: batchLines(s.id, s.seq).join("\n") + "\n",
              });
              const body = await res.json();
              latencies.push(performance.now() - t0);
              if (res.status === 200) {
                s.seq = body.seq;
                acked += BATCH;
                ok++;
              } else {
                if (res.status === 409) {
                  conflicts++;
                  s.seq = body.current_seq;
                }
                failed++;
              }
            } finally {
              pool.push(s);
            }
            next += (-Math.log(1 - Math.random()) / perClientHz) * 1000;
          }
        };
        const [, l] = await Promise.all([
          Promise.all(Array.from({ length: APPENDERS }, client)),
          LISTERS > 0
            ? cannon({ url: `${url}/v1/sessions?limit=50`, connections: LISTERS, headers })
            : { "2xx": 0, non2xx: 0, errors: 0, latency: { p50: 0, p99: 0 } },
        ]);
        latencies.sort((x, y) => x - y);
        const pct = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
        const rate = (ok * BATCH) / DURATION;
        console.log(
          `at ${fmt(TARGET)} lines/s (Poisson arrivals): appends ${fmt(rate)} lines/s (${fmt(ok)} POSTs, ${failed} failed) p50 ${pct(0.5)} ms p99 ${pct(0.99)} ms | lists ${fmt(l["2xx"] / DURATION)}/s (${l.non2xx} non-2xx, ${l.errors} errors) p50 ${l.latency.p50} ms p99 ${l.latency.p99} ms`,
        );
        return { rate, a: { latency: { p99: pct(0.99) } } };
      };
      const paced = await pacedRun();

      console.log(
        `ratio vs baseline: ${(sat.rate / baselineRate).toFixed(2)}× of the store's in-process append rate (${fmt(sat.rate)} / ${fmt(baselineRate)} lines/s)`,
      );
      console.log(
        `targets: ≥ 20,000 lines/s: ${sat.rate >= 20_000 ? "met" : "MISSED"} (${fmt(sat.rate)}); ` +
          `p99 < 100 ms: saturation ${sat.a.latency.p99 < 100 ? "met" : "MISSED"} (${sat.a.latency.p99} ms), ` +
          `at ${fmt(TARGET)} lines/s ${paced.a.latency.p99 < 100 ? "met" : "MISSED"} (${paced.a.latency.p99} ms, achieved ${fmt(paced.rate)} lines/s)`,
      );

      // Count check: read every stream back.
      let stored = 0;
      let bad = 0;
      for (const s of all) {
        const res = await fetch(`${url}/v1/sessions/${s.id}/streams/rollout`, { headers });
        const lines = (await res.text()).split("\n");
        lines.pop();
        for (let n = HEAD; n < lines.length; n++) {
          if (JSON.parse(lines[n]).payload.message.slice(0, `line ${n} `.length) !== `line ${n} `) {
            bad++;
            break;
          }
        }
        if (lines.length !== s.seq) bad++;
        stored += lines.length - HEAD;
      }
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const counted = Number(/^sessionvault_lines_appended_total (\d+)/m.exec(metrics)?.[1] ?? NaN) - all.length * HEAD;
      const ok = bad === 0 && stored === acked && counted === acked && conflicts === 0;
      console.log(
        `count check: ${fmt(acked)} lines acknowledged, ${fmt(stored)} read back, ${fmt(counted)} counted by /metrics, ${bad} stream(s) with a gap, repeat or wrong length, ${conflicts} conflict(s) → ${ok ? "nothing lost, nothing duplicated" : "MISMATCH"}`,
      );
      if (!ok) process.exitCode = 1;
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

await main();
