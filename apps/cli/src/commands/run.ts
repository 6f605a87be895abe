import { spawn, type ChildProcess } from "node:child_process";
import { homedir } from "node:os";
import { constants as osConstants } from "node:os";
import { basename, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  captureAgentOf,
  isLogLevel,
  NotFoundError,
  OPENAI_DEFAULT_BASE_URL,
  parseClaudeInvocation,
  parseCodexInvocation,
  resolveClaudeRoute,
  routeClaudeThroughProxy,
  redactSecrets,
  redactUrl,
  resolveCodexProvider,
  routeCodexThroughProxy,
  SessionCapture,
  startRecordingProxy,
  UsageError,
  withClaudeSessionId,
  type ClaudeRoute,
  type CodexProviderRoute,
  type RecordingProxy,
} from "@sessionvault/core";
import type { CliContext } from "../io.js";
import { withSlotRecording } from "../slot-recording.js";
import { claudeConfigDir } from "../state-location.js";
import { openStoreArg } from "../stores.js";

export interface RunOptions {
  /** The agent command line (everything after `--`). */
  command: string[];
  persistSession?: boolean;
  debugLog?: string;
  /** Write the captured streams to this store instead of `<codex home>/sessions/<id>/`. */
  store?: string;
  /** The model API the proxy forwards to, instead of the one the agent is configured with. */
  upstream?: string;
  logLevel?: string;
  /** Keep this session-state slot pointed at the agent's session (see slot-recording.ts). */
  slot?: string;
  stateFile?: string;
}

/** Claude Code on these providers does not use ANTHROPIC_BASE_URL: its requests cannot be routed through the proxy. */
const CLAUDE_OTHER_PROVIDERS = ["CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY"];

const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

/**
 * `sessionvault run [--persist-session] [--debug-log PATH] [--store URL] -- AGENT...`
 *
 * Runs the agent with the terminal passed through untouched and exits with
 * its exit code. Without --persist-session nothing else happens. With it, a
 * recording proxy on 127.0.0.1 sits between the agent and its model API and
 * everything about the session is collected (DESIGN.md §8).
 */
