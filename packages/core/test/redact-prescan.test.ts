import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mayContainSecrets, redactSecrets } from "../src/redact.js";
import { REDACTED, REDACTION_RULES } from "../src/redact-rules.js";

/**
 * redactSecrets skips rules after a scan for their anchors. The truth is
 * every rule applied unconditionally, in order: whatever the scan decides,
 * the output must be the same, or a secret goes unredacted.
 */
function everyRule(text: string): string {
  let out = text;
  for (const rule of REDACTION_RULES) {
    rule.pattern.lastIndex = 0;
    out = rule.replace ? out.replace(rule.pattern, rule.replace as (m: string, ...g: string[]) => string) : out.replace(rule.pattern, REDACTED);
  }
  return out;
}

/** Test credentials are assembled at run time so that no secret-looking literal sits in the repo. */
const j = (...parts: string[]) => parts.join("");
const ROOT = join(import.meta.dirname, "../../..");

/** For every rule and every one of its anchors, text the rule redacts through that anchor alone. */
const BY_ANCHOR: Record<string, Record<string, string>> = {
  "private-key": { "-----begin": "k='-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----'" },
  "openai-anthropic-key": { "sk-": `key ${j("sk-", "ant-api03-", "abcdefghijklmnopqrstuv0123")}` },
  "github-token": {
    ghp_: j("ghp_", "A".repeat(36)),
    gho_: j("gho_", "B".repeat(36)),
    ghu_: j("ghu_", "C".repeat(36)),
    ghs_: j("ghs_", "D".repeat(36)),
    ghr_: j("ghr_", "E".repeat(36)),
    github_pat_: j("github_pat_", "11ABCDEFG0123456789_abcdefghijklmnop"),
  },
  "gitlab-token": { "glpat-": j("glpat-", "abcdefghij0123456789") },
  "aws-access-key-id": {
    a3t: j("A3T", "X", "IOSFODNN7EXAMPLE"),
    akia: j("AKIA", "IOSFODNN7EXAMPLE"),
    asia: j("ASIA", "IOSFODNN7EXAMPLE"),
    abia: j("ABIA", "IOSFODNN7EXAMPLE"),
    acca: j("ACCA", "IOSFODNN7EXAMPLE"),
  },
  "slack-token": {
    xox: j("xoxb-", "123456789012-abcdefGHIJ"),
    "xapp-": j("xapp-", "1-A0123-456-abc123"),
    "hooks.slack.com/": j("https://hooks.slack.com/services/", "T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"),
  },
  "google-api-key": { aiza: j("AIza", "SyA-0123456789abcdefghijklmnopqrstu") },
  "stripe-key": { _live_: j("sk_live_", "abcdefghij0123"), _test_: j("rk_test_", "abcdefghij0123"), _prod_: j("sk_prod_", "abcdefghij0123") },
  "npm-token": { npm_: j("npm_", "a".repeat(36)) },
  jwt: { eyj: j("eyJ", "hbGciOiJIUzI1NiJ9", ".eyJ", "zdWIiOiIxMjM0NTY3ODkwIn0", ".", "dozjgNryP4J3jVmNHl0w5N") },
  "auth-scheme": { bearer: "BEARER abcdefgh12", basic: "basic dXNlcjpwYXNz", token: "Token\tabcdefgh12" },
  "secret-header": { key: "X-Goog-Api-Key:v1234", token: "x-auth-token : v1234", auth: "Proxy-Authorization: v1234", cookie: "COOKIE:sid=1" },
  "url-password": { "://": "redis://default:hunter2@cache:6379" },
  "secret-assignment": {
    key: "private_key = abc",
    secret: "CLIENT_SECRET=abc",
    token: "gh_token=abc",
    pass: "DB_PASSPHRASE='a b'",
    credential: "CREDENTIALS=abc",
    auth: "AUTH=abc",
  },
  "secret-json-field": {
    key: '{"Access_Key" : "abc"}',
    secret: '{"client_secret":"a\\"bc"}',
    token: '{"refresh-token": "abc"}',
    pass: '{"passwd":"abc"}',
    credential: '{"credentials": "abc"}',
  },
  "secret-flag": { pass: "login --pass 'a b'", token: "x --access-token=abc", key: "x --private-key k.pem", secret: "x --client-secret abc" },
};

