/**
 * A test over a rollout's raw bytes for the local search (`list --search`
 * over a Codex home): false only when no line of the file can hold the
 * needle in its search text, so the scan parses just the files that pass,
 * the way ripgrep reads a tree.
 *
 * It must never drop a file the search would match. The search compares
 * `text.toLowerCase()` with `q.toLowerCase()` over the decoded JSON strings,
 * so a character of the needle may be stored as itself, in the other ASCII
 * case, as a JSON escape (`\u00XX`, `\"`, `\\`, `\/`, `\n` …), or as one
 * of the two non-ASCII characters whose lower case is ASCII (KELVIN SIGN → k,
 * and İ → i + a combining dot, which can only end a match). A needle with
 * other non-ASCII characters is tested on the decoded, lower-cased text, and
 * any file with a `\u` escape passes.
 */
export interface BytePrefilter {
  /** What is looked for, lower-cased (a store with a text index of its own looks it up there). */
  readonly needle: string;
  /** May these bytes (whole lines, UTF-8) hold the needle? */
  testBytes(bytes: Buffer): boolean;
  /** The same test over decoded text (a sidecar, a thread name, one line). */
  testText(text: string): boolean;
  /** Most bytes one match can span: a reader that tests a file in chunks overlaps them by this much. */
  readonly span: number;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

export function bytePrefilter(q: string): BytePrefilter {
  const needle = q.toLowerCase();
  if (/^[\x00-\x7f]*$/.test(needle)) return asciiPrefilter(needle);
  return {
    needle,
    testBytes: (bytes) => bytes.includes("\\u") || bytes.toString("utf8").toLowerCase().includes(needle),
    testText: (text) => text.includes("\\u") || text.toLowerCase().includes(needle),
    span: needle.length * 12 + 8,
  };
}

function asciiPrefilter(needle: string): BytePrefilter {
  // One regex over the bytes read as latin1 (one char per byte: no decoding,
  // and V8 searches it as fast as a plain string), one over decoded text.
  const bytes = new RegExp([...needle].map((c, i) => group(c, i === needle.length - 1, true)).join(""));
  const text = new RegExp([...needle].map((c, i) => group(c, i === needle.length - 1, false)).join(""));
  return {
    needle,
    testBytes: (b) => bytes.test(b.toString("latin1")),
    testText: (t) => text.test(t),
    span: needle.length * 6,
  };
}

/** Every way one lower-cased ASCII character of the needle can be stored. */
function group(c: string, last: boolean, utf8: boolean): string {
  const forms: string[] = [];
  const cases = c >= "a" && c <= "z" ? [c, c.toUpperCase()] : [c];
  for (const ch of cases) {
    forms.push(literal(ch.charCodeAt(0)));
    forms.push(unicodeEscape(ch.charCodeAt(0)));
  }
  const short = SHORT_ESCAPES[c];
  if (short) forms.push(short.replace(/\\/g, "\\\\").replace(/\//g, "\\/"));
  if (c === "k") forms.push(utf8 ? "\\xe2\\x84\\xaa" : "\\u212a", unicodeEscape(0x212a));
  if (c === "i" && last) forms.push(utf8 ? "\\xc4\\xb0" : "\\u0130", unicodeEscape(0x130));
  return `(?:${forms.join("|")})`;
}

function literal(code: number): string {
  return `\\x${code.toString(16).padStart(2, "0")}`;
}

/** `\uXXXX` with hex digits in either case, as a regex. */
function unicodeEscape(code: number): string {
  const hex = code.toString(16).padStart(4, "0");
  return "\\\\u" + [...hex].map((h) => (h >= "a" ? `[${h}${h.toUpperCase()}]` : h)).join("");
}
