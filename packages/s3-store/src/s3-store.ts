/**
 * sessionvault over any S3-compatible bucket.
 *
 * Object layout (under `<prefix>/`, and `<prefix>/orgs/<org>/` with `org`):
 *
 *   sessions/<id>/session.json                 the summary fields from putSession, a hint of the
 *                                              rollout's lines/bytes/last activity (so a listing
 *                                              needs one GET per session) and the soft-delete
 *                                              marker; updated with If-Match
 *   sessions/<id>/legal-hold.json              present while the session is on legal hold
 *   sessions/<id>/streams/<name>/appends/<start, 12 digits>
 *                                              one immutable object per append: the lines from
 *                                              position <start>, each followed by "\n"; metadata
 *                                              `lines` = their count. Created with If-None-Match: *,
 *                                              so of two writers appending at one position exactly
 *                                              one wins. The count is not in the key on purpose:
 *                                              two writers with different batch sizes must still
 *                                              collide on the same key.
 *   sessions/<id>/streams/<name>/manifest.json compaction manifest: `covered` positions [0, covered)
 *                                              are read from `segments` (in order); appends at or
 *                                              after `covered` are read directly. Replaced with
 *                                              If-Match (the etag read), so one compaction wins.
 *   sessions/<id>/streams/<name>/segments/<start>-<end>-<nonce>
 *                                              merged copies of small appends. After the manifest
 *                                              switch, the merged appends are overwritten by empty
 *                                              tombstones (metadata `compacted`) that keep the key
 *                                              taken: a stale writer can never re-create an old
 *                                              position. A reader that meets a tombstone re-reads
 *                                              the manifest and continues from the same position,
 *                                              so it sees the switch atomically.
 *   index/by-time/<inverted ms, 6>/<7>-<id>    empty objects, one per session; keys sort newest
 *                                              first, so the first page of `listSessions` is one
 *                                              LIST of `limit` keys plus one GET per session, at
 *                                              any number of sessions. The cursor is the last key.
 *                                              (Split in two levels so that file-backed emulators
 *                                              never read one huge directory.)
 *   trash/<purge-after ms>-<id>                soft-deleted sessions, earliest purge first
 *   legal-hold.json                            present while the whole org is on legal hold
 *   audit/<yyyy-mm>/<timestamp>-<nonce>.json   deletion audit, one immutable object per deletion
 *                                              (If-None-Match: *): who, which policy, what, when,
 *                                              how many bytes
 *   .sessionvault/tokens/<sha256>.json         API tokens (under `<prefix>/`, shared by all orgs)
 *
 * Positions: a stream's position is where its last append object ends. An
 * append at N first makes sure N is the current position (from a cache of
 * what this instance last saw or wrote, or knowing it just created the
 * session, else manifest + LIST + HEAD), then creates `appends/<N>`. Positions only move by creating that key, so the
 * conditional create decides every race. A create whose answer is lost and
 * that the SDK retries comes back 412: the object is then read and compared,
 * and counts as ours when its bytes are ours.
 *
 * The SDK retries 5xx, throttling and timeouts with backoff (`maxAttempts`,
 * `requestTimeoutMs`). Appends larger than `multipartThresholdBytes` go up
 * by multipart upload, completed with If-None-Match.
 */
import { randomBytes } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  S3Client,
  UploadPartCommand,
  type GetObjectCommandOutput,
  type S3ClientConfig,
  type _Object,
} from "@aws-sdk/client-s3";
import {
  agentLineTime,
  AmbiguousIdError,
  ConflictError,
  InvalidInputError,
  IoError,
  LegalHoldError,
  NotFoundError,
  UnsupportedError,
  assertIdOrPrefix,
  assertSessionId,
  assertSlug,
  isSessionId,
  linesToUtf8,
  readLines,
  STREAMS,
  type AgentName,
  type AppendResult,
  type DeleteOptions,
  type DeletionAuditRecord,
  type ListQuery,
  type RetentionCandidate,
  type RetentionStore,
  type SessionDetail,
  type SessionInput,
  type SessionPage,
  type SessionStore,
  type SessionSummary,
  type SoftDeletedSession,
  type StreamInfo,
  type TokenRecord,
  type TokenStore,
} from "@sessionvault/core";
import { StoreKeys, positionOfAppendKey } from "./keys.js";
import { STREAM_TAG } from "./lifecycle.js";
import { isConditionalConflict, isNoSuchUpload, isNotFound, isPreconditionFailed, storeError } from "./s3-errors.js";

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket ("" = the bucket root). */
  prefix?: string;
  /** Scopes every session to `orgs/<org>/` under the prefix. */
  org?: string;
  /** A client to use (then the caller owns it). Otherwise one is made from the fields below. */
  client?: S3Client;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Static credentials; otherwise the SDK's default chain (env, profile, instance role). */
  credentials?: S3ClientConfig["credentials"];
  /** Attempts per request, for 5xx, throttling, resets and timeouts (default 6). */
  maxAttempts?: number;
  /** A request that takes longer is aborted and retried (default 30 s). */
  requestTimeoutMs?: number;
  /** Appends at least this big go up by multipart upload (default 16 MiB, min 5 MiB). */
  multipartThresholdBytes?: number;
  /** Part size of multipart uploads (default 8 MiB, min 5 MiB). */
  partSizeBytes?: number;
  /** Compact a stream once this many append objects follow its manifest (default 32; 0 = never). */
  compactAfterAppends?: number;
  /** Only appends smaller than this are merged by compaction (default 1 MiB). */
  compactObjectMaxBytes?: number;
  /** Upper bound of one merged segment (default 8 MiB). */
  compactSegmentMaxBytes?: number;
  /** Also set S3 Object Lock legal holds on a held session's objects (the bucket must have Object Lock enabled). */
  objectLockLegalHolds?: boolean;
  /** Tag append objects with `sessionvault-stream=<name>`, so per-stream bucket lifecycle rules can match them. */
  tagStreams?: boolean;
  /** Parallel requests for listings and deletions (default 16). */
  concurrency?: number;
  /** Compaction runs after appends; its failures never fail the append and are reported here. */
  onBackgroundError?: (err: unknown) => void;
}

/** session.json */
interface SessionDoc {
  v: 1;
  summary: SessionInput;
  /** The rollout's size as a hint for listings, kept in step by appends (the stream itself is the truth). */
  streams: Record<string, { lines: number; bytes: number }>;
  /** The timestamp of the last rollout line seen by an append. */
  rollout_last_ts: string | null;
  deleted?: { at: string; purge_after: string; actor: string; reason: string | null } | null;
}

