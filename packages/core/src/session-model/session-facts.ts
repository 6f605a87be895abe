import type { AgentName } from "../agents/agent-name.js";
import type { SessionEvent, TokenUsage } from "./session-event.js";

/**
 * What a whole session amounts to, derived from its model events (the
 * summary fields `agent`, `model`, `outcome`, `turns`, `tokens`,
 * `duration_ms`, `files_changed`, `children`; docs/session-facts.md).
 */
export type SessionOutcome = "completed" | "failed" | "interrupted" | "in_progress" | "unknown";

export interface SessionFacts {
  agent: AgentName;
  /** The model of the last turn; null if never recorded. */
  model: string | null;
  outcome: SessionOutcome;
  turns: number;
  /** The session's token totals as last reported; null if never reported. */
  tokens: TokenUsage | null;
  /** From the first to the last recorded time; null when the format records no per-line times. */
  duration_ms: number | null;
  /** Distinct paths changed by file changes that were applied. */
  files_changed: number;
  /** Ids of the sub-agent sessions it started. */
  children: string[];
}

/** Accumulates facts from events as they stream by; memory grows only with distinct changed paths and children. */
export class SessionFactsBuilder {
  readonly #agent: AgentName;
  #model: string | null = null;
  #turns = 0;
  #tokens: TokenUsage | null = null;
  #first = Number.NaN;
  #last = Number.NaN;
  #times = 0;
  readonly #paths = new Set<string>();
  readonly #children: string[] = [];
  /** The last turn: open, or how it ended. */
  #lastTurn: "none" | "open" | "completed" | "failed" | "aborted" = "none";
  #lastTurnError = false;
  /** The format records how turns end (not only interrupts). */
  #recordsTurnEnds = false;

  constructor(agent: AgentName) {
    this.#agent = agent;
  }

  add(e: SessionEvent): void {
    this.#time(e.timestamp);
    switch (e.type) {
      case "turn_started":
        this.#turns++;
        this.#lastTurn = "open";
        this.#lastTurnError = false;
        return;
      case "turn_ended":
        if (e.status !== "aborted") this.#recordsTurnEnds = true;
        this.#lastTurn = e.status;
        return;
      case "model":
        this.#model = e.model;
        return;
      case "token_usage":
        this.#tokens = { ...e.total };
        return;
      case "error":
        if (this.#lastTurn === "open") this.#lastTurnError = true;
        return;
      case "file_change":
        if (e.status === "completed") for (const p of e.paths) this.#paths.add(p);
        return;
      case "tool_call":
        if (e.subAgent?.action === "spawn") for (const id of e.subAgent.childIds) if (!this.#children.includes(id)) this.#children.push(id);
        return;
      default:
        return;
    }
  }

  facts(): SessionFacts {
    return {
      agent: this.#agent,
      model: this.#model,
      outcome: this.#outcome(),
      turns: this.#turns,
      tokens: this.#tokens,
      duration_ms: this.#times > 1 && this.#last >= this.#first ? this.#last - this.#first : null,
      files_changed: this.#paths.size,
      children: [...this.#children],
    };
  }

  #outcome(): SessionOutcome {
    switch (this.#lastTurn) {
      case "aborted":
        return "interrupted";
      case "failed":
        return "failed";
      case "completed":
        return "completed";
      case "open":
        if (this.#lastTurnError) return "failed";
        return this.#recordsTurnEnds ? "in_progress" : "unknown";
      default:
        return "unknown";
    }
  }

  #time(ts: string): void {
    if (ts === "") return;
    const t = Date.parse(ts);
    if (!Number.isFinite(t)) return;
    if (this.#times === 0 || t !== this.#last) this.#times++;
    if (Number.isNaN(this.#first) || t < this.#first) this.#first = t;
    if (Number.isNaN(this.#last) || t > this.#last) this.#last = t;
  }
}

/** The facts of a whole event stream. */
export async function sessionFacts(events: AsyncIterable<SessionEvent>, agent: AgentName): Promise<SessionFacts> {
  const b = new SessionFactsBuilder(agent);
  for await (const e of events) b.add(e);
  return b.facts();
}
