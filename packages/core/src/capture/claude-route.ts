import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { UnsupportedError } from "../errors.js";

export const ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com";

/**
 * Where a Claude Code run sends its model requests, and how to point it at
 * the recording proxy instead. Claude Code takes `ANTHROPIC_BASE_URL` from
 * its environment, but the `env` block of a settings file overrides the
 * environment (checked with 2.1.332), and a `--settings` flag overrides the
 * settings files. So a base URL set in settings is replaced by a
 * `--settings '{"env":{"ANTHROPIC_BASE_URL":…}}'` flag; one set only in the
 * environment by the environment.
 */
export interface ClaudeRoute {
  /** The base URL Claude Code would have used: where the proxy forwards to. */
  upstream: string;
  /** The settings file whose `env.ANTHROPIC_BASE_URL` it comes from, or null (the environment, or the default). */
  settingsFile: string | null;
}

/** The settings files that can set the base URL, highest precedence first (managed policy settings are not looked at). */
function settingsFiles(configDir: string, cwd: string): string[] {
  return [join(cwd, ".claude", "settings.local.json"), join(cwd, ".claude", "settings.json"), join(configDir, "settings.json")];
}

/**
 * The route of a Claude Code run in `cwd`. UnsupportedError when the base
 * URL comes from a settings file and the command has its own `--settings`:
 * a second `--settings` would replace it (Claude Code keeps only the last),
 * so the run cannot be pointed at the proxy.
 */
export async function resolveClaudeRoute(
  configDir: string,
  cwd: string,
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Promise<ClaudeRoute> {
  for (const file of settingsFiles(configDir, cwd)) {
    let settings: unknown;
    try {
      settings = JSON.parse(await readFile(file, "utf8"));
    } catch {
      // Missing or unreadable: Claude Code skips it too.
      continue;
    }
    const url = (settings as { env?: { ANTHROPIC_BASE_URL?: unknown } } | null)?.env?.ANTHROPIC_BASE_URL;
    if (typeof url !== "string" || url === "") continue;
    if (argv.some((a) => a === "--settings" || a.startsWith("--settings=")))
      throw new UnsupportedError(`ANTHROPIC_BASE_URL is set in ${file} and the command has its own --settings, which would replace the proxy's`);
    return { upstream: url, settingsFile: file };
  }
  return { upstream: env.ANTHROPIC_BASE_URL || ANTHROPIC_DEFAULT_BASE_URL, settingsFile: null };
}

/** The command line and environment that send the run's requests to `proxyUrl`. */
export function routeClaudeThroughProxy(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  route: ClaudeRoute,
  proxyUrl: string,
): { argv: string[]; env: Record<string, string | undefined> } {
  const childEnv = { ...env, ANTHROPIC_BASE_URL: proxyUrl };
  if (route.settingsFile === null) return { argv: [...argv], env: childEnv };
  return { argv: [argv[0]!, "--settings", JSON.stringify({ env: { ANTHROPIC_BASE_URL: proxyUrl } }), ...argv.slice(1)], env: childEnv };
}
