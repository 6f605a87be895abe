/** The repository's fixtures/ folder. */
export declare const FIXTURES: string;
export interface AgentHomeOptions {
  /** How many sessions (about, for Claude Code and Gemini CLI: whole copies of the fixture sets, then cut). */
  sessions: number;
  /** How many variants of each fixture project folder the copies spread over (default 20). */
  groups?: number;
  /** Minutes between one copy's times and the next's (default 10). */
  copyMinutes?: number;
  /** When the first copy starts (ms; default 2026-01-05T08:00Z). */
  start?: number;
  /** Claude Code: every n-th copy from 2.1.332, the others from 2.1.112 (default 10). */
  bigEvery?: number;
}
/** A Claude Code config dir; returns the session ids written. */
export declare function generateClaudeHome(home: string, options: AgentHomeOptions): string[];
/** A Gemini CLI dir with `projects.json`; returns the session ids written. */
export declare function generateGeminiHome(home: string, options: AgentHomeOptions): string[];
/** A Codex home of dated rollouts named in UTC; returns the session ids written. */
export declare function generateCodexHomeFromFixtures(home: string, options: AgentHomeOptions): string[];
/** Total bytes of the files under `dir`. */
export declare function treeBytes(dir: string): number;
