import { stat } from "node:fs/promises";
import { isAbsolute, normalize, sep } from "node:path";
import { UsageError } from "../errors.js";
import { STREAMS } from "../session.js";
import type { SessionStore } from "../store.js";
import { claudeCaptureDirPath, claudeProjectDir, findClaudeTranscript, listClaudeTranscripts } from "./claude-session-dir.js";
import { metaEventsFromClaudeLine } from "./claude-meta-events.js";
import { findRolloutPath, linkRollout, listRolloutPaths, sessionDirPath, sessionIdOfRolloutPath, unlinkRollout } from "./codex-session-dir.js";
import { DirectorySink } from "./directory-sink.js";
import type { RawApiRecord } from "./raw-api-record.js";
import { RolloutFollower } from "./rollout-follower.js";
import { metaEventsFromRolloutLine } from "./rollout-meta-events.js";
import { SessionRecorder, type LogLevel, type MetaEvent } from "./session-recorder.js";
import { StoreSink } from "./store-sink.js";
import type { StreamSink } from "./stream-sink.js";

/** A Claude Code run: its config dir (`$CLAUDE_CONFIG_DIR` or `~/.claude`) and the directory it runs in. */
export interface ClaudeCaptureHome {
  configDir: string;
  cwd: string;
}

export interface SessionCaptureOptions {
  /** A Codex run: session directories go to `<home>/sessions/<id>/`. */
  codexHome?: string;
  /**
   * A Claude Code run instead: session directories go beside the
   * transcript, `<config dir>/projects/<slug>/<id>/sessionvault/`, and the
   * transcript is followed for meta events (it is not linked: it is right there).
   */
  claude?: ClaudeCaptureHome;
  /** Write the streams into this store instead of the session directory (no rollout link then). */
  store?: SessionStore;
  /** `--debug-log`: relative paths resolve inside the session directory, absolute ones are used as given. */
  debugLogPath?: string;
  level?: LogLevel;
  /** Called once, on the first failure to create or write the session's files. */
  onWarning: (message: string) => void;
  /** How often the rollout is looked for and followed. Default 250 ms. */
  pollMs?: number;
  now?: () => Date;
}

/** Day directories looked at for a rollout created during the run (a run may cross midnight). */
const RECENT_DAYS = 3;

interface Captured {
  id: string;
  recorder: SessionRecorder;
  sink?: StreamSink;
  dir: string;
  linked: boolean;
  /** The rollout link was made by this run (so a failure may remove it). */
  ownLink: boolean;
  failed: boolean;
  /** Removal of what was written, after a failure; finish() waits for it. */
  cleanup?: Promise<void>;
  follower?: RolloutFollower;
  ready: Promise<void>;
}

/**
 * Everything `sessionvault run --persist-session` collects about one agent
 * run, filed per session: the first session the agent names is the run's
 * own (debug log, meta events, raw exchanges); other sessions it names (a
 * sub-agent's thread) get their raw exchanges in their own directory. Lines
 * from before the session id is known are held and written once it is.
 * A failure to write is reported once through `onWarning`; what was
 * created is removed and the agent is never disturbed.
 */
export class SessionCapture {
  readonly #o: SessionCaptureOptions;
  /** The run's own session; its recorder exists from the start and holds lines until the id is known. */
  readonly recorder: SessionRecorder;
  readonly #sessions = new Map<string, Captured>();
  #primaryId: string | null = null;
  #resumeOffsets = new Map<string, number>();
  /** Claude Code: the run's project folder and its transcripts at start (id → size). */
  #claudeProject: string | null = null;
  #claudeBefore: Map<string, number> | null = null;
  readonly #claudeAgents = new Set<string>();
  #rolloutsBefore: Set<string> | null = null;
  readonly #beforeById = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #warned = false;
  #finished = false;

  constructor(options: SessionCaptureOptions) {
    if (options.debugLogPath && !isAbsolute(options.debugLogPath)) {
      const n = normalize(options.debugLogPath);
      if (n === ".." || n.startsWith(`..${sep}`))
        throw new UsageError(`--debug-log ${options.debugLogPath}: a relative path must stay inside the session directory`);
    }
    if ((options.codexHome === undefined) === (options.claude === undefined)) throw new UsageError("SessionCapture needs either codexHome or claude");
    this.#o = options;
    this.recorder = this.#newRecorder();
  }