/** manifest.json */
interface Manifest {
  v: 1;
  covered: number;
  bytes: number;
  segments: { key: string; start: number; lines: number; bytes: number }[];
}

interface StreamEnd {
  lines: number;
  bytes: number;
  manifest: Manifest;
  manifestEtag: string | null;
  /** Append objects at or after `covered`, ascending, with their line counts. */
  appends: { key: string; start: number; lines: number; size: number }[];
}

const EMPTY_MANIFEST: Manifest = { v: 1, covered: 0, bytes: 0, segments: [] };
const MIB = 1024 * 1024;

export class S3Store implements SessionStore, TokenStore, RetentionStore {
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #ownsClient: boolean;
  readonly #keys: StoreKeys;
  readonly #opts: Required<
    Pick<
      S3StoreOptions,
      "multipartThresholdBytes" | "partSizeBytes" | "compactAfterAppends" | "compactObjectMaxBytes" | "compactSegmentMaxBytes" | "concurrency"
    >
  > &
    S3StoreOptions;
  /** Stream ends this instance saw or wrote: lets a sequential writer skip the position check. */
  readonly #ends = new Map<string, { lines: number; bytes: number; uncompacted: number }>();
  /** session.json as last read or written, with its etag. */
  readonly #docs = new Map<string, { doc: SessionDoc; etag: string }>();
  readonly #compacting = new Map<string, Promise<unknown>>();
  /** Sessions this instance created, while they are few: their streams start empty. */
  readonly #fresh = new Map<string, true>();
  #closed = false;

