#!/usr/bin/env node
// Minimal scripted mock of the Gemini API (generativelanguage v1beta), for
// driving the real Gemini CLI offline (the gemini harness's mock-gemini.mjs,
// kept here so the real-agent tests run on a fresh machine). No dependencies. Written from the public
// protocol shape of `models/<model>:streamGenerateContent?alt=sse`.
//
// Usage:
//   node mock-gemini.mjs [--port N] [--port-file FILE] [--log FILE]
//
// Scenario selection (first match wins):
//   1. URL path prefix:  GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:PORT/s/<scenario>
//      (requests arrive at /s/<scenario>/v1beta/models/<model>:<method>)
//   2. a "[scenario:<name>]" tag in the latest user prompt
//   3. default "qa"
//
// The server is (almost) stateless: the step inside a scenario is the number of
// functionResponse parts that follow the most recent real user prompt in
// `contents` (the CLI's <session_context> and other injected text parts do not
// count as prompts). The only state is a per-request attempt counter for
// "apiretry".
//
// Routes:
//   POST .../models/<m>:streamGenerateContent   SSE, the scripted turn
//   POST .../models/<m>:generateContent         JSON: side calls (router, next
//        speaker, loop check, compression summary, ...) get an answer built from
//        their responseJsonSchema, or plain text; a sub-agent or main request
//        that arrives here follows its scenario
//   POST .../models/<m>:countTokens             {totalTokens}
//   GET  .../models                             a one-model list
//   CONNECT / absolute-URL proxy requests       logged and refused (403)
//
// Log (--log FILE): one JSON line per request: kind (stream | generate |
// compression | side | count_tokens | models | proxy-* | unhandled), path,
// scenario, step, child, model, tools offered, a compact view of the contents,
// reply parts, generationConfig keys and the request headers (x-goog-api-key
// and other credentials cut to their first 6 characters).
//
// Environment: MOCK_DUMP_DIR=dir writes every request body there (debugging);
// MOCK_LATENCY_MS / MOCK_FIRST_LATENCY_MS delay the answers (see below).

import http from "node:http";
import fs from "node:fs";
import zlib from "node:zlib";
import crypto from "node:crypto";

const args = process.argv.slice(2);
function opt(name, def) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const PORT = Number(opt("--port", "0"));
const PORT_FILE = opt("--port-file", null);
const LOG_FILE = opt("--log", null);

function log(obj) {
  if (!LOG_FILE) return;
  fs.appendFileSync(LOG_FILE, JSON.stringify({ ts: new Date().toISOString(), ...obj }) + "\n");
}
const rid = () => crypto.randomBytes(12).toString("base64url");

// ---------------------------------------------------------------- request analysis
const partsOf = (c) => (c && Array.isArray(c.parts) ? c.parts : []);

function isInjected(text) {
  const t = (text || "").trimStart();
  if (!t) return true;
  return (
    /^<(session_context|system-reminder|state_snapshot|hook_context|user_prompt_submit|loaded_context|context|environment)[\s>]/.test(t) ||
    /^This is the Gemini CLI\. We are setting up the context/.test(t) ||
    /^Got it\. Thanks for the context!/.test(t) ||
    /^System: Please continue\.?$/.test(t)
  );
}

function responseText(p) {
  const r = p.functionResponse?.response;
  if (!r) return "";
  if (typeof r.output === "string") return r.output;
  if (typeof r.error === "string") return r.error;
  return JSON.stringify(r);
}