export async function run(options: RunOptions, ctx: CliContext): Promise<void> {
  if (options.command.length === 0)
    throw new UsageError('run needs the agent command after "--", e.g. sessionvault run --persist-session -- codex exec "fix the tests"');
  if (options.slot) {
    const { slot, stateFile, ...rest } = options;
    // A fresh Claude Code session gets its id on the command line, so the slot holds it before the agent starts.
    const command = captureAgentOf(options.command) === "claude-code" ? withClaudeSessionId(options.command).argv : options.command;
    return withSlotRecording({ slot, command, cwd: ctx.cwd, ...(stateFile ? { stateFile } : {}), extra: { started_by: "run" } }, ctx, () =>
      run({ ...rest, command }, ctx),
    );
  }
  const argv = options.command;
  if (!options.persistSession) {
    if (options.debugLog || options.store || options.upstream) throw new UsageError("--debug-log, --store and --upstream only apply with --persist-session");
    const { code } = await runChild(argv, ctx.env, ctx, { pipeStderr: false });
    ctx.exitCode = code;
    return;
  }

  const level = options.logLevel ?? "info";
  if (!isLogLevel(level)) throw new UsageError(`--log-level ${level}: use debug, info, warn or error`);
  const agent = captureAgentOf(argv);
  const codex = agent === "codex";
  const claude = agent === "claude-code";
  const codexHome = ctx.env.CODEX_HOME || join(ctx.env.HOME || homedir(), ".codex");
  const claudeHome = claude ? claudeConfigDir(ctx) : null;
  const invocation = codex ? parseCodexInvocation(argv) : null;
  const claudeInvocation = claude ? parseClaudeInvocation(argv) : null;
  // --store naming the agent's own home is the default layout: the store must not race the agent for its transcript.
  const store = options.store && !sameDir(options.store, claudeHome ?? codexHome, ctx) ? await openStoreArg(ctx, options.store) : undefined;

  let warned = false;
  const warn = (message: string) => {
    if (warned) return;
    warned = true;
    ctx.stderr.write(`sessionvault: warning: ${message}\n`);
  };
  const capture = new SessionCapture({
    ...(claudeHome ? { claude: { configDir: claudeHome, cwd: ctx.cwd } } : { codexHome }),
    level,
    onWarning: warn,
    ...(store ? { store } : {}),
    ...(options.debugLog ? { debugLogPath: options.debugLog } : {}),
  });

  let route: CodexProviderRoute | null = null;
  let claudeRoute: ClaudeRoute | null = null;
  try {
    const otherProvider = claude ? CLAUDE_OTHER_PROVIDERS.find((v) => isTruthy(ctx.env[v])) : undefined;
    if (otherProvider) throw new UsageError(`${otherProvider} is set: Claude Code does not use ANTHROPIC_BASE_URL then`);
    if (claudeHome) claudeRoute = await resolveClaudeRoute(claudeHome, ctx.cwd, argv, ctx.env);
    route = claudeRoute
      ? { providerId: "anthropic", upstream: claudeRoute.upstream, via: "env" }
      : codex
        ? await resolveCodexProvider(codexHome, argv, ctx.env)
        : { providerId: "openai", upstream: ctx.env.OPENAI_BASE_URL || OPENAI_DEFAULT_BASE_URL, via: "env" };
    if (options.upstream) route = { ...route, upstream: options.upstream };
  } catch (err) {
    warn(`${(err as Error).message}; raw API exchanges are not recorded`);
  }

  let proxy: RecordingProxy | null = null;
  let childArgv = argv;
  let childEnv = ctx.env;
  if (route) {
    try {
      proxy = await startRecordingProxy({ upstream: route.upstream, onRecord: (record, sessionId) => capture.onRecord(record, sessionId) });
    } catch (err) {
      await store?.close();
      throw err;
    }
    ({ argv: childArgv, env: childEnv } = claudeRoute
      ? routeClaudeThroughProxy(argv, ctx.env, claudeRoute, proxy.url)
      : routeCodexThroughProxy(argv, ctx.env, route, proxy.url));
    const via = claudeRoute
      ? claudeRoute.settingsFile
        ? `ANTHROPIC_BASE_URL + --settings over ${claudeRoute.settingsFile}`
        : "ANTHROPIC_BASE_URL"
      : [route.configKey ? `-c ${route.configKey}` : "", route.via === "env" ? "OPENAI_BASE_URL" : ""].filter(Boolean).join(" + ");
    capture.log("info", `recording proxy ${proxy.url} -> ${redactUrl(route.upstream)} (provider ${route.providerId}, via ${via})`);
  }

  // Claude Code: `--resume <id>` (not a fork: that writes a new session) or `--session-id <id>` names the session up front.
  const knownId = claudeInvocation ? (claudeInvocation.fork ? claudeInvocation.sessionId : (claudeInvocation.sessionId ?? claudeInvocation.resumeId)) : null;
  await capture.start({ resumeId: invocation?.resumeId ?? knownId });
  const redactedArgv = argv.map((a) => redactSecrets(a));
  capture.log("info", `running ${redactedArgv.join(" ")}`);
  // The interactive TUI owns the terminal: its stderr stays on the terminal too.
  const interactive = codex ? [null, "resume", "fork"].includes(invocation?.subcommand ?? null) : claude && !argv.some((a) => a === "-p" || a === "--print");
  try {
    const result = await runChild(childArgv, childEnv, ctx, {
      pipeStderr: !interactive,
      onStart: (pid) =>
        capture.meta({
          type: invocation?.resume || claudeInvocation?.resumeId || claudeInvocation?.continuesUnnamed ? "resumed" : "started",
          agent: agent ?? basename(argv[0]!),
          command: redactedArgv,
          cwd: ctx.cwd,
          pid,
          ...(invocation?.resumeId || knownId ? { session_id: invocation?.resumeId ?? knownId } : {}),
        }),
      onStderrLine: (line) => capture.log("info", line, "agent"),
      onSignal: (signal, forwarded) => {
        capture.meta({ type: signal === "SIGINT" ? "interrupted" : "signal", signal, source: "sessionvault", forwarded });
        capture.log("info", `received ${signal}${forwarded ? ", forwarded to the agent" : " (the agent got it from the terminal)"}`);
      },
    });
    // What the agent recorded last (an aborted turn, an error) comes before how it ended.
    await capture.poll();
    capture.meta({ type: "exited", code: result.exitCode, signal: result.signal });
    capture.log("info", `agent exited with ${result.signal ? `signal ${result.signal}` : `code ${result.exitCode}`}`);
    ctx.exitCode = result.code;
  } catch (err) {
    capture.meta({ type: "error", message: (err as Error).message });
    throw err;
  } finally {
    // The proxy first: an exchange cut off by the agent's death still gets its closing record.
    await proxy?.close();
    await capture.finish();
    await store?.close();
  }
  if (capture.sessionId === null) warn("the agent named no session (no model request, no new rollout); nothing was captured");
}