  constructor(options: S3StoreOptions) {
    if (!options.bucket) throw new InvalidInputError("S3Store needs a bucket");
    this.bucket = options.bucket;
    this.#keys = new StoreKeys(options.prefix, options.org);
    this.#opts = {
      multipartThresholdBytes: 16 * MIB,
      partSizeBytes: 8 * MIB,
      compactAfterAppends: 32,
      compactObjectMaxBytes: MIB,
      compactSegmentMaxBytes: 8 * MIB,
      concurrency: 16,
      ...options,
    };
    if (this.#opts.partSizeBytes < 5 * MIB || this.#opts.multipartThresholdBytes < 5 * MIB) {
      throw new InvalidInputError("S3 multipart parts must be at least 5 MiB");
    }
    this.#ownsClient = !options.client;
    this.#client =
      options.client ??
      new S3Client({
        endpoint: options.endpoint,
        region: options.region ?? "us-east-1",
        forcePathStyle: options.forcePathStyle,
        credentials: options.credentials,
        maxAttempts: options.maxAttempts ?? 6,
        retryMode: "standard",
        // Without throwOnRequestTimeout the SDK only warns about a hung request; it must fail and be retried.
        requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000, throwOnRequestTimeout: true, connectionTimeout: 10_000 },
      });
  }

  // ---------------------------------------------------------------- sessions

  async putSession(input: SessionInput): Promise<SessionSummary> {
    const id = assertSessionId(input.id);
    if (Number.isNaN(Date.parse(input.created_at))) throw new InvalidInputError(`invalid created_at ${JSON.stringify(input.created_at)}`);
    const summary = pickInput(input);
    let previousCreated: string | null = null;
    let created = false;
    const doc = await this.#updateDoc(
      id,
      (current) => {
        created = current === null;
        if (current?.deleted) {
          throw new InvalidInputError(
            `session ${id} was deleted by retention on ${current.deleted.at} and is purged after ${current.deleted.purge_after}; restore it first`,
          );
        }
        previousCreated = current?.summary.created_at ?? null;
        // Facts left out of the input keep what the document has (a writer that does not compute them).
        const kept = input.facts === undefined && current?.summary.facts !== undefined ? { ...summary, facts: current.summary.facts } : summary;
        return { v: 1, summary: kept, streams: current?.streams ?? {}, rollout_last_ts: current?.rollout_last_ts ?? null, deleted: null };
      },
      { createFirst: true },
    );
    // A session.json we created means no stream of it has objects (a deletion removes session.json
    // last): its first appends need no position check. A racing writer still loses on If-None-Match.
    if (created) remember(this.#fresh, id, true);
    await this.#put(this.#keys.indexEntry(summary.created_at, id), "");
    if (previousCreated !== null && previousCreated !== summary.created_at) {
      await this.#delete(this.#keys.indexEntry(previousCreated, id));
    }
    return toSummary(doc);
  }

  async getSession(idOrPrefix: string): Promise<SessionDetail> {
    const id = await this.#resolveId(idOrPrefix);
    const doc = await this.#liveDoc(id);
    const [streams, held] = await Promise.all([this.#positions(id), this.#exists(this.#keys.sessionHold(id))]);
    const summary = toSummary(doc);
    const rollout = streams.find((s) => s.name === STREAMS.rollout);
    // The listing's counts are hints kept by appends; one whose update was lost (a crash between the
    // append and the hint) is set right here.
    if (rollout && (doc.streams[STREAMS.rollout]?.lines ?? 0) < rollout.lines) {
      await this.#updateDoc(id, (d) => {
        if (!d || d.deleted || (d.streams[STREAMS.rollout]?.lines ?? 0) >= rollout.lines) return null;
        return { ...d, streams: { ...d.streams, [STREAMS.rollout]: { lines: rollout.lines, bytes: rollout.bytes } } };
      }).catch(() => {});
    }
    return { ...summary, lines: rollout?.lines ?? 0, bytes: rollout?.bytes ?? 0, streams, legal_hold: held };
  }

  async listSessions(query: ListQuery = {}): Promise<SessionPage> {
    if (query.q !== undefined && query.q !== "") throw new UnsupportedError("s3-store has no full-text search; filter by cwd, repo, branch, provider or dates");
    const limit = Math.max(1, Math.min(query.limit ?? 50, 1000));
    const archived = query.archived ?? "active";
    let startAfter = query.cursor ? this.#keys.indexKeyFromCursor(query.cursor) : undefined;
    if (query.until) {
      const bound = this.#keys.indexStartBefore(new Date(Date.parse(query.until) + 1));
      if (startAfter === undefined || bound > startAfter) startAfter = bound;
    }
    const since = query.since ? Date.parse(query.since) : null;
    const out: SessionSummary[] = [];
    let lastKey: string | undefined;
    let token: string | undefined;
    for (;;) {
      const page = await this.#list({
        Prefix: this.#keys.indexPrefix(),
        StartAfter: token ? undefined : startAfter,
        ContinuationToken: token,
        MaxKeys: Math.min(1000, limit + 1),
      });
      const entries = (page.Contents ?? []).flatMap((o) => {
        const parsed = o.Key ? this.#keys.parseIndexEntry(o.Key) : null;
        return parsed ? [{ key: o.Key!, ...parsed }] : [];
      });
      let i = 0;
      while (i < entries.length) {
        if (out.length === limit) return { sessions: out, next_cursor: this.#keys.cursorFor(lastKey!) };
        // Fetch only as many summaries as the page still needs.
        const batch = entries.slice(i, i + (limit - out.length));
        i += batch.length;
        const docs = await mapLimit(batch, this.#opts.concurrency, (e) =>
          since !== null && e.created_ms < since ? Promise.resolve(null) : this.#readDoc(e.id).catch((err) => (isNotFound(err) ? null : Promise.reject(err))),
        );
        for (let j = 0; j < batch.length; j++) {
          const e = batch[j]!;
          if (since !== null && e.created_ms < since) return { sessions: out, next_cursor: null };
          if (out.length === limit) return { sessions: out, next_cursor: this.#keys.cursorFor(lastKey!) };
          lastKey = e.key;
          const d = docs[j];
          // A missing or soft-deleted session behind an index entry is skipped.
          if (!d || d.doc.deleted) continue;
          const s = toSummary(d.doc);
          if (matches(s, query, archived)) out.push(s);
        }
      }
      if (!page.IsTruncated || !page.NextContinuationToken) return { sessions: out, next_cursor: null };
      token = page.NextContinuationToken;
    }
  }

  // ----------------------------------------------------------------- streams

  async append(sessionId: string, stream: string, expectedSeq: number, lines: readonly string[]): Promise<AppendResult> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    if (!Number.isSafeInteger(expectedSeq) || expectedSeq < 0) throw new InvalidInputError(`invalid expected position ${expectedSeq}`);
    for (const line of lines) {
      if (line.includes("\n")) throw new InvalidInputError("a line must not contain a newline character");
    }
    // A session this instance already saw alive is not re-read on every append;
    // the session.json update below still fails if it was deleted meanwhile.
    const seen = this.#docs.get(id);
    if (!seen || seen.doc.deleted) await this.#liveDoc(id);
    const cacheKey = `${id}/${stream}`;
    let known = this.#ends.get(cacheKey) ?? (this.#fresh.has(id) ? { lines: 0, bytes: 0, uncompacted: 0 } : undefined);
    if (!known || known.lines !== expectedSeq) {
      const end = await this.#streamEnd(id, stream);
      known = { lines: end.lines, bytes: end.bytes, uncompacted: end.appends.length };
      remember(this.#ends, cacheKey, known);
      if (end.lines !== expectedSeq) throw conflict(id, stream, expectedSeq, end.lines);
    }
    if (lines.length === 0) return { seq: expectedSeq };

    const body = linesToUtf8(lines);
    const key = this.#keys.append(id, stream, expectedSeq);
    const created = await this.#createOnce(key, body, { lines: String(lines.length) }, this.#opts.tagStreams ? `${STREAM_TAG}=${stream}` : undefined, {
      lines,
      storedEquals: async () => {
        let i = 0;
        for await (const stored of this.readStream(id, stream, { fromSeq: expectedSeq })) {
          if (i >= lines.length || stored !== lines[i]) return i >= lines.length;
          i++;
        }
        return i === lines.length;
      },
    });
    if (!created) {
      this.#ends.delete(cacheKey);
      const end = await this.#streamEnd(id, stream);
      throw conflict(id, stream, expectedSeq, end.lines);
    }
    const next = { lines: expectedSeq + lines.length, bytes: known.bytes + body.length, uncompacted: known.uncompacted + 1 };
    remember(this.#ends, cacheKey, next);
    // Listings show the rollout's counts and last activity: keep that hint in step. Other streams are
    // only ever counted from their objects, so their appends cost one request.
    if (stream === STREAMS.rollout) {
      // The last line that has a timestamp (a trailing `{"record_type":"state"}` has none), as every store reports it.
      const lastTsOf = (agent: AgentName) => {
        for (let i = lines.length - 1; i >= 0; i--) {
          const ts = agentLineTime(agent, lines[i]!);
          if (ts !== null) return ts;
        }
        return null;
      };
      const times = new Map<AgentName, string | null>();
      await this.#updateDoc(id, (doc) => {
        if (!doc || doc.deleted) throw new NotFoundError(`session ${id} was deleted while appending`);
        const hint = doc.streams[stream];
        if (hint && hint.lines >= next.lines) return null;
        // Timed the way the session's agent stamps its records (a Codex line by its envelope).
        const agent = doc.summary.agent ?? "codex";
        if (!times.has(agent)) times.set(agent, lastTsOf(agent));
        const lastTs = times.get(agent)!;
        const rolloutTs = lastTs && (!doc.rollout_last_ts || lastTs > doc.rollout_last_ts) ? lastTs : doc.rollout_last_ts;
        return { ...doc, streams: { ...doc.streams, [stream]: { lines: next.lines, bytes: next.bytes } }, rollout_last_ts: rolloutTs };
      });
    }
    if (this.#opts.compactAfterAppends > 0 && next.uncompacted >= this.#opts.compactAfterAppends && !this.#compacting.has(cacheKey)) {
      // One background compaction per stream at a time.
      const job = this.compact(id, stream)
        .catch((err) => this.#opts.onBackgroundError?.(err))
        .finally(() => this.#compacting.delete(cacheKey));
      this.#compacting.set(cacheKey, job);
    }
    return { seq: next.lines };
  }

  async *readStream(sessionId: string, stream: string, options: { fromSeq?: number } = {}): AsyncGenerator<string> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    let pos = options.fromSeq ?? 0;
    if (!Number.isSafeInteger(pos) || pos < 0) throw new InvalidInputError(`invalid fromSeq ${options.fromSeq}`);
    await this.#liveDoc(id);
    for (let attempt = 0; attempt < 50; attempt++) {
      const end = await this.#streamEnd(id, stream);
      const plan = [
        ...end.manifest.segments.map((s) => ({ key: s.key, start: s.start, lines: s.lines })),
        ...end.appends.map((a) => ({ key: a.key, start: a.start, lines: a.lines })),
      ].filter((o) => o.start + o.lines > pos);
      let restarted = false;
      for (const o of plan) {
        if (o.start > pos) throw new IoError(`stream ${stream} of session ${id} has a gap at position ${pos}`);
        let res: GetObjectCommandOutput;
        try {
          res = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: o.key }));
        } catch (err) {
          if (isNotFound(err)) {
            // Deleted under us (or replaced by a compaction we have not seen yet).
            restarted = true;
            break;
          }
          throw storeError(`GET ${o.key}`, err);
        }
        if (res.Metadata?.compacted) {
          await discard(res);
          restarted = true;
          break;
        }
        let skip = pos - o.start;
        let n = 0;
        try {
          for await (const line of readLines(res.Body as AsyncIterable<Uint8Array>)) {
            n++;
            if (skip > 0) {
              skip--;
              continue;
            }
            yield line.text;
            pos++;
          }
        } catch (err) {
          // The connection broke in the middle of the body (the SDK only retries whole requests):
          // start again from the first line not yet yielded.
          if (attempt >= 49) throw storeError(`GET ${o.key}`, err);
          restarted = true;
          break;
        }
        if (n !== o.lines) throw new IoError(`object ${o.key} holds ${n} lines, expected ${o.lines}`);
      }
      if (!restarted) return;
      await this.#liveDoc(id);
    }
    throw new IoError(`stream ${stream} of session ${id} kept changing while it was read`);
  }

  async streamPositions(sessionId: string): Promise<StreamInfo[]> {
    const id = assertSessionId(sessionId);
    await this.#liveDoc(id);
    return this.#positions(id);
  }

  /**
   * Merges the small append objects after a stream's manifest into segments
   * and switches the manifest to them (If-Match), then replaces the merged
   * appends by tombstones. Returns how many append objects were merged.
   */
  async compact(sessionId: string, stream: string): Promise<number> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    const end = await this.#streamEnd(id, stream);
    const groups: { start: number; lines: number; parts: StreamEnd["appends"] }[] = [];
    let current: (typeof groups)[number] | null = null;
    let currentBytes = 0;
    for (const a of end.appends) {
      const small = a.size < this.#opts.compactObjectMaxBytes;
      if (!small || !current || currentBytes + a.size > this.#opts.compactSegmentMaxBytes) {
        current = { start: a.start, lines: 0, parts: [] };
        currentBytes = 0;
        groups.push(current);
      }
      current.parts.push(a);
      current.lines += a.lines;
      currentBytes += a.size;
      if (!small) current = null;
    }
    if (groups.every((g) => g.parts.length < 2)) return 0;

    const segments: Manifest["segments"] = [];
    const merged: StreamEnd["appends"] = [];
    const written: string[] = [];
    let switched = false;
    try {
      for (const g of groups) {
        const size = g.parts.reduce((n, p) => n + p.size, 0);
        if (g.parts.length === 1) {
          segments.push({ key: g.parts[0]!.key, start: g.start, lines: g.lines, bytes: size });
          continue;
        }
        const bodies = await mapLimit(g.parts, this.#opts.concurrency, (p) => this.#getBytes(p.key));
        if (bodies.some((b) => b === null)) break; // a tombstone: someone else compacted first
        const key = this.#keys.segment(id, stream, g.start, g.start + g.lines, randomBytes(4).toString("hex"));
        await this.#put(key, Buffer.concat(bodies as Buffer[]), { lines: String(g.lines) });
        written.push(key);
        segments.push({ key, start: g.start, lines: g.lines, bytes: size });
        merged.push(...g.parts);
      }
      if (segments.length === groups.length) {
        const last = groups[groups.length - 1]!;
        const manifest: Manifest = {
          v: 1,
          covered: last.start + last.lines,
          bytes: end.manifest.bytes + segments.reduce((n, s) => n + s.bytes, 0),
          segments: [...end.manifest.segments, ...segments],
        };
        switched = await this.#putConditional(this.#keys.manifest(id, stream), JSON.stringify(manifest), end.manifestEtag);
      }
    } finally {
      // Our segments may only go if no manifest refers to them: a switch whose answer was lost, and
      // that a later compaction already built on, still points at them.
      if (!switched && written.length > 0) switched = await this.#dropUnreferenced(id, stream, written);
    }
    if (!switched) return 0;
    await mapLimit(merged, this.#opts.concurrency, (a) => this.#put(a.key, "", { lines: String(a.lines), compacted: "1" }));
    const cached = this.#ends.get(`${id}/${stream}`);
    if (cached && cached.lines === end.lines) cached.uncompacted = 0;
    return merged.length;
  }

  // ---------------------------------------------------------------- deletion

  async deleteSession(sessionId: string, options: DeleteOptions = {}): Promise<void> {
    const id = assertSessionId(sessionId);
    await this.#liveDoc(id);
    await this.#hardDelete(id, { action: "delete", actor: options.actor ?? "unknown", policy: null, reason: options.reason ?? null });
  }

  async setLegalHold(sessionId: string, held: boolean): Promise<void> {
    const id = assertSessionId(sessionId);
    const d = await this.#readDoc(id).catch((err) => (isNotFound(err) ? null : Promise.reject(err)));
    if (!d) throw new NotFoundError(`session ${id} not found`);
    // Our marker is set first and removed last, so a failure half-way leaves the session held.
    if (held) await this.#put(this.#keys.sessionHold(id), JSON.stringify({ held_at: new Date().toISOString() }));
    if (this.#opts.objectLockLegalHolds) {
      // S3 itself then refuses to let any version of these objects go, lifecycle rules included.
      // Objects appended later are not covered until the hold is set again.
      const objects = await this.#listAll(this.#keys.session(id));
      await mapLimit(objects, this.#opts.concurrency, (o) =>
        this.#send(`PUT legal hold ${o.Key}`, (c) =>
          c.send(new PutObjectLegalHoldCommand({ Bucket: this.bucket, Key: o.Key!, LegalHold: { Status: held ? "ON" : "OFF" } })),
        ),
      );
    }
    if (!held) await this.#delete(this.#keys.sessionHold(id));
  }

  // --------------------------------------------------------------- retention

  async *retentionCandidates(options: { createdBefore: Date }): AsyncGenerator<RetentionCandidate> {
    let token: string | undefined;
    const startAfter = this.#keys.indexStartBefore(options.createdBefore);
    do {
      const page = await this.#list({ Prefix: this.#keys.indexPrefix(), StartAfter: token ? undefined : startAfter, ContinuationToken: token });
      const ids = (page.Contents ?? []).flatMap((o) => {
        const p = o.Key ? this.#keys.parseIndexEntry(o.Key) : null;
        return p ? [p.id] : [];
      });
      const found = await mapLimit(ids, this.#opts.concurrency, async (id): Promise<RetentionCandidate | null> => {
        const d = await this.#readDoc(id).catch((err) => (isNotFound(err) ? null : Promise.reject(err)));
        if (!d || d.doc.deleted) return null;
        const [objects, held] = await Promise.all([this.#listAll(this.#keys.session(id)), this.#exists(this.#keys.sessionHold(id))]);
        const streams = await this.#positions(id);
        const s = toSummary(d.doc);
        return { id, created_at: s.created_at, updated_at: s.updated_at, legal_hold: held, streams, bytes: sumSizes(objects) };
      });
      for (const c of found) if (c) yield c;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async softDeleteSession(sessionId: string, options: { actor: string; policy?: string; reason?: string; purgeAfter: Date }): Promise<void> {
    const id = assertSessionId(sessionId);
    const d = await this.#liveDoc(id);
    await this.#assertNotHeld(id);
    const objects = await this.#listAll(this.#keys.session(id));
    const at = new Date();
    await this.#audit({
      at: at.toISOString(),
      action: "soft_delete",
      session_id: id,
      stream: null,
      actor: options.actor,
      policy: options.policy ?? null,
      reason: options.reason ?? null,
      bytes: sumSizes(objects),
    });
    // The trash entry first: a crash after it leaves a session that a later purge still finds.
    await this.#put(
      this.#keys.trashEntry(options.purgeAfter, id),
      JSON.stringify({ id, deleted_at: at.toISOString(), purge_after: options.purgeAfter.toISOString() }),
    );
    await this.#updateDoc(id, (doc) =>
      doc
        ? { ...doc, deleted: { at: at.toISOString(), purge_after: options.purgeAfter.toISOString(), actor: options.actor, reason: options.reason ?? null } }
        : null,
    );
    await this.#delete(this.#keys.indexEntry(d.summary.created_at, id));
    this.#forget(id);
  }

  async *softDeletedSessions(): AsyncGenerator<SoftDeletedSession> {
    for await (const o of this.#iterate(this.#keys.trashPrefix())) {
      const rel = o.Key!.slice(this.#keys.trashPrefix().length);
      const m = /^(\d{13})-([0-9a-f-]{36})$/.exec(rel);
      if (!m || !isSessionId(m[2]!)) continue;
      const id = m[2]!;
      const d = await this.#readDoc(id).catch((err) => (isNotFound(err) ? null : Promise.reject(err)));
      if (!d?.doc.deleted) {
        // Restored or purged: the entry is stale.
        await this.#delete(o.Key!);
        continue;
      }
      const [objects, held] = await Promise.all([this.#listAll(this.#keys.session(id)), this.#exists(this.#keys.sessionHold(id))]);
      yield { id, deleted_at: d.doc.deleted.at, purge_after: new Date(Number(m[1])).toISOString(), legal_hold: held, bytes: sumSizes(objects) };
    }
  }

  async restoreSession(sessionId: string, options: { actor: string; reason?: string }): Promise<void> {
    const id = assertSessionId(sessionId);
    const d = await this.#readDoc(id).catch((err) => (isNotFound(err) ? null : Promise.reject(err)));
    if (!d?.doc.deleted) throw new NotFoundError(`session ${id} is not soft-deleted`);
    const purgeAfter = new Date(d.doc.deleted.purge_after);
    await this.#audit({
      at: new Date().toISOString(),
      action: "restore",
      session_id: id,
      stream: null,
      actor: options.actor,
      policy: null,
      reason: options.reason ?? null,
      bytes: 0,
    });
    await this.#updateDoc(id, (doc) => (doc ? { ...doc, deleted: null } : null));
    await this.#put(this.#keys.indexEntry(d.doc.summary.created_at, id), "");
    await this.#delete(this.#keys.trashEntry(purgeAfter, id));
  }

  async purgeSession(sessionId: string, options: { actor: string; policy?: string; reason?: string }): Promise<number> {
    const id = assertSessionId(sessionId);
    const d = await this.#readDoc(id).catch((err) => (isNotFound(err) ? null : Promise.reject(err)));
    if (!d) throw new NotFoundError(`session ${id} not found`);
    return this.#hardDelete(id, { action: "purge", actor: options.actor, policy: options.policy ?? null, reason: options.reason ?? null });
  }

  async deleteStream(sessionId: string, stream: string, options: { actor: string; policy?: string; reason?: string }): Promise<number> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    if (stream === STREAMS.rollout) throw new InvalidInputError("the rollout is the session: delete the session instead");
    await this.#liveDoc(id);
    await this.#assertNotHeld(id);
    const objects = await this.#listAll(this.#keys.stream(id, stream));
    const bytes = sumSizes(objects);
    await this.#audit({
      at: new Date().toISOString(),
      action: "delete_stream",
      session_id: id,
      stream,
      actor: options.actor,
      policy: options.policy ?? null,
      reason: options.reason ?? null,
      bytes,
    });
    await mapLimit(objects, this.#opts.concurrency, (o) => this.#delete(o.Key!));
    this.#ends.delete(`${id}/${stream}`);
    await this.#updateDoc(id, (doc) => {
      if (!doc || !(stream in doc.streams)) return null;
      const streams = { ...doc.streams };
      delete streams[stream];
      return { ...doc, streams };
    });
    return bytes;
  }

  async setOrgLegalHold(held: boolean): Promise<void> {
    if (held) await this.#put(this.#keys.orgHold(), JSON.stringify({ held_at: new Date().toISOString() }));
    else await this.#delete(this.#keys.orgHold());
  }

  orgLegalHold(): Promise<boolean> {
    return this.#exists(this.#keys.orgHold());
  }

  async *deletionAudit(options: { since?: Date } = {}): AsyncGenerator<DeletionAuditRecord> {
    const prefix = this.#keys.auditPrefix();
    const startAfter = options.since ? this.#keys.auditRecord(options.since, "").slice(0, -"-.json".length) : undefined;
    for await (const o of this.#iterate(prefix, startAfter)) {
      const body = await this.#getBytes(o.Key!);
      if (body) yield parseObject<DeletionAuditRecord>(o.Key!, body);
    }
  }

  // ------------------------------------------------------------------ tokens

  async saveToken(record: TokenRecord): Promise<void> {
    await this.#put(this.#keys.token(record.hash), JSON.stringify(record));
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    const key = this.#keys.token(hash);
    const got = await this.#fetch(key);
    return got ? parseObject<TokenRecord>(key, got.body) : null;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.#tokenObjects()).map((t) => t.record).sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  async deleteToken(id: string): Promise<boolean> {
    const found = (await this.#tokenObjects()).filter((t) => t.record.id === id);
    for (const t of found) await this.#delete(t.key);
    return found.length > 0;
  }

  /** Tokens are few (people make them by hand), so a listing of all of them is cheap. */
  async #tokenObjects(): Promise<{ key: string; record: TokenRecord }[]> {
    const out: { key: string; record: TokenRecord }[] = [];
    for await (const o of this.#iterate(this.#keys.tokensRoot)) {
      const got = await this.#fetch(o.Key!);
      if (got) out.push({ key: o.Key!, record: parseObject<TokenRecord>(o.Key!, got.body) });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#compacting.values()]);
    if (this.#ownsClient) this.#client.destroy();
  }

  // ----------------------------------------------------------------- helpers

  async #resolveId(idOrPrefix: string): Promise<string> {
    const v = assertIdOrPrefix(idOrPrefix);
    if (isSessionId(v)) return v;
    const res = await this.#list({ Prefix: `${this.#keys.sessionsPrefix()}${v}`, Delimiter: "/" });
    const ids = (res.CommonPrefixes ?? []).map((p) => p.Prefix!.slice(this.#keys.sessionsPrefix().length, -1)).filter(isSessionId);
    const live = (
      await mapLimit(ids, this.#opts.concurrency, async (id) => {
        const d = await this.#readDoc(id).catch((err) => (isNotFound(err) ? null : Promise.reject(err)));
        return d && !d.doc.deleted ? id : null;
      })
    ).filter((x): x is string => x !== null);
    if (live.length === 0) throw new NotFoundError(`no session matches ${JSON.stringify(idOrPrefix)}`);
    if (live.length > 1) throw new AmbiguousIdError(idOrPrefix, live);
    return live[0]!;
  }

  /** session.json of a session that exists and is not soft-deleted. */
  async #liveDoc(id: string): Promise<SessionDoc> {
    const d = await this.#readDoc(id).catch((err) => (isNotFound(err) ? null : Promise.reject(err)));
    if (!d || d.doc.deleted) throw new NotFoundError(`session ${id} not found`);
    return d.doc;
  }

  /** session.json; throws an error `isNotFound` recognises when there is none. */
  async #readDoc(id: string): Promise<{ doc: SessionDoc; etag: string }> {
    const got = await this.#fetch(this.#keys.sessionDoc(id));
    if (!got) throw noSuchKey(this.#keys.sessionDoc(id));
    const entry = { doc: parseObject<SessionDoc>(this.#keys.sessionDoc(id), got.body), etag: got.etag };
    remember(this.#docs, id, entry);
    return entry;
  }

  /**
   * Read-modify-write of session.json with If-Match (If-None-Match when new).
   * `change` returns the new document, or null to leave it as it is.
   */
  async #updateDoc(id: string, change: (current: SessionDoc | null) => SessionDoc | null, options: { createFirst?: boolean } = {}): Promise<SessionDoc> {
    const key = this.#keys.sessionDoc(id);
    let cached = this.#docs.get(id) ?? null;
    for (let attempt = 0; attempt < 20; attempt++) {
      if (!cached && (attempt > 0 || !options.createFirst)) {
        cached = await this.#readDoc(id).catch((err) => (isNotFound(err) ? null : Promise.reject(err)));
      }
      const next = change(cached?.doc ?? null);
      if (next === null) {
        if (cached) return cached.doc;
        throw new NotFoundError(`session ${id} not found`);
      }
      const etag = await this.#putConditionalEtag(key, JSON.stringify(next), cached?.etag ?? null);
      if (etag !== null) {
        remember(this.#docs, id, { doc: next, etag });
        return next;
      }
      this.#docs.delete(id);
      cached = null;
      if (attempt === 0) continue;
      await sleep(Math.min(200, 5 * 2 ** attempt) * Math.random());
    }
    throw new IoError(`session ${id}: too many concurrent updates of ${key}`);
  }

  async #positions(id: string): Promise<StreamInfo[]> {
    const prefix = this.#keys.streamsPrefix(id);
    const names: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.#list({ Prefix: prefix, Delimiter: "/", ContinuationToken: token });
      for (const p of res.CommonPrefixes ?? []) names.push(p.Prefix!.slice(prefix.length, -1));
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    const ends = await mapLimit(names, this.#opts.concurrency, async (name) => {
      const end = await this.#streamEnd(id, name);
      return { name, lines: end.lines, bytes: end.bytes };
    });
    return ends.filter((e) => e.lines > 0).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The authoritative end of a stream: manifest, then the append objects after it. */
  async #streamEnd(id: string, stream: string): Promise<StreamEnd> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const mkey = this.#keys.manifest(id, stream);
      let manifest = EMPTY_MANIFEST;
      let manifestEtag: string | null = null;
      const got = await this.#fetch(mkey);
      if (got) {
        manifest = parseObject<Manifest>(mkey, got.body);
        manifestEtag = got.etag;
      }
      const startAfter = manifest.covered > 0 ? this.#keys.append(id, stream, manifest.covered - 1) : undefined;
      const objects: _Object[] = [];
      for await (const o of this.#iterate(this.#keys.appendsPrefix(id, stream), startAfter)) objects.push(o);
      // An empty object is a tombstone: a compaction switched the manifest after we read it.
      if (objects.some((o) => (o.Size ?? 0) === 0)) continue;
      const appends = objects.map((o, i) => {
        const start = positionOfAppendKey(o.Key!);
        const next = objects[i + 1];
        return { key: o.Key!, start, lines: next ? positionOfAppendKey(next.Key!) - start : -1, size: o.Size ?? 0 };
      });
      if (appends.length > 0 && appends[0]!.start !== manifest.covered) {
        throw new IoError(`stream ${stream} of session ${id} has a gap at position ${manifest.covered}`);
      }
      const last = appends[appends.length - 1];
      if (last) {
        const head = await this.#head(last.key);
        if (head === null) continue;
        if (head.Metadata?.compacted) continue;
        last.lines = Number(head.Metadata?.lines);
        if (!Number.isSafeInteger(last.lines) || last.lines <= 0) throw new IoError(`object ${last.key} has no line count`);
      }
      const lines = last ? last.start + last.lines : manifest.covered;
      const bytes = manifest.bytes + appends.reduce((n, a) => n + a.size, 0);
      return { lines, bytes, manifest, manifestEtag, appends };
    }
    throw new IoError(`stream ${stream} of session ${id} kept changing while its position was read`);
  }

  /**
   * Deletes the segments in `keys` that the stream's current manifest does not
   * refer to. Returns true when the manifest refers to all of them (the
   * switch did happen). Deletes nothing when the manifest cannot be read.
   */
  async #dropUnreferenced(id: string, stream: string, keys: string[]): Promise<boolean> {
    let current: Manifest;
    try {
      const got = await this.#fetch(this.#keys.manifest(id, stream));
      current = got ? parseObject<Manifest>(this.#keys.manifest(id, stream), got.body) : EMPTY_MANIFEST;
    } catch {
      return false;
    }
    const referenced = new Set(current.segments.map((s) => s.key));
    const unreferenced = keys.filter((k) => !referenced.has(k));
    await Promise.allSettled(unreferenced.map((k) => this.#delete(k)));
    return unreferenced.length === 0;
  }

  async #hardDelete(id: string, what: { action: "delete" | "purge"; actor: string; policy: string | null; reason: string | null }): Promise<number> {
    await this.#assertNotHeld(id);
    const d = await this.#readDoc(id);
    const objects = await this.#listAll(this.#keys.session(id));
    const bytes = sumSizes(objects);
    await this.#audit({ at: new Date().toISOString(), session_id: id, stream: null, ...what, bytes });
    // Hidden first, session.json last: a crash midway leaves a session that is
    // invisible and that a rerun of the deletion finishes.
    if (!d.doc.deleted) {
      const at = new Date().toISOString();
      await this.#updateDoc(id, (doc) => (doc ? { ...doc, deleted: { at, purge_after: at, actor: what.actor, reason: what.reason } } : null));
    }
    await this.#delete(this.#keys.indexEntry(d.doc.summary.created_at, id));
    const docKey = this.#keys.sessionDoc(id);
    await mapLimit(
      objects.filter((o) => o.Key !== docKey),
      this.#opts.concurrency,
      (o) => this.#delete(o.Key!),
    );
    await this.#delete(docKey);
    if (d.doc.deleted) await this.#delete(this.#keys.trashEntry(new Date(d.doc.deleted.purge_after), id));
    this.#forget(id);
    return bytes;
  }

  async #assertNotHeld(id: string): Promise<void> {
    const [session, org] = await Promise.all([this.#exists(this.#keys.sessionHold(id)), this.orgLegalHold()]);
    if (session || org) throw new LegalHoldError(id);
  }

  async #audit(record: DeletionAuditRecord): Promise<void> {
    const key = this.#keys.auditRecord(new Date(record.at), randomBytes(6).toString("hex"));
    const ok = await this.#createOnce(key, Buffer.from(JSON.stringify(record) + "\n", "utf8"), {});
    if (!ok) throw new IoError(`audit record ${key} already exists`);
  }

  #forget(id: string): void {
    this.#docs.delete(id);
    this.#fresh.delete(id);
    for (const k of [...this.#ends.keys()]) if (k.startsWith(`${id}/`)) this.#ends.delete(k);
  }

  /**
   * Creates `key` only if it does not exist. Returns false when another
   * writer's object is there. A 412 whose object holds exactly our bytes is
   * our own earlier attempt (its answer was lost and the request retried).
   */
  async #createOnce(
    key: string,
    body: Buffer,
    metadata: Record<string, string>,
    tagging?: string,
    check?: { lines: readonly string[]; storedEquals: () => Promise<boolean> },
  ): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (body.length >= this.#opts.multipartThresholdBytes) await this.#multipartCreate(key, body, metadata, tagging);
        else
          await this.#client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, Metadata: metadata, Tagging: tagging, IfNoneMatch: "*" }));
        return true;
      } catch (err) {
        if (isConditionalConflict(err) && attempt < 10) {
          await sleep(20 * (attempt + 1));
          continue;
        }
        // A retried CompleteMultipartUpload whose first answer was lost finds its upload gone (NoSuchUpload).
        if (!isPreconditionFailed(err) && !isNoSuchUpload(err)) throw storeError(`PUT ${key}`, err);
        const existing = await this.#getObject(key);
        if (existing === null) return false;
        if (!existing.tombstone) return existing.body.equals(body);
        // Compacted since our create landed: compare what the stream now holds at that position.
        return check !== undefined && Number(existing.metadata.lines) === check.lines.length && (await check.storedEquals());
      }
    }
  }

  async #multipartCreate(key: string, body: Buffer, metadata: Record<string, string>, tagging?: string): Promise<void> {
    const created = await this.#client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, Metadata: metadata, Tagging: tagging }));
    const uploadId = created.UploadId!;
    try {
      const size = this.#opts.partSizeBytes;
      const parts: { PartNumber: number; ETag: string }[] = [];
      for (let i = 0, n = 1; i < body.length; i += size, n++) {
        const part = await this.#client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: body.subarray(i, i + size) }),
        );
        parts.push({ PartNumber: n, ETag: part.ETag! });
      }
      await this.#client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts }, IfNoneMatch: "*" }),
      );
    } catch (err) {
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => {});
      throw err;
    }
  }

  /** PUT with If-Match `etag` (If-None-Match when null); false when the condition failed. */
  async #putConditional(key: string, body: string, etag: string | null): Promise<boolean> {
    return (await this.#putConditionalEtag(key, body, etag)) !== null;
  }

  /**
   * PUT with If-Match `etag` (If-None-Match when null). Returns the new etag,
   * or null when the condition failed. A 412 can also be the SDK retrying our
   * own write whose answer was lost: when the object now holds exactly our
   * bytes, the write is ours and counts as done (a manifest switch that
   * "failed" this way must not be undone).
   */
  async #putConditionalEtag(key: string, body: string, etag: string | null): Promise<string | null> {
    const bytes = Buffer.from(body);
    try {
      const res = await this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: bytes,
          ContentType: "application/json",
          ...(etag === null ? { IfNoneMatch: "*" } : { IfMatch: etag }),
        }),
      );
      return res.ETag ?? "";
    } catch (err) {
      if (isPreconditionFailed(err)) {
        const current = await this.#fetch(key);
        return current?.body.equals(bytes) ? current.etag : null;
      }
      if (isConditionalConflict(err) || (etag !== null && isNotFound(err))) return null;
      throw storeError(`PUT ${key}`, err);
    }
  }

  async #put(key: string, body: string | Buffer, metadata?: Record<string, string>): Promise<void> {
    await this.#send(`PUT ${key}`, (c) => c.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: Buffer.from(body), Metadata: metadata })));
  }

  async #delete(key: string): Promise<void> {
    await this.#send(`DELETE ${key}`, (c) => c.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /** The object with its metadata, or null when it does not exist. */
  async #getObject(key: string): Promise<{ body: Buffer; metadata: Record<string, string>; tombstone: boolean } | null> {
    const got = await this.#fetch(key);
    return got && { ...got, tombstone: Boolean(got.metadata.compacted) };
  }

  /** The object's bytes, or null for a compaction tombstone. Throws an error `isNotFound` recognises for a missing key. */
  async #getBytes(key: string): Promise<Buffer | null> {
    const got = await this.#fetch(key);
    if (!got) throw noSuchKey(key);
    return got.metadata.compacted ? null : got.body;
  }

  /**
   * A whole small object, or null when it does not exist. The SDK retries
   * requests but not a body cut off half-way, so reading the body is retried
   * here.
   */
  async #fetch(key: string): Promise<{ body: Buffer; etag: string; metadata: Record<string, string> } | null> {
    for (let attempt = 1; ; attempt++) {
      let res: GetObjectCommandOutput;
      try {
        res = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      } catch (err) {
        if (isNotFound(err)) return null;
        throw storeError(`GET ${key}`, err);
      }
      try {
        return { body: Buffer.from(await res.Body!.transformToByteArray()), etag: res.ETag ?? "", metadata: res.Metadata ?? {} };
      } catch (err) {
        if (attempt >= 6) throw storeError(`GET ${key}`, err);
        await sleep(25 * 2 ** attempt * Math.random());
      }
    }
  }

  async #head(key: string): Promise<{ Metadata?: Record<string, string> } | null> {
    try {
      return await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw storeError(`HEAD ${key}`, err);
    }
  }

  async #exists(key: string): Promise<boolean> {
    return (await this.#head(key)) !== null;
  }

  async #list(input: { Prefix: string; StartAfter?: string; ContinuationToken?: string; Delimiter?: string; MaxKeys?: number }) {
    return this.#send(`LIST ${input.Prefix}`, (c) => c.send(new ListObjectsV2Command({ Bucket: this.bucket, ...input })));
  }

  async *#iterate(prefix: string, startAfter?: string): AsyncGenerator<_Object> {
    let token: string | undefined;
    do {
      const res = await this.#list({ Prefix: prefix, StartAfter: token ? undefined : startAfter, ContinuationToken: token });
      for (const o of res.Contents ?? []) yield o;
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async #listAll(prefix: string): Promise<_Object[]> {
    const out: _Object[] = [];
    for await (const o of this.#iterate(prefix)) out.push(o);
    return out;
  }

  async #send<T>(what: string, run: (client: S3Client) => Promise<T>): Promise<T> {
    try {
      return await run(this.#client);
    } catch (err) {
      throw storeError(what, err);
    }
  }
}

