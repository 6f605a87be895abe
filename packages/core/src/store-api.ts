// The store-facing entry point of @sessionvault/core (`@sessionvault/core/store-api`): what store
// drivers and the apps' store plumbing need — errors, ids, the model's summary, the store contract,
// the checked layer and store URLs, retention, reading JSONL, the Codex home layout, a summary's
// redaction and facts, and the sync between two stores — without capture (the recording proxy, its
// HTTP and TOML parsing) or the actions export. A command that only lists, reads or syncs sessions
// loads this much of core and no more (docs/architecture.md, apps/cli/bench/startup.mjs).
// Everything here is also in the main entry.
export * from "./errors.js";
export * from "./ids.js";
export * from "./session.js";
export * from "./store.js";
export * from "./store-url.js";
export * from "./checked-store.js";
export * from "./store-capabilities.js";
export * from "./raw-streams.js";
export * from "./file-mirror.js";
export * from "./sync.js";
export * from "./session-aggregates.js";
export * from "./session-input.js";
export * from "./run-retention.js";
export * from "./retention.js";
export * from "./api-tokens.js";
export * from "./append.js";
export * from "./search-scan.js";
export * from "./lines-to-utf8.js";
export * from "./jsonl-reader.js";
export * from "./codex/rollout-line.js";
export * from "./codex/session-summary.js";
export * from "./agents/codex/codex-home.js";
export * from "./agents/codex/line-timestamp.js";
export * from "./redact.js";
export * from "./redact-summary.js";
export * from "./session-model/session-facts.js";
export * from "./agents/agent-readers.js";
export * from "./agents/line-time.js";
export * from "./search-prefilter.js";
export * from "./search-prefiltered.js";
export * from "./agents/codex/line-search-text.js";
// The other agents' home layouts: fs-store opens a Claude Code or Gemini CLI home as a read-only store.
export * from "./agents/claude-code/claude-home.js";
export * from "./agents/gemini-cli/gemini-home.js";
