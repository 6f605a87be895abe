import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { InvalidInputError } from "../errors.js";

/**
 * How to point a Codex CLI run at the recording proxy without touching the
 * user's files: Codex reads its model provider from `$CODEX_HOME/config.toml`
 * (`model_provider`, `[model_providers.<id>] base_url`, profiles), overridden
 * by `-c key=value` flags. A custom provider gets one more `-c
 * model_providers.<id>.base_url=…` flag; the built-in `openai` provider
 * cannot be redefined from config, so it is redirected with
 * `OPENAI_BASE_URL`, which Codex honours for it.
 */
export interface CodexProviderRoute {
  providerId: string;
  /** The base URL the agent would have used: where the proxy forwards to. */
  upstream: string;
  /** "config": a `-c` override of `configKey`; "env": OPENAI_BASE_URL (plus the `configKey` override when set). */
  via: "config" | "env";
  /** The config key holding the base URL (`model_providers.<id>.base_url`, or `openai_base_url` for the built-in provider). */
  configKey?: string;
}

export const OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";
/** Where Codex's built-in openai provider goes when the user signed in with ChatGPT rather than an API key. */
export const CHATGPT_CODEX_BASE_URL = "https://chatgpt.com/backend-api/codex";

/**
 * True when Codex will authenticate with a ChatGPT login (auth.json holds
 * tokens and no API key is forced). Only the mode is read; no credential
 * leaves this function.
 */
async function usesChatGptLogin(codexHome: string, env: Record<string, string | undefined>): Promise<boolean> {
  if (env.CODEX_API_KEY) return false;
  let auth: { auth_mode?: unknown; tokens?: unknown; OPENAI_API_KEY?: unknown };
  try {
    auth = JSON.parse(await readFile(join(codexHome, "auth.json"), "utf8")) as typeof auth;
  } catch {
    return false;
  }
  if (typeof auth.auth_mode === "string") return auth.auth_mode.toLowerCase().startsWith("chatgpt");
  return auth.tokens != null && !auth.OPENAI_API_KEY;
}

export interface CodexInvocation {
  /** Index in argv of the first Codex argument (after the program). */
  argsStart: number;
  /** The subcommand (`exec`, `resume`, …) or null for the interactive TUI. */
  subcommand: string | null;
  /** For `exec resume` / `resume`: the session id named on the command line, if any. */
  resumeId: string | null;
  resume: boolean;
}

/** True when argv[0] runs the Codex CLI (`codex`, a path to it, or its platform binary). */
export function isCodexCommand(argv: readonly string[]): boolean {
  const prog = argv[0];
  if (!prog) return false;
  const b = basename(prog);
  return b === "codex" || b === "codex.js" || b.startsWith("codex-x86_64") || b.startsWith("codex-aarch64");
}

/**
 * Codex options that take a value (top level and `exec`): what tells an option's
 * value from a positional (the subcommand, a prompt) in a Codex command line.
 * The one list; `resume` uses it too.
 */
export const CODEX_VALUE_OPTIONS: ReadonlySet<string> = new Set([
  "-c",
  "--config",
  "-p",
  "--profile",
  "-m",
  "--model",
  "-s",
  "--sandbox",
  "-a",
  "--ask-for-approval",
  "-C",
  "--cd",
  "-i",
  "--image",
  "--add-dir",
  "--enable",
  "--disable",
  "--local-provider",
  "--output-schema",
  "-o",
  "--output-last-message",
  "--color",
  "--thread-source",
  "--cyber-access-program",
]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Finds the subcommand and, for a resume, the session id in a Codex command line. */
export function parseCodexInvocation(argv: readonly string[]): CodexInvocation {
  const positionals: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (CODEX_VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    positionals.push(a);
  }
  let subcommand: string | null = null;
  const first = positionals[0];
  if (
    first &&
    [
      "exec",
      "e",
      "resume",
      "fork",
      "review",
      "login",
      "logout",
      "mcp",
      "apply",
      "a",
      "archive",
      "features",
      "sandbox",
      "debug",
      "completion",
      "app-server",
      "cloud",
    ].includes(first)
  ) {
    subcommand = first === "e" ? "exec" : first;
  }
  let resume = false;
  let resumeId: string | null = null;
  if (subcommand === "exec" && positionals[1] === "resume") {
    resume = true;
    resumeId = positionals[2] && UUID.test(positionals[2]) ? positionals[2].toLowerCase() : null;
  } else if (subcommand === "resume") {
    resume = true;
    resumeId = positionals[1] && UUID.test(positionals[1]) ? positionals[1].toLowerCase() : null;
  }
  return { argsStart: 1, subcommand, resumeId, resume };
}

interface ConfigOverride {
  index: number;
  /** How many argv entries the flag spans (2 for `-c k=v`, 1 for `--config=k=v`). */
  span: number;
  key: string;
  value: unknown;
}

function configOverrides(argv: readonly string[]): ConfigOverride[] {
  const out: ConfigOverride[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    let raw: string | undefined;
    let span = 1;
    if (a === "-c" || a === "--config") {
      raw = argv[i + 1];
      span = 2;
    } else if (a.startsWith("--config=")) raw = a.slice("--config=".length);
    else if (a.startsWith("-c") && a.length > 2) raw = a.slice(2).replace(/^=/, "");
    if (raw === undefined) continue;
    const eq = raw.indexOf("=");
    if (eq > 0) out.push({ index: i, span, key: raw.slice(0, eq).trim(), value: tomlValue(raw.slice(eq + 1)) });
    if (span === 2) i++;
  }
  return out;
}

/** Codex parses a `-c` value as TOML and falls back to the literal string. */
function tomlValue(text: string): unknown {
  try {
    return (parseToml(`v = ${text}`) as { v: unknown }).v;
  } catch {
    return text;
  }
}

function flagValue(argv: readonly string[], short: string, long: string): string | undefined {
  let v: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a === short || a === long) v = argv[++i];
    else if (a.startsWith(`${long}=`)) v = a.slice(long.length + 1);
  }
  return v;
}

