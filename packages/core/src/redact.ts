import { REDACTED, REDACTION_RULES, type RedactionRule } from "./redact-rules.js";

/**
 * Secret redaction for anything sessionvault writes or exports that may carry
 * credentials: command strings in action exports, captured request/response
 * bodies (every string of every streamed event, so this is on the capture
 * proxy's hot path).
 *
 * Most text carries nothing to redact. One scan for the rules' anchors
 * (a single regular expression over all of them, built as a trie so the
 * engine tests one character class per position instead of ~30
 * alternatives) decides which rules can match at all; only those run. Words
 * like "key" or "token" are common in prose and code, so for the generic
 * rules an anchor only counts when the text after it fits the rule (`key=`,
 * `token: `, `"api_key": "`). A replacement only removes text or inserts
 * "[REDACTED]", which holds no anchor and no needed character, cannot
 * complete one across its brackets, and starts with a "[" that no `after`
 * pattern accepts, so what the scan of the original text rules out stays
 * ruled out while the rules run one after another (an `afterIfFirst`
 * pattern, which may accept "[", only rules out a rule that no earlier
 * candidate runs before).
 */

interface AnchorRules {
  /** Rules this anchor alone makes candidates. */
  plain: number;
  /** Rules it makes candidates only when the text after it matches their `after` (or `afterIfFirst`) pattern. */
  checked: { bit: number; after: RegExp }[];
}
const ANCHOR_RULES = new Map<string, AnchorRules>();
REDACTION_RULES.forEach((rule, i) => {
  for (const a of rule.anchors) {
    let entry = ANCHOR_RULES.get(a);
    if (!entry) ANCHOR_RULES.set(a, (entry = { plain: 0, checked: [] }));
    const after = rule.after ?? rule.afterIfFirst;
    if (after) entry.checked.push({ bit: 1 << i, after });
    else entry.plain |= 1 << i;
  }
});
/** Rules whose `afterIfFirst` only counts when no earlier rule is a candidate. */
const IF_FIRST = REDACTION_RULES.reduce((mask, rule, i) => (rule.afterIfFirst ? mask | (1 << i) : mask), 0);
if (REDACTION_RULES.length > 31) throw new Error("redaction rule masks hold at most 31 rules");

const ANCHOR_SCAN = new RegExp(trie([...ANCHOR_RULES.keys()]), "g");
/** Shorter text cannot hold any anchor. */
const MIN_ANCHOR = Math.min(...[...ANCHOR_RULES.keys()].map((a) => a.length));

export function redactSecrets(text: string): string {
  if (text.length < MIN_ANCHOR) return text;
  const candidates = candidateRules(text);
  if (candidates === 0) return text;
  let out = text;
  for (let i = 0; i < REDACTION_RULES.length; i++) {
    if ((candidates & (1 << i)) === 0) continue;
    out = applyRule(REDACTION_RULES[i]!, out);
  }
  return out;
}

/** Whether `redactSecrets` could change the text (false: it certainly returns it unchanged). */
export function mayContainSecrets(text: string): boolean {
  return text.length >= MIN_ANCHOR && candidateRules(text) !== 0;
}

/** Rule ids, for docs and tests. */
export const REDACTION_RULE_IDS: readonly string[] = REDACTION_RULES.map((r) => r.id);

function applyRule(rule: RedactionRule, text: string): string {
  rule.pattern.lastIndex = 0;
  if (!rule.pattern.test(text)) return text;
  rule.pattern.lastIndex = 0;
  return rule.replace ? text.replace(rule.pattern, rule.replace as (m: string, ...g: string[]) => string) : text.replace(rule.pattern, REDACTED);
}

/** Bit i set: rule i has an anchor (followed by what the rule needs after it) and all its needed characters in the text. */
function candidateRules(text: string): number {
  let found = 0;
  /** Rules with an `afterIfFirst` whose anchor was seen, whatever followed it. */
  let seenIfFirst = 0;
  ANCHOR_SCAN.lastIndex = 0;
  for (let m = ANCHOR_SCAN.exec(text); m !== null; m = ANCHOR_SCAN.exec(text)) {
    const entry = ANCHOR_RULES.get(m[0].toLowerCase())!;
    found |= entry.plain;
    for (const { bit, after } of entry.checked) {
      if ((found & bit) !== 0) continue;
      seenIfFirst |= bit & IF_FIRST;
      after.lastIndex = m.index + m[0].length;
      if (after.test(text)) found |= bit;
    }
    // Anchors may overlap ("keyj…" holds "key" and "eyj"): look again one character on.
    ANCHOR_SCAN.lastIndex = m.index + 1;
  }
  if (found === 0) return 0;
  for (let i = 0; i < REDACTION_RULES.length; i++) {
    const bit = 1 << i;
    // An earlier rule may rewrite the text this rule's afterIfFirst ruled out: then the rule runs after all.
    if ((seenIfFirst & bit) !== 0 && (found & (bit - 1)) !== 0) found |= bit;
    const needs = REDACTION_RULES[i]!.needs;
    if ((found & (1 << i)) !== 0 && needs && !needs.every((n) => text.includes(n))) found &= ~(1 << i);
  }
  return found;
}

/**
 * A regular-expression source matching any of the lower-case literals in
 * any letter case, factored by common prefixes (`a(?:3t|kia|…)|…`). The
 * letters are spelled as classes (`[kK]`) rather than with the `i` flag,
 * which makes the engine fold case at every position. No literal may be a
 * prefix of another: the scan reports one anchor per position.
 */
function trie(literals: readonly string[]): string {
  const byFirst = new Map<string, string[]>();
  for (const l of literals) {
    if (l.length === 0) continue;
    const rest = byFirst.get(l[0]!) ?? [];
    rest.push(l.slice(1));
    byFirst.set(l[0]!, rest);
  }
  const alternatives: string[] = [];
  for (const [first, rests] of byFirst) {
    if (rests.includes("") && rests.length > 1) throw new Error(`redaction anchor ${first}… is a prefix of another anchor`);
    const tail = rests.length === 1 && rests[0] === "" ? "" : rests.length === 1 ? literal(rests[0]!) : `(?:${trie(rests)})`;
    alternatives.push(charClass(first) + tail);
  }
  return alternatives.join("|");
}

function literal(s: string): string {
  return [...s].map(charClass).join("");
}

function charClass(c: string): string {
  const up = c.toUpperCase();
  if (up !== c) return `[${c}${up}]`;
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
