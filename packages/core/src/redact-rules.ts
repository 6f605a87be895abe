/**
 * The redaction rules behind `redactSecrets` (redact.ts).
 *
 * Why not a scanner library: secretlint's recommended preset (the obvious
 * candidate; 11.x runs on Node 20) is asynchronous, reports whole URLs
 * instead of the password inside them, and misses several classes we must
 * cover (`sk-proj-…` keys without the legacy marker, bearer tokens,
 * `API_KEY=…` assignments, `--password …` flags). So the rules below are a
 * small, reviewed set modelled on gitleaks' default rules (ids in comments),
 * plus the generic assignment/flag/URL rules.
 *
 * Each rule also names its anchors: literals (compared case-insensitively)
 * of which every match contains at least one, and `needs`: characters every
 * match contains. They let redact.ts skip a rule after one scan of the
 * text instead of running its pattern. A rule whose anchors are incomplete
 * would silently stop redacting, so test/redact-prescan.test.ts compares
 * the pre-scanned result with all rules applied unconditionally.
 */
export const REDACTED = "[REDACTED]";

export interface RedactionRule {
  id: string;
  pattern: RegExp;
  /** Replacement for one match; default replaces the whole match. */
  replace?: (match: string, ...groups: string[]) => string;
  /** Lower-case literals; every match contains one of them (in any case). */
  anchors: readonly string[];
  /** The text contains all of these wherever the rule matches (case-sensitive). */
  needs?: readonly string[];
  /**
   * Sticky pattern that the text right after an anchor matches wherever the
   * rule matches there. It must not accept "[" (so text after a replacement,
   * which starts with "[REDACTED]", can never pass where the original failed).
   */
  after?: RegExp;
  /**
   * Like `after`, for a pattern that has to accept "[": it only rules the
   * rule out when no earlier rule can match, so the rule sees the original text.
   */
  afterIfFirst?: RegExp;
}

const keepPrefix = (_m: string, prefix: string) => `${prefix}${REDACTED}`;

export const REDACTION_RULES: readonly RedactionRule[] = [
  // gitleaks: private-key
  { id: "private-key", pattern: /-----BEGIN[A-Z ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END[A-Z ]*PRIVATE KEY( BLOCK)?-----|$)/g, anchors: ["-----begin"] },
  // gitleaks: openai-api-key, anthropic-api-key (both sk-… prefixed)
  { id: "openai-anthropic-key", pattern: /\bsk-(?:proj-|svcacct-|admin-|ant-(?:api\d\d-|admin\d\d-)?)?[A-Za-z0-9_-]{20,}/g, anchors: ["sk-"] },
  // gitleaks: github-pat, github-oauth, github-app-token, github-refresh-token, github-fine-grained-pat
  {
    id: "github-token",
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g,
    anchors: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
  },
  // gitleaks: gitlab-pat
  { id: "gitlab-token", pattern: /\bglpat-[A-Za-z0-9_-]{20,}\b/g, anchors: ["glpat-"] },
  // gitleaks: aws-access-token
  { id: "aws-access-key-id", pattern: /\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g, anchors: ["a3t", "akia", "asia", "abia", "acca"] },
  // gitleaks: slack-bot-token, slack-user-token, slack-app-token, slack-webhook-url
  {
    id: "slack-token",
    pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+|https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9+/]{20,}/g,
    anchors: ["xox", "xapp-", "hooks.slack.com/"],
  },
  // gitleaks: gcp-api-key
  { id: "google-api-key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g, anchors: ["aiza"] },
  // gitleaks: stripe-access-token
  { id: "stripe-key", pattern: /\b(?:sk|rk)_(?:live|test|prod)_[0-9a-zA-Z]{10,99}\b/g, anchors: ["_live_", "_test_", "_prod_"] },
  // gitleaks: npm-access-token
  { id: "npm-token", pattern: /\bnpm_[A-Za-z0-9]{36}\b/g, anchors: ["npm_"] },
  // gitleaks: jwt
  { id: "jwt", pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, anchors: ["eyj"], needs: ["."] },
  // Authorization: Bearer/Basic/Token <credential>
  {
    id: "auth-scheme",
    pattern: /\b((?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
    replace: keepPrefix,
    anchors: ["bearer", "basic", "token"],
    after: /\s+[A-Za-z0-9._~+/=-]{8}/y,
  },
  // Header lines: `x-api-key: value`, `Authorization: value`, `Cookie: value`
  {
    id: "secret-header",
    pattern:
      /\b((?:x-api-key|api-key|x-auth-token|x-goog-api-key|proxy-authorization|authorization|cookie)\s*:\s*)(?!\[REDACTED\])(?!(?:Bearer|Basic|Token)\s)[^\s'",;][^'"\n]*/gi,
    replace: keepPrefix,
    anchors: ["key", "token", "auth", "cookie"],
    needs: [":"],
    after: /[A-Za-z-]*\s*:/y,
  },
  // `password=…` in URLs' userinfo: keep scheme, user and host
  {
    id: "url-password",
    pattern: /(\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/@'"]+:)[^\s@/'"]+(?=@)/gi,
    replace: keepPrefix,
    anchors: ["://"],
    needs: ["@"],
    afterIfFirst: /[^\s:/@'"]+:[^\s@/'"]+@/y,
  },
  // KEY=value assignments (env vars, .env lines, `export …`) whose name says secret
  {
    id: "secret-assignment",
    pattern:
      /\b([A-Za-z0-9_]*(?:API_?KEY|APIKEY|SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH)[A-Za-z0-9_]*\s*=\s*)(?!\[REDACTED\])("[^"]*"|'[^']*'|[^\s'"&;|]+)/gi,
    replace: keepPrefix,
    anchors: ["key", "secret", "token", "pass", "credential", "auth"],
    needs: ["="],
    after: /[A-Za-z0-9_]*\s*=/y,
  },
  // JSON-ish `"api_key": "value"` (captured bodies, config dumps)
  {
    id: "secret-json-field",
    pattern:
      /("(?:[A-Za-z0-9_-]*(?:api_?key|apikey|secret|token|password|passwd|private_?key|access_?key|credentials?))"\s*:\s*")(?!\[REDACTED\])(?:[^"\\]|\\.)+(?=")/gi,
    replace: keepPrefix,
    anchors: ["key", "secret", "token", "pass", "credential"],
    needs: ['"', ":"],
    after: /[A-Za-z0-9_-]*"\s*:\s*"/y,
  },
  // CLI flags: --password VALUE, --token=VALUE, …
  {
    id: "secret-flag",
    pattern:
      /(--(?:password|passwd|pass|token|api-key|apikey|api_key|secret|client-secret|access-token|auth-token|private-key)(?:=|\s+))(?!\[REDACTED\])("[^"]*"|'[^']*'|[^\s'"]+)/gi,
    replace: keepPrefix,
    anchors: ["pass", "token", "key", "secret"],
    needs: ["--"],
    after: /[A-Za-z]*(?:=|\s)/y,
  },
];
