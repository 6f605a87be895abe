// Benchmark: redactSecrets over text with nothing to redact (the common
// case on the capture path: every string of every streamed event goes
// through it) and over text with secrets, against baselines measured in the
// same run over the same strings:
//
//   includes   a plain String#includes scan for a literal that is not there
//              (the floor: one native pass over the text)
//   previous   the algorithm before the anchor scan: one case-insensitive
//              keyword regex over the whole text, then every rule's pattern
//              when any keyword is present (same rules, same output)
//
//   pnpm --filter @sessionvault/core bench     (after `pnpm build`; turbo does that for `pnpm bench`)
//
// Env: SV_BENCH_REDACT_MB  text scanned per measurement and corpus (default 32)
//      SV_BENCH_RUNS       measurements per function, best one counts (default 3)
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { redactSecrets } from "../dist/index.js";
import { REDACTED, REDACTION_RULES } from "../dist/redact-rules.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "../../..");
const MB = 1024 * 1024;
const PER_MEASURE = Number(process.env.SV_BENCH_REDACT_MB ?? 32) * MB;
const RUNS = Math.max(1, Number(process.env.SV_BENCH_RUNS ?? 3));

const PREVIOUS_TRIGGER =
  /sk-|gh[pousr]_|github_pat_|glpat-|a3t|akia|asia|abia|acca|xox|xapp-|hooks\.slack|aiza|_live_|_test_|_prod_|npm_|eyj|bearer|basic|token|key|auth|cookie|secret|passw|pass|credential|:\/\/[^\s/@]*:[^\s/@]*@/i;
function previous(text) {
  if (!PREVIOUS_TRIGGER.test(text)) return text;
  let out = text;
  for (const rule of REDACTION_RULES) {
    rule.pattern.lastIndex = 0;
    if (!rule.pattern.test(out)) continue;
    rule.pattern.lastIndex = 0;
    out = rule.replace ? out.replace(rule.pattern, rule.replace) : out.replace(rule.pattern, REDACTED);
  }
  return out;
}
const includes = (text) => (text.includes("\u0000no such literal") ? "" : text);

/** Test credentials are assembled at run time so that no secret-looking literal sits in the repo. */
const j = (...parts) => parts.join("");

function corpora() {
  const delta = "x".repeat(900);
  // Model output: the repository's prose, which talks about tokens, keys and passwords without holding any.
  const prose = ["README.md", "DESIGN.md", "docs"].flatMap((p) => textFiles(join(ROOT, p), ".md")).join("\n");
  const code = textFiles(join(ROOT, "packages/core/src"), ".ts").join("\n");
  const rollout = textFiles(join(ROOT, "fixtures/codex/0.169.0/sessions"), ".jsonl").join("\n");
  const b64 = Buffer.alloc(768 * 1024, 0)
    .map((_, i) => (i * 2654435761) >>> 24)
    .toString("base64");
  const secrets = [
    `export OPENAI_API_KEY=${j("sk-", "proj-", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4")}`,
    "curl -H 'Authorization: Bearer abc.def-ghi_jkl012345' https://x",
    `git clone https://${j("ghp_", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}@github.com/o/r`,
    "psql postgres://app:pw0rd@db:5432/app",
  ];
  const mixed = prose
    .split("\n")
    .map((l, i) => (i % 40 === 0 ? `${l} ${secrets[(i / 40) % secrets.length]}` : l))
    .join("\n");
  return [
    // name, strings (each one call), note
    ["SSE delta, 900 x", [delta], "nothing to redact"],
    ["prose, 2 KB pieces", pieces(prose, 2048), "keywords, no secrets"],
    ["TypeScript, 2 KB pieces", pieces(code, 2048), "keywords, no secrets"],
    ["rollout lines (0.169.0)", rollout.split("\n").filter(Boolean), "real Codex lines"],
    ["base64 image, 1 MB", [b64], "random letters"],
    ["prose + secrets, 2 KB pieces", pieces(mixed, 2048), "1 secret per 40 lines"],
  ];
}

function pieces(text, size) {
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function textFiles(path, ext) {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    try {
      return path.endsWith(ext) ? [readFileSync(path, "utf8")] : [];
    } catch {
      return [];
    }
  }
  return entries
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? textFiles(join(path, e.name), ext) : e.name.endsWith(ext) ? [readFileSync(join(path, e.name), "utf8")] : []));
}

function measure(fn, strings) {
  const chars = strings.reduce((n, s) => n + s.length, 0);
  const rounds = Math.max(1, Math.round(PER_MEASURE / chars));
  let sink = 0;
  for (const s of strings) sink += fn(s).length; // warm-up
  let best = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let k = 0; k < rounds; k++) for (const s of strings) sink += fn(s).length;
    best = Math.min(best, performance.now() - t0);
  }
  if (sink < 0) console.log(sink);
  return { mbps: (chars * rounds) / MB / (best / 1000), usPerCall: (best * 1000) / (rounds * strings.length) };
}

console.log(`redact bench: ${PER_MEASURE / MB} MB per measurement, best of ${RUNS}, node ${process.version}`);
console.log(
  `${"corpus".padEnd(30)} ${"includes (baseline)".padStart(20)} ${"previous".padStart(20)} ${"redactSecrets".padStart(20)}  ratio vs includes  speed-up vs previous`,
);
for (const [name, strings, note] of corpora()) {
  if (strings.length === 0) continue;
  for (const s of strings) {
    if (redactSecrets(s) !== previous(s)) throw new Error(`redactSecrets and the previous algorithm disagree on a ${name} string`);
  }
  const base = measure(includes, strings);
  const prev = measure(previous, strings);
  const now = measure(redactSecrets, strings);
  const cell = (m) => `${m.mbps.toFixed(0)} MB/s ${m.usPerCall.toFixed(2)} µs`.padStart(20);
  console.log(
    `${name.padEnd(30)} ${cell(base)} ${cell(prev)} ${cell(now)}  ${(now.mbps / base.mbps).toFixed(4).padStart(17)}x  ${(now.mbps / prev.mbps).toFixed(2).padStart(19)}x  (${note})`,
  );
}