interface ChildResult {
  /** What the wrapper exits with: the child's code, or 128 + signal number like a shell. */
  code: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

interface RunChildOptions {
  pipeStderr: boolean;
  onStart?: (pid: number | undefined) => void;
  onStderrLine?: (line: string) => void;
  onSignal?: (signal: NodeJS.Signals, forwarded: boolean) => void;
}

async function runChild(argv: string[], env: Record<string, string | undefined>, ctx: CliContext, o: RunChildOptions): Promise<ChildResult> {
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    stdio: ["inherit", "inherit", o.pipeStderr ? "pipe" : "inherit"],
    env: env as NodeJS.ProcessEnv,
    cwd: ctx.cwd,
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      reject(code === "ENOENT" ? new NotFoundError(`cannot run ${JSON.stringify(argv[0])}: command not found`, { cause: err }) : err);
    });
  });
  await spawned;
  o.onStart?.(child.pid);

  let stderrDone: Promise<void> = Promise.resolve();
  if (o.pipeStderr && child.stderr) {
    const stderr = child.stderr;
    // The user sees the agent's stderr exactly as before; the debug log gets it line by line.
    stderr.on("data", (chunk: Buffer) => ctx.stderr.write(chunk));
    const lines = createInterface({ input: stderr, crlfDelay: Infinity });
    lines.on("line", (line) => o.onStderrLine?.(line));
    stderrDone = new Promise((resolve) => lines.once("close", () => resolve()));
  }

  // A Ctrl-C on a terminal already reached the agent (same process group); forwarding it again would be a second Ctrl-C.
  const fromTerminal = process.stdin.isTTY === true;
  const handlers = FORWARDED_SIGNALS.map((signal) => {
    const handler = () => {
      const forward = !(signal === "SIGINT" && fromTerminal);
      o.onSignal?.(signal, forward);
      if (forward && child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  try {
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("exit", (c, s) => resolve([c, s])));
    // A grandchild may still hold the agent's stderr open; do not wait for it forever.
    await Promise.race([stderrDone, new Promise((r) => setTimeout(r, 2000).unref())]);
    const code = exitCode ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
    return { code, exitCode, signal };
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

function isTruthy(v: string | undefined): boolean {
  return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

function sameDir(storeArg: string, dir: string, ctx: CliContext): boolean {
  let p: string;
  if (storeArg.startsWith("file://")) p = fileURLToPath(storeArg);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(storeArg)) return false;
  else p = storeArg === "~" || storeArg.startsWith("~/") ? join(ctx.env.HOME || homedir(), storeArg.slice(1)) : storeArg;
  return resolve(ctx.cwd, p) === resolve(ctx.cwd, dir);
}