function analyse(body) {
  const contents = Array.isArray(body.contents) ? body.contents : [];
  let pm = -1;
  let pp = -1;
  let promptText = "";
  contents.forEach((c, ci) => {
    if (c.role !== "user") return;
    partsOf(c).forEach((p, pi) => {
      if (typeof p.text === "string" && !p.thought && !isInjected(p.text)) {
        pm = ci;
        pp = pi;
        promptText = p.text;
      }
    });
  });
  const results = [];
  contents.forEach((c, ci) => {
    partsOf(c).forEach((p, pi) => {
      if (p.functionResponse && (ci > pm || (ci === pm && pi > pp))) results.push(p);
    });
  });
  // After a compression the history restarts from our own summary.
  let base = 0;
  const all = contents
    .map((c) =>
      partsOf(c)
        .map((p) => p.text || "")
        .join("\n"),
    )
    .join("\n");
  const resumed = [...all.matchAll(/MOCK-SUMMARY step=(\d+)/g)].at(-1);
  if (resumed) {
    const si = contents.findIndex((c) =>
      /MOCK-SUMMARY step=/.test(
        partsOf(c)
          .map((p) => p.text || "")
          .join("\n"),
      ),
    );
    if (si >= pm) base = Number(resumed[1]);
    if (/MOCK-SUMMARY step=/.test(promptText)) {
      const orig = promptText.match(/ORIGINAL-PROMPT: (.*)/);
      if (orig) promptText = orig[1];
    }
  }
  const last = contents[contents.length - 1];
  const lastText = partsOf(last)
    .map((p) => p.text || "")
    .join("\n");
  return { contents, promptText, step: base + results.length, results, isChild: /CHILD-TASK/.test(promptText), lastText, all };
}

