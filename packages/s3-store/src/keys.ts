import { assertSessionId, assertSlug, InvalidInputError } from "@sessionvault/core";

/**
 * Object keys of one store (see the layout comment in s3-store.ts). Every
 * id and name that reaches a key was checked here first, so no key can be
 * steered outside the store's prefix.
 */
export const POSITION_DIGITS = 12;
const TIME_DIGITS = 13;
const MAX_TIME = 10 ** TIME_DIGITS - 1;
const INDEX_PREFIX = "index/by-time/";
const INDEX_KEY = /^index\/by-time\/(\d{6})\/(\d{7})-([0-9a-f-]{36})$/;

export class StoreKeys {
  /** Ends with "/" or is empty. */
  readonly root: string;
  readonly tokensRoot: string;

  constructor(prefix: string | undefined, org: string | undefined) {
    const base = normalisePrefix(prefix);
    this.tokensRoot = `${base}.sessionvault/tokens/`;
    this.root = org === undefined ? base : `${base}orgs/${assertSlug(org, "org name")}/`;
  }

  session(id: string): string {
    return `${this.root}sessions/${assertSessionId(id)}/`;
  }
  sessionsPrefix(): string {
    return `${this.root}sessions/`;
  }
  sessionDoc(id: string): string {
    return `${this.session(id)}session.json`;
  }
  sessionHold(id: string): string {
    return `${this.session(id)}legal-hold.json`;
  }
  streamsPrefix(id: string): string {
    return `${this.session(id)}streams/`;
  }
  stream(id: string, stream: string): string {
    return `${this.streamsPrefix(id)}${assertSlug(stream, "stream name")}/`;
  }
  appendsPrefix(id: string, stream: string): string {
    return `${this.stream(id, stream)}appends/`;
  }
  append(id: string, stream: string, start: number): string {
    return `${this.appendsPrefix(id, stream)}${pad(start, POSITION_DIGITS)}`;
  }
  manifest(id: string, stream: string): string {
    return `${this.stream(id, stream)}manifest.json`;
  }
  segment(id: string, stream: string, start: number, end: number, nonce: string): string {
    return `${this.stream(id, stream)}segments/${pad(start, POSITION_DIGITS)}-${pad(end, POSITION_DIGITS)}-${nonce}`;
  }

  indexPrefix(): string {
    return `${this.root}${INDEX_PREFIX}`;
  }
  /** Newest first: the inverted creation time sorts ascending as time goes back. */
  indexEntry(createdAt: string, id: string): string {
    return `${this.root}${indexRelative(Date.parse(createdAt), assertSessionId(id))}`;
  }
  /** The index key that sorts just before every session created before `time`. */
  indexStartBefore(time: Date): string {
    const inv = pad(MAX_TIME - clampTime(time.getTime()), TIME_DIGITS);
    return `${this.root}${INDEX_PREFIX}${inv.slice(0, 6)}/${inv.slice(6)}-`;
  }
  /** The session id of an index key, or null for a foreign key. */
  parseIndexEntry(key: string): { id: string; created_ms: number } | null {
    if (!key.startsWith(this.root)) return null;
    const m = INDEX_KEY.exec(key.slice(this.root.length));
    if (!m) return null;
    return { id: m[3]!, created_ms: MAX_TIME - Number(m[1]! + m[2]!) };
  }

  trashPrefix(): string {
    return `${this.root}trash/`;
  }
  /** Soft-deleted sessions, sorted by when they may be purged. */
  trashEntry(purgeAfter: Date, id: string): string {
    return `${this.trashPrefix()}${pad(clampTime(purgeAfter.getTime()), TIME_DIGITS)}-${assertSessionId(id)}`;
  }

  orgHold(): string {
    return `${this.root}legal-hold.json`;
  }
  auditPrefix(): string {
    return `${this.root}audit/`;
  }
  auditRecord(at: Date, nonce: string): string {
    const iso = at.toISOString();
    return `${this.auditPrefix()}${iso.slice(0, 7)}/${iso.replace(/[:.]/g, "-")}-${nonce}.json`;
  }

  token(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new InvalidInputError("a token hash is 64 lower-case hex characters");
    return `${this.tokensRoot}${hash}.json`;
  }

  /** Encodes an index key as an opaque list cursor, relative to this store. */
  cursorFor(indexKey: string): string {
    return Buffer.from(indexKey.slice(this.root.length), "utf8").toString("base64url");
  }
  /** The index key a cursor stands for; InvalidInputError for anything else. */
  indexKeyFromCursor(cursor: string): string {
    const rel = Buffer.from(cursor, "base64url").toString("utf8");
    if (!INDEX_KEY.test(rel)) throw new InvalidInputError(`invalid list cursor ${JSON.stringify(cursor)}`);
    return `${this.root}${rel}`;
  }
}

export function indexRelative(createdMs: number, id: string): string {
  const inv = pad(MAX_TIME - clampTime(createdMs), TIME_DIGITS);
  return `${INDEX_PREFIX}${inv.slice(0, 6)}/${inv.slice(6)}-${id}`;
}

export function pad(n: number, digits: number): string {
  return String(n).padStart(digits, "0");
}

export function positionOfAppendKey(key: string): number {
  return Number(key.slice(key.lastIndexOf("/") + 1));
}

function clampTime(ms: number): number {
  if (!Number.isFinite(ms)) throw new InvalidInputError("invalid timestamp");
  return Math.min(Math.max(Math.trunc(ms), 0), MAX_TIME);
}

function normalisePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === "" || prefix === "/") return "";
  const p = prefix.replace(/^\/+/, "").replace(/\/+$/, "");
  for (const part of p.split("/")) {
    if (part === "" || part === "." || part === ".." || !/^[A-Za-z0-9._-]+$/.test(part)) {
      throw new InvalidInputError(`invalid S3 key prefix ${JSON.stringify(prefix)}`);
    }
  }
  return `${p}/`;
}