function pickInput(input: SessionInput): SessionInput {
  return {
    id: input.id,
    // A session.json written before stores kept the agent holds a Codex rollout.
    agent: input.agent ?? "codex",
    created_at: input.created_at,
    ...(input.updated_at !== undefined ? { updated_at: input.updated_at } : {}),
    cwd: input.cwd ?? null,
    title: input.title ?? null,
    archived: input.archived ?? false,
    source: input.source ?? null,
    originator: input.originator ?? null,
    cli_version: input.cli_version ?? null,
    model_provider: input.model_provider ?? null,
    git: input.git ?? null,
    parent_id: input.parent_id ?? null,
    forked_from_id: input.forked_from_id ?? null,
    ...(input.facts !== undefined ? { facts: input.facts } : {}),
  };
}

function toSummary(doc: SessionDoc): SessionSummary {
  const s = doc.summary;
  const rollout = doc.streams[STREAMS.rollout];
  const candidates = [s.created_at, s.updated_at, doc.rollout_last_ts].filter((t): t is string => typeof t === "string" && !Number.isNaN(Date.parse(t)));
  const updated = candidates.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
  return {
    ...pickInput(s),
    agent: s.agent ?? "codex",
    updated_at: new Date(Date.parse(updated)).toISOString(),
    lines: rollout?.lines ?? 0,
    bytes: rollout?.bytes ?? 0,
  };
}