function toolIndex(body) {
  const idx = new Map();
  for (const t of body.tools || []) for (const fd of t.functionDeclarations || []) idx.set(fd.name, fd);
  return idx;
}
function toolProps(tools, name) {
  const t = tools.get(name);
  const s = t && (t.parametersJsonSchema || t.parameters);
  return s?.properties ? Object.keys(s.properties) : [];
}
function systemText(body) {
  const si = body.systemInstruction;
  if (!si) return "";
  if (typeof si === "string") return si;
  return partsOf(si)
    .map((p) => p.text || "")
    .join("\n");
}
function cwdFrom(c) {
  const m =
    c.all.match(/Workspace Directories:\*\*\s*\n\s*- (\S+)/) ||
    c.all.match(/I'm currently working in the directory: (\S+)/) ||
    c.all.match(/working directory[^:]*: (\/\S+)/i);
  return m ? m[1].replace(/[.,]$/, "") : process.cwd();
}
const P = (c, f) => `${cwdFrom(c)}/${f}`;

// ---------------------------------------------------------------- reply parts
const text = (t) => ({ text: t });
const thought = (t) => ({ text: t, thought: true });
const call = (name, a) => ({ functionCall: { name, args: a } });
function shell(c, command, description, extra = {}) {
  const a = { command };
  if (description && toolProps(c.tools, "run_shell_command").includes("description")) a.description = description;
  return call("run_shell_command", { ...a, ...extra });
}
function replace(c, file_path, old_string, new_string, extra = {}) {
  const a = { file_path, old_string, new_string };
  if (toolProps(c.tools, "replace").includes("instruction")) a.instruction = `Replace "${old_string}" with "${new_string}".`;
  return call("replace", { ...a, ...extra });
}
const lastResult = (c, max = 400) => responseText(c.results.at(-1)).slice(0, max);

// ---------------------------------------------------------------- scenarios
// (ctx) -> array of parts, or { error: {code, status, message} }
const SCENARIOS = {
  qa: () => [thought("**Answering directly**\n\nA simple factual question; no tools needed."), text("The capital of France is Paris.")],
  qa2: () => [text("2 + 2 = 4.")],

  shell: (c) => {
    if (c.step === 0)
      return [thought("**Inspecting the workspace**"), text("Let me look at the directory first."), shell(c, "ls -la", "List files in the current directory.")];
    if (c.step === 1) return [shell(c, "echo hello > hello.txt && cat hello.txt", "Create hello.txt and show it.")];
    return [text(`I listed the directory and created hello.txt. It contains:\n\n${lastResult(c)}`)];
  },

  edit: (c) => {
    const f = P(c, "notes.md");
    const steps = [
      () => [
        thought("**Creating the file, then editing it**"),
        call("write_file", { file_path: f, content: "# Notes\n\nfirst line\nsecond line\nTODO: fill in\n" }),
      ],
      () => [call("read_file", { file_path: f })],
      () => [replace(c, f, "first line", "first line (edited)")],
      () => [replace(c, f, "line", "row", toolProps(c.tools, "replace").includes("allow_multiple") ? { allow_multiple: true } : { expected_replacements: 2 })],
      () => [call("write_file", { file_path: P(c, "src/util.py"), content: "def add(a, b):\n    return a + b\n" })],
      () => [shell(c, "cat notes.md src/util.py", "Show both files.")],
    ];
    if (c.step < steps.length) return steps[c.step]();
    return [text("Done. I created `notes.md`, edited it twice and added `src/util.py`.")];
  },

  fail: (c) => {
    if (c.step === 0) return [thought("**Running the checks**"), shell(c, "ls does-not-exist; exit 3", "List a missing path.")];
    if (c.step === 1) return [shell(c, "sh -c 'echo boom >&2; exit 42'", "Run the failing check.")];
    if (c.step === 2) return [call("write_file", { file_path: P(c, "config.txt"), content: "mode=fast\n" })];
    if (c.step === 3) return [replace(c, P(c, "config.txt"), "mode=slow", "mode=safe")];
    if (c.step === 4) return [call("read_file", { file_path: P(c, "missing.txt") })];
    return [
      text(
        "Both commands failed (exit codes 3 and 42), the replacement was rejected because `mode=slow` is not in config.txt, and missing.txt does not exist.",
      ),
    ];
  },

  turn1: (c) => {
    if (c.step === 0) return [shell(c, "printf 'line one\\n' > log.txt && wc -l log.txt", "Start log.txt.")];
    return [text("Started log.txt with one line.")];
  },
  turn2: (c) => {
    const f = P(c, "log.txt");
    if (c.step === 0) return [call("read_file", { file_path: f })];
    if (c.step === 1) return [replace(c, f, "line one\n", "line one\nline two\n")];
    return [text("Added a second line to log.txt.")];
  },
  turn3: () => [text("Nothing else is left: log.txt has two lines.")],

  // A sub-agent through invoke_agent (or a per-agent tool in older builds).
  subagent: (c) => {
    if (c.isChild) {
      if (c.step === 0) return [shell(c, "echo from-child > child.txt && cat child.txt", "Create child.txt.")];
      if (c.tools.has("complete_task") && c.step === 1) {
        // Sub-agents finish by calling complete_task; its arguments follow the tool's schema.
        const t = c.tools.get("complete_task");
        const a = fillStrings(
          fromSchema(t.parametersJsonSchema || t.parameters || { type: "object", properties: { result: { type: "string" } } }),
          'CHILD-DONE: created child.txt containing "from-child".',
        );
        delete a.wait_for_previous;
        return [call("complete_task", a)];
      }
      return [text('CHILD-DONE: created child.txt containing "from-child".')];
    }
    if (c.step === 0) {
      const prompt = "CHILD-TASK: create child.txt in the current directory containing the word from-child, then report back.";
      if (c.tools.has("invoke_agent")) return [thought("**Delegating to a sub-agent**"), call("invoke_agent", { agent_name: "generalist", prompt })];
      for (const n of ["generalist", "codebase_investigator"]) {
        if (c.tools.has(n)) {
          const props = toolProps(c.tools, n);
          const a = {};
          for (const p of props) a[p] = prompt;
          return [call(n, a)];
        }
      }
      return [text("No sub-agent tool was offered.")];
    }
    if (c.step === 1) return [shell(c, "cat child.txt", "Check the file the sub-agent made.")];
    return [text(`The sub-agent created child.txt:\n\n${lastResult(c)}`)];
  },

  // Todo/topic tools, whichever the build offers.
  todo: (c) => {
    if (c.tools.has("write_todos")) {
      const todos = (s) => [
        { description: "Write the greeting script", status: s[0] },
        { description: "Run the greeting script", status: s[1] },
      ];
      const steps = [
        () => [call("write_todos", { todos: todos(["in_progress", "pending"]) })],
        () => [call("write_file", { file_path: P(c, "greet.sh"), content: '#!/bin/sh\necho "hello from greet.sh"\n' })],
        () => [call("write_todos", { todos: todos(["completed", "in_progress"]) })],
        () => [shell(c, "sh greet.sh", "Run the greeting script.")],
        () => [call("write_todos", { todos: todos(["completed", "completed"]) })],
      ];
      if (c.step < steps.length) return steps[c.step]();
      return [text("Both todo items are done.")];
    }
    if (c.tools.has("update_topic")) {
      const steps = [
        () => [
          call("update_topic", { title: "Greeting script", summary: "Starting work on a greeting script.", strategic_intent: "Write greet.sh, then run it." }),
        ],
        () => [call("write_file", { file_path: P(c, "greet.sh"), content: '#!/bin/sh\necho "hello from greet.sh"\n' })],
        () => [call("update_topic", { strategic_intent: "Run greet.sh to check its output." })],
        () => [shell(c, "sh greet.sh", "Run the greeting script.")],
      ];
      if (c.step < steps.length) return steps[c.step]();
      return [text("greet.sh is written and prints its greeting.")];
    }
    return [text("No todo tool was offered.")];
  },

  git: (c) => {
    if (c.step === 0) return [shell(c, "git status --short --branch && git log --oneline -n 3", "Show branch, status and recent commits.")];
    if (c.step === 1) return [call("write_file", { file_path: P(c, "CHANGELOG.md"), content: "# Changelog\n\n- Added a changelog.\n" })];
    if (c.step === 2) return [shell(c, "git add CHANGELOG.md && git commit -q -m 'Add changelog' && git log --oneline -n 2", "Commit the changelog.")];
    return [text(`Committed CHANGELOG.md on the current branch:\n\n${lastResult(c)}`)];
  },

  background: (c) => {
    if (c.step === 0) {
      if (toolProps(c.tools, "run_shell_command").includes("is_background"))
        return [shell(c, "for i in 1 2 3; do echo tick $i; sleep 0.3; done", "Tick three times in the background.", { is_background: true })];
      return [shell(c, "for i in 1 2 3; do echo tick $i; done &", "Tick three times in the background.")];
    }
    if (c.step === 1) {
      const pid = (lastResult(c).match(/PID:? ?(\d+)/i) || lastResult(c).match(/\b(\d{2,7})\b/) || [])[1];
      if (pid && c.tools.has("read_background_output")) return [call("read_background_output", { pid: Number(pid), delay_ms: 1500 })];
      return [shell(c, "sleep 1; echo waited", "Wait a moment.")];
    }
    return [text(`The background job ran:\n\n${lastResult(c)}`)];
  },

  // Every attempt fails with 503 UNAVAILABLE (the CLI retries, then gives up).
  apierror: () => ({ error: { code: 503, status: "UNAVAILABLE", message: "The model is overloaded. Please try again later." } }),
  // The first attempt of each request fails with 500, the retry succeeds.
  apiretry: (c) => {
    const key = `${c.model}:${c.contents.length}:${c.step}`;
    const n = (RETRY_STATE.get(key) || 0) + 1;
    RETRY_STATE.set(key, n);
    if (n === 1) return { error: { code: 500, status: "INTERNAL", message: "An internal error has occurred." } };
    return [text("Answered after the server recovered: the retry worked.")];
  },

  interrupt: (c) => {
    if (c.step === 0) return [thought("**Running the slow build**"), shell(c, "echo building...; sleep 30; echo built", "Run the slow build.")];
    return [text(`The build finished:\n\n${lastResult(c)}`)];
  },

  // Several steps with a large reported prompt, so the CLI compresses its history.
  compress: (c) => {
    const cmds = ["seq 1 5 > numbers.txt", "wc -l numbers.txt", "tail -n 2 numbers.txt", "sort -r numbers.txt | head -n 1"];
    if (c.step < cmds.length) return [text(`Step ${c.step + 1} of ${cmds.length}.`), shell(c, cmds[c.step], `Step ${c.step + 1}.`)];
    return [text(`Finished all ${cmds.length} steps (the history was compressed along the way).\n\n${lastResult(c)}`)];
  },
};
const RETRY_STATE = new Map();

// ---------------------------------------------------------------- side calls
// A value that fits a (Gemini or JSON) schema; a few field names get meaningful values.
function fromSchema(s, name = "") {
  if (!s || typeof s !== "object") return null;
  const type = String(s.type || (s.properties ? "object" : "string")).toLowerCase();
  if (Array.isArray(s.enum) && s.enum.length) {
    if (name === "next_speaker" && s.enum.includes("user")) return "user";
    return s.enum[0];
  }
  if (type === "object") {
    const o = {};
    const props = s.properties || {};
    for (const k of Object.keys(props)) o[k] = fromSchema(props[k], k);
    return o;
  }
  if (type === "array") return [];
  if (type === "integer" || type === "number") return /score/i.test(name) ? 15 : /confidence/i.test(name) ? 0.1 : 1;
  if (type === "boolean") return false;
  if (name === "next_speaker") return "user";
  if (/model_choice|model/i.test(name)) return "flash";
  return `mock ${name || "value"}`;
}

// Replace every string leaf with `t` (for tool arguments built from a schema).
function fillStrings(v, t) {
  if (typeof v === "string") return t;
  if (Array.isArray(v)) return v.map((x) => fillStrings(x, t));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillStrings(x, t)]));
  return v;
}

