/**
 * The `command` display string of an action. Codex runs most commands as
 * `[shell, "-lc", script]`; users read the script, so that wrapper is
 * dropped (as Codex's own UI does). Any other argv is joined with POSIX
 * shell quoting so that the string can be pasted back into a shell.
 */
const SHELLS = new Set(["bash", "sh", "zsh", "dash"]);
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function displayCommand(argv: readonly string[]): string {
  return shellScript(argv) ?? argv.map(quote).join(" ");
}

/** The script of a `[shell, "-lc" | "-c", script]` argv, else null. */
export function shellScript(argv: readonly string[]): string | null {
  if (argv.length === 3 && SHELLS.has(basename(argv[0]!)) && (argv[1] === "-lc" || argv[1] === "-c")) return argv[2]!;
  return null;
}

function quote(arg: string): string {
  if (arg !== "" && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function basename(p: string): string {
  const i = p.lastIndexOf("/");
  return i === -1 ? p : p.slice(i + 1);
}

/** `file:///x/y` (0.169's CommandExecution cwd) → `/x/y`; plain paths pass through. */
export function cwdFromRecord(value: unknown): string | null {
  if (typeof value !== "string" || value === "") return null;
  if (value.startsWith("file://")) {
    try {
      return decodeURIComponent(new URL(value).pathname);
    } catch {
      return null;
    }
  }
  return value;
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}