function matches(s: SessionSummary, q: ListQuery, archived: "active" | "archived" | "all"): boolean {
  if (archived === "active" && s.archived) return false;
  if (archived === "archived" && !s.archived) return false;
  if (q.cwd !== undefined && s.cwd !== q.cwd) return false;
  if (q.repo !== undefined && !(s.git?.repository_url ?? "").includes(q.repo)) return false;
  if (q.branch !== undefined && s.git?.branch !== q.branch) return false;
  if (q.model_provider !== undefined && s.model_provider !== q.model_provider) return false;
  if (q.agent !== undefined && s.agent !== q.agent) return false;
  return true;
}

/** A JSON object the store wrote itself; anything else under its key is named in the error rather than surfacing as a bare SyntaxError. */
function parseObject<T>(key: string, body: Buffer): T {
  try {
    return JSON.parse(body.toString("utf8")) as T;
  } catch (err) {
    throw new IoError(`object ${key} is not valid JSON (${body.length} bytes): it was not written by sessionvault, or was cut short`, { cause: err });
  }
}

function noSuchKey(key: string): Error {
  return Object.assign(new Error(`no object ${key}`), { name: "NoSuchKey" });
}

function conflict(id: string, stream: string, expected: number, current: number): ConflictError {
  return new ConflictError(`stream ${stream} of session ${id} is at position ${current}, not ${expected}`, current);
}

function sumSizes(objects: _Object[]): number {
  return objects.reduce((n, o) => n + (o.Size ?? 0), 0);
}

async function discard(res: GetObjectCommandOutput): Promise<void> {
  const body = res.Body as { destroy?: () => void } | undefined;
  body?.destroy?.();
}

const CACHE_ENTRIES = 10_000;

/** Caches are hints: a long-running server must not grow them without bound, so the oldest entries go. */
function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > CACHE_ENTRIES) map.delete(map.keys().next().value as K);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