function isCompression(body, a) {
  const sys = systemText(body);
  return /state_snapshot/.test(sys) || (/state_snapshot/.test(a.lastText) && /summar|compress/i.test(sys + a.lastText));
}

function compressionSummary(a, scenario) {
  return [
    text(
      [
        "<state_snapshot>",
        "    <overall_goal>",
        `        MOCK-SUMMARY step=${a.step} scenario=${scenario}`,
        `        ORIGINAL-PROMPT: ${(a.promptText || "").split("\n")[0].slice(0, 200)}`,
        "    </overall_goal>",
        `    <key_knowledge>The "${scenario}" task has completed ${a.step} tool call(s).</key_knowledge>`,
        "    <current_plan>Continue with the remaining steps of the same task.</current_plan>",
        "</state_snapshot>",
      ].join("\n"),
    ),
  ];
}

// ---------------------------------------------------------------- responses
function usageFor(scenario, a, body, parts, opts = {}) {
  let prompt = Math.ceil(JSON.stringify([body.systemInstruction || "", body.tools || [], body.contents || []]).length / 4);
  if (scenario === "compress" && !opts.side && a.step >= 1 && !/MOCK-SUMMARY/.test(a.all)) prompt = Number(process.env.MOCK_COMPRESS_TOKENS || 900000);
  const cand = Math.max(1, Math.ceil(JSON.stringify(parts).length / 4));
  const thoughts = parts.filter((p) => p.thought).reduce((n, p) => n + Math.ceil(p.text.length / 4), 0);
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: cand,
    totalTokenCount: prompt + cand + thoughts,
    ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
    promptTokensDetails: [{ modality: "TEXT", tokenCount: prompt }],
  };
}

