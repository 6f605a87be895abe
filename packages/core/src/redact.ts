/**
 * Secret redaction for anything sessionvault writes or exports that may carry
 * credentials: command strings in action exports, captured request/response
 * bodies.
 *
 * Why not a scanner library: secretlint's recommended preset (the obvious
 * candidate; 11.x runs on Node 20) is asynchronous, reports whole URLs
 * instead of the password inside them, and misses several classes we must
 * cover (`sk-proj-…` keys without the legacy marker, bearer tokens,
 * `API_KEY=…` assignments, `--password …` flags). So the rules below are a
 * small, reviewed set modelled on gitleaks' default rules (ids in comments),
 * plus the generic assignment/flag/URL rules. A cheap keyword pre-check keeps
 * text without any trigger (most commands) on a fast path.
 */
const REDACTED = "[REDACTED]";

interface Rule {
  id: string;
  pattern: RegExp;
  /** Replacement for one match; default replaces the whole match. */
  replace?: (match: string, ...groups: string[]) => string;
}

const keepPrefix = (_m: string, prefix: string) => `${prefix}${REDACTED}`;

const RULES: readonly Rule[] = [
  // gitleaks: private-key
  { id: "private-key", pattern: /-----BEGIN[A-Z ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END[A-Z ]*PRIVATE KEY( BLOCK)?-----|$)/g },
  // gitleaks: openai-api-key, anthropic-api-key (both sk-… prefixed)
  { id: "openai-anthropic-key", pattern: /\bsk-(?:proj-|svcacct-|admin-|ant-(?:api\d\d-|admin\d\d-)?)?[A-Za-z0-9_-]{20,}/g },
  // gitleaks: github-pat, github-oauth, github-app-token, github-refresh-token, github-fine-grained-pat
  { id: "github-token", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  // gitleaks: gitlab-pat
  { id: "gitlab-token", pattern: /\bglpat-[A-Za-z0-9_-]{20,}\b/g },
  // gitleaks: aws-access-token
  { id: "aws-access-key-id", pattern: /\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g },
  // gitleaks: slack-bot-token, slack-user-token, slack-app-token, slack-webhook-url
  { id: "slack-token", pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+|https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9+/]{20,}/g },
  // gitleaks: gcp-api-key
  { id: "google-api-key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  // gitleaks: stripe-access-token
  { id: "stripe-key", pattern: /\b(?:sk|rk)_(?:live|test|prod)_[0-9a-zA-Z]{10,99}\b/g },
  // gitleaks: npm-access-token
  { id: "npm-token", pattern: /\bnpm_[A-Za-z0-9]{36}\b/g },
  // gitleaks: jwt
  { id: "jwt", pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  // Authorization: Bearer/Basic/Token <credential>
  { id: "auth-scheme", pattern: /\b((?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]{8,}/gi, replace: keepPrefix },
  // Header lines: `x-api-key: value`, `Authorization: value`, `Cookie: value`
  {
    id: "secret-header",
    pattern: /\b((?:x-api-key|api-key|x-auth-token|x-goog-api-key|proxy-authorization|authorization|cookie)\s*:\s*)(?!\[REDACTED\])(?!(?:Bearer|Basic|Token)\s)[^\s'",;][^'"\n]*/gi,
    replace: keepPrefix,
  },
  // `password=…` in URLs' userinfo: keep scheme, user and host
  { id: "url-password", pattern: /(\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/@'"]+:)[^\s@/'"]+(?=@)/gi, replace: keepPrefix },
  // KEY=value assignments (env vars, .env lines, `export …`) whose name says secret
  {
    id: "secret-assignment",
    pattern: /\b([A-Za-z0-9_]*(?:API_?KEY|APIKEY|SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH)[A-Za-z0-9_]*\s*=\s*)(?!\[REDACTED\])("[^"]*"|'[^']*'|[^\s'"&;|]+)/gi,
    replace: keepPrefix,
  },
  // JSON-ish `"api_key": "value"` (captured bodies, config dumps)
  {
    id: "secret-json-field",
    pattern: /("(?:[A-Za-z0-9_-]*(?:api_?key|apikey|secret|token|password|passwd|private_?key|access_?key|credentials?))"\s*:\s*")(?!\[REDACTED\])(?:[^"\\]|\\.)+(?=")/gi,
    replace: keepPrefix,
  },
  // CLI flags: --password VALUE, --token=VALUE, …
  {
    id: "secret-flag",
    pattern: /(--(?:password|passwd|pass|token|api-key|apikey|api_key|secret|client-secret|access-token|auth-token|private-key)(?:=|\s+))(?!\[REDACTED\])("[^"]*"|'[^']*'|[^\s'"]+)/gi,
    replace: keepPrefix,
  },
];

/** Any of these (case-insensitive) must appear for any rule to match. */
const TRIGGER =
  /sk-|gh[pousr]_|github_pat_|glpat-|a3t|akia|asia|abia|acca|xox|xapp-|hooks\.slack|aiza|_live_|_test_|_prod_|npm_|eyj|bearer|basic|token|key|auth|cookie|secret|passw|pass|credential|:\/\/[^\s/@]*:[^\s/@]*@/i;

export function redactSecrets(text: string): string {
  if (!TRIGGER.test(text)) return text;
  let out = text;
  for (const rule of RULES) {
    rule.pattern.lastIndex = 0;
    if (!rule.pattern.test(out)) continue;
    rule.pattern.lastIndex = 0;
    out = rule.replace ? out.replace(rule.pattern, rule.replace as (m: string, ...g: string[]) => string) : out.replace(rule.pattern, REDACTED);
  }
  return out;
}

/** Rule ids, for docs and tests. */
export const REDACTION_RULE_IDS: readonly string[] = RULES.map((r) => r.id);