/**
 * Which provider a Codex command line will use, and its base URL. Throws
 * InvalidInputError when config.toml is not valid TOML (Codex would refuse
 * it too).
 */
export async function resolveCodexProvider(codexHome: string, argv: readonly string[], env: Record<string, string | undefined>): Promise<CodexProviderRoute> {
  let config: Record<string, unknown> = {};
  const path = join(codexHome, "config.toml");
  let text: string | undefined;
  try {
    text = await readFile(path, "utf8");
  } catch {
    // No config.toml: Codex runs with its defaults (the openai provider).
  }
  if (text !== undefined) {
    try {
      config = parseToml(text) as Record<string, unknown>;
    } catch (cause) {
      throw new InvalidInputError(`cannot parse ${path}: ${(cause as Error).message}`, { cause });
    }
  }
  const overrides = configOverrides(argv);
  const override = (key: string): unknown => overrides.filter((o) => o.key === key).at(-1)?.value;

  const profileName = flagValue(argv, "-p", "--profile") ?? (override("profile") as string | undefined) ?? (config.profile as string | undefined);
  const profile = profileName ? ((config.profiles as Record<string, Record<string, unknown>> | undefined)?.[profileName] ?? {}) : {};
  const providerId = String(override("model_provider") ?? profile.model_provider ?? config.model_provider ?? "openai");

  const fromArgs = override(`model_providers.${providerId}.base_url`);
  const table = (config.model_providers as Record<string, Record<string, unknown>> | undefined)?.[providerId];
  const fromConfig = table?.base_url;
  if (typeof fromArgs === "string" || typeof fromConfig === "string") {
    return { providerId, upstream: String(fromArgs ?? fromConfig), via: "config", configKey: `model_providers.${providerId}.base_url` };
  }
  if (providerId === "openai") {
    // Newer Codex builds also take the built-in provider's URL from `openai_base_url`.
    const configured = override("openai_base_url") ?? config.openai_base_url;
    const upstream =
      (typeof configured === "string" && configured) ||
      env.OPENAI_BASE_URL ||
      ((await usesChatGptLogin(codexHome, env)) ? CHATGPT_CODEX_BASE_URL : OPENAI_DEFAULT_BASE_URL);
    return { providerId, upstream, via: "env", configKey: "openai_base_url" };
  }
  throw new InvalidInputError(`model provider "${providerId}" has no base_url in ${path} or on the command line`);
}

/**
 * The command line and environment that send a Codex run through `proxyUrl`.
 * The user's own base_url overrides for that provider are removed (the
 * proxy forwards to them), and ours goes right after the program: Codex
 * applies top-level `-c` flags to every subcommand.
 */
export function routeCodexThroughProxy(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  route: CodexProviderRoute,
  proxyUrl: string,
): { argv: string[]; env: Record<string, string | undefined> } {
  const outEnv = route.via === "env" ? { ...env, OPENAI_BASE_URL: proxyUrl } : { ...env };
  if (!route.configKey) return { argv: [...argv], env: outEnv };
  const drop = new Set<number>();
  for (const o of configOverrides(argv)) {
    if (o.key === route.configKey) for (let k = 0; k < o.span; k++) drop.add(o.index + k);
  }
  const rest = argv.slice(1).filter((_, i) => !drop.has(i + 1));
  return { argv: [argv[0]!, "-c", `${route.configKey}=${JSON.stringify(proxyUrl)}`, ...rest], env: outEnv };
}