function withSignature(parts) {
  // Gemini 3 puts a thoughtSignature on the first function call of a turn.
  let done = false;
  return parts.map((p) => {
    if (p.functionCall && !done) {
      done = true;
      return { ...p, thoughtSignature: Buffer.from(`mock-thought-signature:${p.functionCall.name}`).toString("base64") };
    }
    return p;
  });
}

function streamReply(res, _body, model, parts, usage) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-request-id": rid() });
  const responseId = rid();
  const send = (obj) => res.write(`data: ${JSON.stringify(obj)}\r\n\r\n`);
  const ps = withSignature(parts);
  const chunks = [];
  for (const p of ps) {
    if (p.text !== undefined && !p.thought) for (const piece of p.text.match(/[\s\S]{1,40}/g) || [""]) chunks.push([{ text: piece }]);
    else chunks.push([p]);
  }
  chunks.forEach((cp, i) => {
    const lastChunk = i === chunks.length - 1;
    const cand = { content: { parts: cp, role: "model" }, index: 0 };
    if (lastChunk) cand.finishReason = "STOP";
    send({
      candidates: [cand],
      usageMetadata: lastChunk ? usage : { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount },
      modelVersion: model,
      responseId,
    });
  });
  res.end();
}

function jsonReply(res, model, parts, usage) {
  res.writeHead(200, { "content-type": "application/json", "x-request-id": rid() });
  res.end(
    JSON.stringify({
      candidates: [{ content: { parts: withSignature(parts), role: "model" }, finishReason: "STOP", index: 0 }],
      usageMetadata: usage,
      modelVersion: model,
      responseId: rid(),
    }),
  );
}

