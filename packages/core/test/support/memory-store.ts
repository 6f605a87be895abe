import {
  AmbiguousIdError,
  ConflictError,
  InvalidInputError,
  LegalHoldError,
  NotFoundError,
  UnsupportedError,
  assertIdOrPrefix,
  assertSessionId,
  assertSlug,
  parseJsonLine,
  type AppendResult,
  type ListQuery,
  type SessionDetail,
  type SessionInput,
  type SessionPage,
  type SessionStore,
  type SessionSummary,
  type StreamInfo,
} from "@sessionvault/core";

interface Entry {
  input: SessionInput;
  streams: Map<string, string[]>;
  held: boolean;
}

/**
 * A test-only, in-memory reference implementation of the store contract. It
 * exists so that core's own tests can prove the conformance suite (and the
 * writer queue) against a store whose behaviour is obvious by reading it.
 */
export class MemoryStore implements SessionStore {
  readonly appendCalls: { stream: string; expectedSeq: number; lines: number; durable: boolean }[] = [];
  private readonly sessions = new Map<string, Entry>();
  private readonly search: boolean;
  closed = 0;

  readonly capabilities: { textSearch: boolean };

  constructor(options: { search?: boolean } = {}) {
    this.search = options.search ?? true;
    this.capabilities = { textSearch: this.search };
  }

  async putSession(input: SessionInput): Promise<SessionSummary> {
    assertSessionId(input.id);
    const existing = this.sessions.get(input.id);
    // Facts left out of the input keep the stored ones (the SessionStore contract).
    if (existing) existing.input = input.facts === undefined && existing.input.facts !== undefined ? { ...input, facts: existing.input.facts } : { ...input };
    else this.sessions.set(input.id, { input: { ...input }, streams: new Map(), held: false });
    return this.summary(this.sessions.get(input.id)!);
  }

  async getSession(idOrPrefix: string): Promise<SessionDetail> {
    const entry = this.entry(this.resolve(idOrPrefix));
    return { ...this.summary(entry), streams: this.positions(entry), legal_hold: entry.held };
  }

  async listSessions(query: ListQuery = {}): Promise<SessionPage> {
    if (query.q !== undefined && !this.search) throw new UnsupportedError("the memory store cannot search");
    const archived = query.archived ?? "active";
    const all = [...this.sessions.values()]
      .map((e) => ({ e, s: this.summary(e) }))
      .filter(({ s }) => archived === "all" || (archived === "archived") === s.archived)
      .filter(({ s }) => query.cwd === undefined || s.cwd === query.cwd)
      .filter(({ s }) => query.agent === undefined || s.agent === query.agent)
      .filter(({ s }) => query.q === undefined || (s.title ?? "").includes(query.q))
      .map(({ s }) => s)
      .sort((a, b) => compareKeys(keyOf(b), keyOf(a)));
    let start = 0;
    if (query.cursor) {
      const after = JSON.parse(Buffer.from(query.cursor, "base64url").toString("utf8")) as [string, string];
      start = all.findIndex((s) => compareKeys(keyOf(s), after) < 0);
      if (start === -1) start = all.length;
    }
    const limit = query.limit ?? 50;
    const sessions = all.slice(start, start + limit);
    const last = sessions.at(-1);
    const more = start + limit < all.length;
    return { sessions, next_cursor: more && last ? Buffer.from(JSON.stringify(keyOf(last))).toString("base64url") : null };
  }

  async append(sessionId: string, stream: string, expectedSeq: number, lines: readonly string[], options?: { durable?: boolean }): Promise<AppendResult> {
    assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    if (lines.some((l) => l.includes("\n"))) throw new InvalidInputError("a line must not contain a newline");
    const entry = this.entry(sessionId);
    this.appendCalls.push({ stream, expectedSeq, lines: lines.length, durable: options?.durable === true });
    const current = entry.streams.get(stream) ?? [];
    if (expectedSeq !== current.length) throw new ConflictError(`stream ${stream} is at ${current.length}, not ${expectedSeq}`, current.length);
    entry.streams.set(stream, [...current, ...lines]);
    return { seq: current.length + lines.length };
  }

  async *readStream(sessionId: string, stream: string, options: { fromSeq?: number } = {}): AsyncGenerator<string> {
    assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    const lines = this.entry(sessionId).streams.get(stream) ?? [];
    for (let i = options.fromSeq ?? 0; i < lines.length; i++) yield lines[i]!;
  }

  async streamPositions(sessionId: string): Promise<StreamInfo[]> {
    assertSessionId(sessionId);
    return this.positions(this.entry(sessionId));
  }

  async deleteSession(sessionId: string): Promise<void> {
    assertSessionId(sessionId);
    const entry = this.entry(sessionId);
    if (entry.held) throw new LegalHoldError(sessionId);
    this.sessions.delete(sessionId);
  }

  async setLegalHold(sessionId: string, held: boolean): Promise<void> {
    assertSessionId(sessionId);
    this.entry(sessionId).held = held;
  }

  async close(): Promise<void> {
    this.closed++;
  }

  private resolve(idOrPrefix: string): string {
    const prefix = assertIdOrPrefix(idOrPrefix);
    const matches = [...this.sessions.keys()].filter((id) => id.startsWith(prefix));
    if (matches.length === 0) throw new NotFoundError(`session ${idOrPrefix} not found`);
    if (matches.length > 1) throw new AmbiguousIdError(idOrPrefix, matches);
    return matches[0]!;
  }

  private entry(id: string): Entry {
    const entry = this.sessions.get(id);
    if (!entry) throw new NotFoundError(`session ${id} not found`);
    return entry;
  }

  private positions(entry: Entry): StreamInfo[] {
    return [...entry.streams].map(([name, lines]) => ({ name, lines: lines.length, bytes: lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0) }));
  }

  private summary(entry: Entry): SessionSummary {
    const rollout = entry.streams.get("rollout") ?? [];
    const { updated_at: inputUpdated, ...input } = entry.input;
    let updated = inputUpdated ?? input.created_at;
    if (rollout.length > 0) updated = input.created_at;
    for (let i = rollout.length - 1; i >= 0; i--) {
      try {
        const value = parseJsonLine(rollout[i]!) as { timestamp?: unknown } | undefined;
        if (typeof value?.timestamp === "string") {
          updated = value.timestamp;
          break;
        }
      } catch {
        // A non-JSON line has no timestamp; look further back.
      }
    }
    return {
      ...input,
      agent: input.agent ?? "codex",
      updated_at: updated,
      lines: rollout.length,
      bytes: rollout.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0),
    };
  }
}

type Key = [string, string];
const keyOf = (s: SessionSummary): Key => [s.created_at, s.id];
const compareKeys = (a: Key, b: Key): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