describe("the anchor pre-scan", () => {
  it("has a sample for every anchor of every rule", () => {
    for (const rule of REDACTION_RULES) {
      expect(Object.keys(BY_ANCHOR[rule.id] ?? {}).sort(), rule.id).toEqual([...rule.anchors].sort());
    }
  });

  for (const rule of REDACTION_RULES) {
    it(`lets ${rule.id} redact through each of its anchors, alone and inside other text`, () => {
      for (const [anchor, sample] of Object.entries(BY_ANCHOR[rule.id] ?? {})) {
        // The sample really needs this rule: without it nothing (or something else) happens.
        rule.pattern.lastIndex = 0;
        expect(rule.pattern.test(sample), `${rule.id} matches its ${anchor} sample`).toBe(true);
        for (const text of [sample, `${"lorem ipsum ".repeat(50)}${sample}\n${"dolor ".repeat(50)}`]) {
          const out = redactSecrets(text);
          expect(out, `${rule.id} via ${anchor}`).toBe(everyRule(text));
          expect(out).toContain(REDACTED);
          expect(mayContainSecrets(text)).toBe(true);
        }
      }
    });
  }

  it("runs a rule that an earlier rule's replacement makes match, though the original text ruled it out", () => {
    // The space inside the key block keeps the URL rule from matching the original; once the block is "[REDACTED]" it matches.
    const text = "x://user-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----:hunter2@host";
    expect(everyRule(text)).toBe("x://user[REDACTED]:[REDACTED]@host");
    expect(redactSecrets(text)).toBe(everyRule(text));
    // Without the earlier rule the scan alone decides, and the URL rule is ruled out.
    expect(mayContainSecrets("x://user name:hunter2@host")).toBe(false);
  });

  it("agrees with every rule applied unconditionally on real Codex rollouts, docs and sources", () => {
    const texts = [
      ...files(join(ROOT, "fixtures/codex"), ".jsonl").flatMap((t) => t.split("\n")),
      ...files(join(ROOT, "docs"), ".md"),
      ...files(join(ROOT, "packages/core/src"), ".ts"),
    ];
    expect(texts.length).toBeGreaterThan(500);
    let changed = 0;
    for (const t of texts) {
      const want = everyRule(t);
      expect(redactSecrets(t)).toBe(want);
      if (want !== t) changed++;
    }
    // The corpus is not trivially clean: some of it is redacted.
    expect(changed).toBeGreaterThan(0);
  });

  it("agrees with every rule applied unconditionally on generated text full of anchors, near-misses and secrets", () => {
    const fragments = [
      ...Object.values(BY_ANCHOR).flatMap((m) => Object.values(m)),
      ...REDACTION_RULES.flatMap((r) => r.anchors),
      ...REDACTION_RULES.flatMap((r) => r.anchors.map((a) => a.toUpperCase())),
      "Key",
      "TOKEN",
      "Pass",
      "word",
      "wd",
      "s",
      "_",
      "-",
      "--",
      "=",
      " = ",
      ":",
      ": ",
      '"',
      "'",
      " ",
      "\t",
      "\n",
      "@",
      "://",
      "/",
      ".",
      "[REDACTED]",
      "abcdefgh",
      "ABCDEFGHIJKLMNOP",
      "0123456789",
      "x",
      "\\",
      '\\"',
      "https://",
      "user:",
      "-----END RSA PRIVATE KEY-----",
      "-----BEGIN RSA PRIVATE KEY-----",
      "eyJ",
      "api",
      "API_",
      "private",
      "access",
      "x-api-",
      "authorization",
      "Bearer ",
      "--password ",
    ];
    let seed = 0x5eed;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let changed = 0;
    let skipped = 0;
    for (let i = 0; i < 20_000; i++) {
      let t = "";
      const parts = 1 + rand(12);
      for (let k = 0; k < parts; k++) t += fragments[rand(fragments.length)];
      const want = everyRule(t);
      const got = redactSecrets(t);
      if (got !== want) expect({ input: t, got }).toEqual({ input: t, got: want });
      if (want !== t) changed++;
      if (!mayContainSecrets(t)) {
        skipped++;
        expect(want).toBe(t);
      }
    }
    expect(changed).toBeGreaterThan(1000);
    expect(skipped).toBeGreaterThan(100);
  });

  it("reports nothing to redact in ordinary text where the old keyword check fired", () => {
    for (const t of [
      "x".repeat(900),
      "The tokens were counted and the keyboard passed the test.",
      "for (const k of map.keys()) count++;",
      '{"type":"response.output_text.delta","delta":"the token budget"}',
      "usage: input_tokens 120, output_tokens 30",
    ]) {
      expect(mayContainSecrets(t), t).toBe(false);
      expect(redactSecrets(t)).toBe(t);
    }
  });
});

function files(path: string, ext: string): string[] {
  return readdirSync(path, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => readFileSync(join(e.parentPath, e.name), "utf8"));
}