function errorReply(res, err) {
  res.writeHead(err.code, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { code: err.code, message: err.message, status: err.status } }));
}

// ---------------------------------------------------------------- server
function redactHeaders(h) {
  const out = {};
  for (const [k, v] of Object.entries(h)) {
    if (/^(authorization|proxy-authorization|x-goog-api-key|x-api-key|api-key|cookie)$/i.test(k)) {
      const s = String(v);
      out[k] = `${s.slice(0, 6)}…[redacted ${s.length} chars]`;
    } else out[k] = v;
  }
  return out;
}
function shapeOf(contents) {
  return contents.map(
    (c) =>
      `${c.role}:${partsOf(c)
        .map((p) =>
          p.functionCall
            ? `call(${p.functionCall.name})`
            : p.functionResponse
              ? `resp(${p.functionResponse.name})`
              : p.thought
                ? "thought"
                : p.text !== undefined
                  ? "text"
                  : Object.keys(p)[0],
        )
        .join(",")}`,
  );
}
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      let buf = Buffer.concat(chunks);
      const enc = (req.headers["content-encoding"] || "").toLowerCase();
      try {
        if (enc === "gzip") buf = zlib.gunzipSync(buf);
        else if (enc === "br") buf = zlib.brotliDecompressSync(buf);
        else if (enc === "deflate") buf = zlib.inflateSync(buf);
      } catch (e) {
        return reject(e);
      }
      resolve(buf.toString("utf8"));
    });
    req.on("error", reject);
  });
}

