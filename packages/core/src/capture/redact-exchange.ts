import { redactSecrets } from "../redact.js";

/**
 * Redaction of raw model-API exchanges, applied before anything reaches a
 * file or a store. Headers are redacted by name, JSON bodies by key (a value
 * under a secret-looking key is replaced whatever it looks like) and every
 * remaining string goes through `redactSecrets`, which catches keys and
 * tokens by their shape (e.g. a key pasted into a prompt).
 */
const REDACTED = "[REDACTED]";

const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "api-key",
  "x-api-key",
  "openai-api-key",
  "x-goog-api-key",
  "cookie",
  "set-cookie",
  "x-amz-security-token",
  "chatgpt-account-id",
]);

/** Header names that carry credentials under a vendor prefix (`x-foo-token`, `x-bar-secret`, …). */
const SECRET_HEADER_PATTERN = /(^|[-_])(token|secret|password|api[-_]?key|auth)($|[-_])/i;

/** JSON keys whose value is a credential whatever its shape. */
const SECRET_KEY_PATTERN =
  /^(api[-_]?key|apikey|access[-_]?token|refresh[-_]?token|id[-_]?token|auth[-_]?token|bearer[-_]?token|token|secret|client[-_]?secret|password|passwd|pwd|authorization|cookie|private[-_]?key|session[-_]?token|aws[-_]?secret[-_]?access[-_]?key|x[-_]api[-_]key)$/i;

export function isSecretHeader(name: string): boolean {
  const n = name.toLowerCase();
  return SECRET_HEADERS.has(n) || SECRET_HEADER_PATTERN.test(n);
}

export type HeaderInput = Iterable<[string, string | string[] | undefined]> | Record<string, string | string[] | undefined>;

/**
 * Lower-cased, redacted copy of a header set. An Authorization value keeps
 * its scheme (`Bearer [REDACTED]`) because the scheme helps debugging and
 * is not secret.
 */
export function redactHeaders(headers: HeaderInput): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Symbol.iterator in headers ? (headers as Iterable<[string, string | string[] | undefined]>) : Object.entries(headers);
  for (const [rawName, rawValue] of entries) {
    if (rawValue === undefined) continue;
    const name = rawName.toLowerCase();
    const value = Array.isArray(rawValue) ? rawValue.join(", ") : rawValue;
    if (isSecretHeader(name)) {
      const scheme = /^(bearer|basic|token)\s+/i.exec(value);
      out[name] = scheme ? `${scheme[1]} ${REDACTED}` : REDACTED;
    } else {
      out[name] = redactSecrets(value);
    }
  }
  return out;
}

/**
 * A JSON value with secret keys and secret-shaped strings replaced. Parts
 * with nothing to redact are shared with `value`, not copied (most of a
 * streamed exchange has nothing to redact, and copying every event's tree
 * costs more than scanning it): the result is `value` itself when nothing
 * changed.
 */
export function redactJson(value: unknown): unknown {
  if (typeof value === "string") return redactSecrets(value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const r = redactJson(v);
      if (r !== v) (out ??= value.slice())[i] = r;
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    const v = (value as Record<string, unknown>)[k];
    const r = SECRET_KEY_PATTERN.test(k) && v !== null && v !== "" ? REDACTED : redactJson(v);
    // Defined, not assigned: a "__proto__" key from JSON.parse is an own property, and assigning it would set the prototype and leave the unredacted copy in place.
    if (r !== v)
      Object.defineProperty((out ??= { ...(value as Record<string, unknown>) }), k, { value: r, enumerable: true, writable: true, configurable: true });
  }
  return out ?? value;
}

/**
 * A request or response body for the raw log: parsed JSON when it is JSON
 * (redacted by key and shape), else the redacted text.
 */
export function redactBody(text: string): unknown {
  const t = text.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return redactJson(JSON.parse(t));
    } catch {
      // Not JSON after all: fall through to text redaction.
    }
  }
  return redactSecrets(text);
}