  /** Only read on the Codex paths (codexHome given). */
  get #codexHome(): string {
    return this.#o.codexHome ?? "";
  }

  get sessionId(): string | null {
    return this.#primaryId;
  }

  /** Session ids seen so far (the run's own first). */
  get sessionIds(): string[] {
    return [...this.#sessions.keys()];
  }

  /**
   * Starts following. `resumeId`: the session the command line resumes
   * (known before any request). Existing rollouts are noted so that the one
   * this run creates can be recognised, and a resumed rollout is followed
   * only from its current end.
   */
  async start(options: { resumeId?: string | null } = {}): Promise<void> {
    if (this.#o.claude) {
      this.#claudeProject = await claudeProjectDir(this.#o.claude.configDir, this.#o.claude.cwd);
      this.#claudeBefore = new Map([...(await listClaudeTranscripts(this.#claudeProject))].map(([id, t]) => [id, t.size]));
      if (options.resumeId) {
        const path = await findClaudeTranscript(this.#o.claude.configDir, options.resumeId);
        if (path) this.#resumeOffsets.set(options.resumeId, (await stat(path).catch(() => ({ size: 0 }))).size);
        this.noteSession(options.resumeId);
      }
      this.#timer = setInterval(() => void this.#tick(), this.#o.pollMs ?? 250);
      this.#timer.unref();
      return;
    }
    this.#rolloutsBefore = await listRolloutPaths(this.#codexHome);
    for (const p of this.#rolloutsBefore) {
      const id = sessionIdOfRolloutPath(p);
      if (id) this.#beforeById.set(id, p);
    }
    if (options.resumeId) {
      for (const p of this.#rolloutsBefore) {
        if (sessionIdOfRolloutPath(p) === options.resumeId) this.#resumeOffsets.set(options.resumeId, (await stat(p).catch(() => ({ size: 0 }))).size);
      }
    }
    if (options.resumeId) this.noteSession(options.resumeId);
    this.#timer = setInterval(() => void this.#tick(), this.#o.pollMs ?? 250);
    this.#timer.unref();
  }

  /** Files a raw-api record under the session its request named (the run's own when none). */
  onRecord(record: RawApiRecord, sessionId: string | null): void {
    if (sessionId) this.noteSession(sessionId);
    const c = sessionId ? this.#sessions.get(sessionId) : undefined;
    const recorder = c?.recorder ?? this.recorder;
    // A Claude Code sub-agent shares its parent's session (and files); its first request names it.
    const agentId = this.#o.claude && record.type === "request" ? record.headers["x-claude-code-agent-id"] : undefined;
    if (agentId && !this.#claudeAgents.has(agentId)) {
      this.#claudeAgents.add(agentId);
      recorder.meta({ type: "subagent", agent_id: agentId, ...(sessionId ? { session_id: sessionId } : {}) });
    }
    recorder.rawApi(record);
  }

  log(level: LogLevel, message: string, source?: string): void {
    this.recorder.log(level, message, source);
  }

  meta(event: MetaEvent): void {
    this.recorder.meta(event);
  }

  /** The agent named a session (request header, command line or a new rollout file). */
  noteSession(id: string): void {
    if (this.#finished || this.#sessions.has(id)) return;
    const primary = this.#primaryId === null;
    if (primary) this.#primaryId = id;
    const recorder = primary ? this.recorder : this.#newRecorder();
    // A Claude Code session's folder depends on where its transcript is: #open finds it.
    const dir = this.#o.codexHome !== undefined ? sessionDirPath(this.#o.codexHome, id) : "";
    const c: Captured = { id, recorder, dir, linked: false, ownLink: false, failed: false, ready: Promise.resolve() };
    this.#sessions.set(id, c);
    if (!primary) this.recorder.meta({ type: "subagent", session_id: id });
    c.ready = this.#open(c, primary);
  }

  /** Looks at the rollouts now (link, follow): call it once the agent exited, before recording how it ended. */
  async poll(): Promise<void> {
    await this.#ticking;
    await this.#tick(true);
  }

  /** Final look at the rollouts, then flush, fsync and close everything. */
  async finish(): Promise<void> {
    if (this.#finished) return;
    clearInterval(this.#timer);
    await this.#ticking;
    await this.#tick(true);
    this.#finished = true;
    for (const c of this.#sessions.values()) {
      await c.ready;
      await c.recorder.close();
      await c.cleanup;
    }
    // Lines held for a session that never got an id have nowhere to go.
    if (this.#primaryId === null) await this.recorder.close();
  }

  #newRecorder(): SessionRecorder {
    const recorder: SessionRecorder = new SessionRecorder({
      level: this.#o.level ?? "info",
      ...(this.#o.now ? { now: this.#o.now } : {}),
      // A failed write: the session's files go, the warning is given once.
      onError: (err) => {
        for (const c of this.#sessions.values()) if (c.recorder === recorder) void this.#fail(c, err);
      },
    });
    return recorder;
  }

  async #open(c: Captured, primary: boolean): Promise<void> {
    let sink: StreamSink;
    if (this.#o.store) {
      sink = new StoreSink(this.#o.store, c.id, { agent: this.#o.claude ? "claude-code" : "codex" });
    } else {
      const paths: Record<string, string> = primary && this.#o.debugLogPath ? { [STREAMS.debugLog]: this.#o.debugLogPath } : {};
      if (this.#o.claude) {
        try {
          c.dir = await claudeCaptureDirPath(this.#o.claude.configDir, this.#o.claude.cwd, c.id);
        } catch (err) {
          await this.#fail(c, err);
          return;
        }
      }
      const dirSink = new DirectorySink(c.dir, { paths });
      try {
        await dirSink.ensureDir();
      } catch (err) {
        await this.#fail(c, err);
        return;
      }
      sink = dirSink;
    }
    c.sink = sink;
    c.recorder.attach(sink);
  }

  #fail(c: Captured, err: unknown): Promise<void> {
    if (c.failed) return c.cleanup ?? Promise.resolve();
    c.failed = true;
    c.cleanup = this.#cleanUp(c, err);
    return c.cleanup;
  }

  async #cleanUp(c: Captured, err: unknown): Promise<void> {
    if (!this.#warned) {
      this.#warned = true;
      const reason = err instanceof Error ? err.message : String(err);
      this.#o.onWarning(`cannot write the session directory for ${c.id}: ${reason}; the agent keeps running without session capture`);
    }
    await c.recorder.close().catch(() => {});
    if (c.ownLink) await unlinkRollout(c.dir);
    await c.sink?.discard().catch(() => {});
  }

  #tick(final = false): Promise<void> {
    if (this.#ticking && !final) return this.#ticking;
    const run = async () => {
      try {
        if (this.#primaryId === null && this.#claudeProject && this.#claudeBefore) {
          // No request named the session (no proxy, an older CLI without the session header): a new transcript does.
          for (const [id] of await listClaudeTranscripts(this.#claudeProject)) {
            if (this.#claudeBefore.has(id)) continue;
            this.noteSession(id);
            break;
          }
        }
        if (this.#primaryId === null && this.#rolloutsBefore) {
          // No request named the session (no proxy, or the agent failed early): a new rollout file does.
          for (const p of await listRolloutPaths(this.#codexHome, { newestDays: RECENT_DAYS })) {
            if (this.#rolloutsBefore.has(p)) continue;
            const id = sessionIdOfRolloutPath(p);
            if (id) {
              this.noteSession(id);
              break;
            }
          }
        }
        for (const c of this.#sessions.values()) {
          await c.ready;
          if (c.failed) continue;
          if (!c.linked) await this.#link(c);
          if (c.follower && c.id === this.#primaryId) {
            const events = this.#o.claude ? metaEventsFromClaudeLine : metaEventsFromRolloutLine;
            for (const v of await c.follower.poll()) for (const ev of events(v)) this.recorder.meta(ev);
          }
        }
      } catch (err) {
        this.recorder.log("warn", `following the rollout failed: ${(err as Error).message}`);
      }
    };
    const p = run().finally(() => {
      if (this.#ticking === p) this.#ticking = undefined;
    });
    this.#ticking = p;
    return p;
  }

  async #link(c: Captured): Promise<void> {
    if (this.#o.claude) return this.#followTranscript(c, this.#o.claude);
    // A rollout that existed at start is known by name; a new one can only be in the newest day directories.
    const known = this.#beforeById.get(c.id);
    const path = known ?? (await findRolloutPath(this.#codexHome, c.id, { newestDays: RECENT_DAYS }));
    if (!path) return;
    if (!this.#o.store) {
      try {
        const how = await linkRollout(c.dir, path);
        c.ownLink = how !== "exists";
        if (c.failed) {
          if (c.ownLink) await unlinkRollout(c.dir);
          return;
        }
        c.recorder.log("debug", `rollout ${path} linked (${how})`);
      } catch (err) {
        await this.#fail(c, err);
        return;
      }
    }
    c.linked = true;
    // A rollout that existed before this run (`resume --last`) is followed from where it is now:
    // its old turns' events were filed by the runs that made them.
    let from = this.#resumeOffsets.get(c.id);
    if (from === undefined) from = this.#rolloutsBefore?.has(path) ? (await stat(path).catch(() => ({ size: 0 }))).size : 0;
    c.follower = new RolloutFollower(path, { fromOffset: from });
  }

  /** Claude Code: the transcript is already beside the session directory; it is only followed, from where this run began. */
  async #followTranscript(c: Captured, claude: ClaudeCaptureHome): Promise<void> {
    const path = await findClaudeTranscript(claude.configDir, c.id);
    if (!path) return;
    c.linked = true;
    const from = this.#resumeOffsets.get(c.id) ?? this.#claudeBefore?.get(c.id) ?? 0;
    c.follower = new RolloutFollower(path, { fromOffset: from });
  }
}