const server = http.createServer(async (req, res) => {
  if (/^https?:\/\//i.test(req.url)) {
    log({ kind: "proxy-request-refused", method: req.method, target: req.url, headers: redactHeaders(req.headers) });
    res.writeHead(403, { "content-type": "text/plain" });
    return res.end("mock: outbound traffic refused");
  }
  const url = new URL(req.url, "http://localhost");
  let raw = "";
  try {
    raw = await readBody(req);
  } catch (e) {
    log({ kind: "bad-body", path: url.pathname, error: String(e) });
    return errorReply(res, { code: 400, status: "INVALID_ARGUMENT", message: "could not decode body" });
  }
  const m = url.pathname.match(/^\/s\/([A-Za-z0-9_-]+)(\/.*)$/);
  const pathScenario = m ? m[1] : null;
  const rest = m ? m[2] : url.pathname;
  const headers = redactHeaders(req.headers);
  const query = url.search || undefined;

  if (req.method === "GET" && /\/models\/?$/.test(rest)) {
    log({ kind: "models", path: url.pathname, headers });
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(
      JSON.stringify({
        models: [{ name: "models/gemini-mock", displayName: "Mock", supportedGenerationMethods: ["generateContent", "streamGenerateContent", "countTokens"] }],
      }),
    );
  }
  const mm = rest.match(/\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/);
  if (req.method !== "POST" || !mm) {
    log({ kind: "unhandled", method: req.method, path: url.pathname, query, headers, body: raw.slice(0, 300) });
    return errorReply(res, { code: 404, status: "NOT_FOUND", message: `mock: no route for ${req.method} ${url.pathname}` });
  }
  const model = decodeURIComponent(mm[1]);
  const method = mm[2];
  let body;
  try {
    body = JSON.parse(raw || "{}");
  } catch {
    log({ kind: "bad-json", path: url.pathname, head: raw.slice(0, 200) });
    return errorReply(res, { code: 400, status: "INVALID_ARGUMENT", message: "invalid json" });
  }
  if (method === "countTokens") {
    const n = Math.ceil(JSON.stringify(body).length / 4);
    log({ kind: "count_tokens", path: url.pathname, model, scenario: pathScenario, headers });
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify({ totalTokens: n }));
  }

  const a = analyse(body);
  const tag = a.promptText.match(/\[scenario:([A-Za-z0-9_-]+)\]/);
  const name = pathScenario || tag?.[1] || "qa";
  const tools = toolIndex(body);
  const c = { ...a, tools, body, model };
  const sys = systemText(body);
  const gc = body.generationConfig || {};
  if (process.env.MOCK_DUMP_DIR) {
    fs.mkdirSync(process.env.MOCK_DUMP_DIR, { recursive: true });
    fs.writeFileSync(
      `${process.env.MOCK_DUMP_DIR}/req-${Date.now()}-${name}-${method}-${a.step}.json`,
      JSON.stringify({ url: req.url, headers, body }, null, 1),
    );
  }
  const common = {
    path: url.pathname,
    query,
    method,
    scenario: name,
    step: a.step,
    child: a.isChild,
    model,
    tools: [...tools.keys()],
    shape: shapeOf(a.contents),
    prompt_head: a.promptText.slice(0, 120),
    generation_config_keys: Object.keys(gc),
    headers,
  };
  // Optional latency (a real model takes a while; an instant answer can race
  // the CLI's own start-up work): MOCK_LATENCY_MS for every answer,
  // MOCK_FIRST_LATENCY_MS extra for the first request of a prompt (no tool results yet).
  const latency =
    Number(process.env.MOCK_LATENCY_MS || 0) +
    (a.results.length === 0 && method === "streamGenerateContent" ? Number(process.env.MOCK_FIRST_LATENCY_MS || 0) : 0);
  if (latency > 0) await new Promise((r) => setTimeout(r, latency));
  const send = (parts, usage) => (method === "streamGenerateContent" ? streamReply(res, body, model, parts, usage) : jsonReply(res, model, parts, usage));

  if (isCompression(body, a)) {
    const reply = compressionSummary(a, name);
    log({ kind: "compression", ...common, system_head: sys.slice(0, 200), reply: ["text"] });
    return send(reply, usageFor(name, a, body, reply, { side: true }));
  }
  // Side calls: structured output (router, next-speaker and loop checks, ...)
  // or no tools on a non-streaming call.
  const schema = gc.responseJsonSchema || gc.responseSchema;
  if (schema || (method === "generateContent" && tools.size === 0)) {
    const reply = [text(schema ? JSON.stringify(fromSchema(schema)) : "OK.")];
    log({ kind: "side", ...common, system_head: sys.slice(0, 200), last_text_head: a.lastText.slice(0, 200), reply: [reply[0].text.slice(0, 200)] });
    return send(reply, usageFor(name, a, body, reply, { side: true }));
  }
  const scenario = SCENARIOS[name] || SCENARIOS.qa;
  const out = scenario(c);
  if (out?.error) {
    log({ kind: method === "streamGenerateContent" ? "stream" : "generate", ...common, reply: [`error:${out.error.code}:${out.error.status}`] });
    return errorReply(res, out.error);
  }
  log({
    kind: method === "streamGenerateContent" ? "stream" : "generate",
    ...common,
    reply: out.map((p) => (p.functionCall ? `call:${p.functionCall.name}` : p.thought ? "thought" : "text")),
  });
  return send(out, usageFor(name, a, body, out));
});

// CONNECT: some builds send every request through HTTPS_PROXY, even those to
// 127.0.0.1 (NO_PROXY ignored). A tunnel to this mock itself is accepted and
// served by this same HTTP server; anything else is logged and refused.
server.on("connect", (req, socket, head) => {
  const own = server.address().port;
  const m = String(req.url).match(/^(127\.0\.0\.1|localhost|\[::1\]):(\d+)$/);
  if (m && Number(m[2]) === own) {
    log({ kind: "proxy-connect-local", method: "CONNECT", target: req.url });
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head?.length) socket.unshift(head);
    server.emit("connection", socket);
    return;
  }
  log({ kind: "proxy-connect-refused", method: "CONNECT", target: req.url, headers: redactHeaders(req.headers) });
  socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
});
server.listen(PORT, "127.0.0.1", () => {
  const port = server.address().port;
  if (PORT_FILE) fs.writeFileSync(PORT_FILE, String(port));
  process.stdout.write(`mock-gemini listening on http://127.0.0.1:${port}\n`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
