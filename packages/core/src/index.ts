// Public API of @sessionvault/core. The conformance suite is a separate
// entry point (`@sessionvault/core/conformance`) so that vitest is only
// loaded by tests.
export * from "./errors.js";
export * from "./ids.js";
export * from "./session.js";
export * from "./store.js";
export * from "./store-url.js";
export * from "./append.js";
export * from "./jsonl-reader.js";
export * from "./codex/rollout-line.js";
export * from "./codex/session-summary.js";
export * from "./session-state.js";
export * from "./writer-queue.js";
export * from "./codex/persistence-policy.js";
export * from "./actions/action-v1.js";
export * from "./actions/project-actions.js";
export * from "./redact.js";
