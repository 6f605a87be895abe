import { AGENTS } from "@sessionvault/core";

/**
 * JSON schemas of the API bodies (DESIGN.md §10–11 field names). fastify
 * validates requests with them (400 with the failing path on a mismatch) and
 * the OpenAPI document at /openapi.json is generated from them.
 */
const nullableString = { type: ["string", "null"] } as const;

export const gitSchema = {
  type: ["object", "null"],
  properties: {
    commit_hash: nullableString,
    branch: nullableString,
    repository_url: nullableString,
  },
} as const;

const summaryProperties = {
  id: { type: "string" },
  agent: { type: "string", enum: [...AGENTS], description: "the agent that wrote the session (docs/sessions.md)" },
  created_at: { type: "string" },
  updated_at: { type: "string" },
  cwd: nullableString,
  title: nullableString,
  archived: { type: "boolean" },
  source: nullableString,
  originator: nullableString,
  cli_version: nullableString,
  model_provider: nullableString,
  git: gitSchema,
  parent_id: nullableString,
  forked_from_id: nullableString,
  lines: { type: "integer" },
  bytes: { type: "integer" },
} as const;

/** Derived from the rollout by the session model (docs/sessions.md); read-only. */
const factsProperties = {
  agent: { type: "string" },
  model: nullableString,
  outcome: { type: "string", enum: ["completed", "failed", "interrupted", "in_progress", "unknown"] },
  turns: { type: "integer" },
  tokens: {
    type: ["object", "null"],
    properties: { input: { type: "integer" }, cached_input: { type: "integer" }, output: { type: "integer" }, reasoning: { type: "integer" } },
  },
  duration_ms: { type: ["integer", "null"] },
  files_changed: { type: "integer" },
  children: { type: "array", items: { type: "string" } },
} as const;

export const sessionSummarySchema = {
  type: "object",
  properties: summaryProperties,
} as const;

/** A listed session: its summary and its facts. */
export const listedSessionSchema = {
  type: "object",
  properties: { ...summaryProperties, ...factsProperties },
} as const;

export const streamInfoSchema = {
  type: "object",
  properties: { name: { type: "string" }, lines: { type: "integer" }, bytes: { type: "integer" } },
} as const;

export const sessionDetailSchema = {
  type: "object",
  properties: {
    ...summaryProperties,
    ...factsProperties,
    legal_hold: { type: "boolean" },
    streams: { type: "array", items: streamInfoSchema },
  },
} as const;

export const sessionPageSchema = {
  type: "object",
  properties: {
    sessions: { type: "array", items: listedSessionSchema },
    next_cursor: nullableString,
    /** With `q`: for each session listed, where the text matched (a title, message or command, one line, redacted like the summary). */
    snippets: { type: "object", additionalProperties: { type: "string" } },
  },
} as const;

export const errorSchema = {
  type: "object",
  properties: {
    code: { type: "string" },
    message: { type: "string" },
    current_seq: { type: "integer" },
    session_id: { type: "string" },
    candidates: { type: "array", items: { type: "string" } },
    field: { type: "string", description: "INVALID_FIELD: the field or filter whose value was refused" },
  },
} as const;

/** What every /v1 route declares: a bearer token, and the error body for each refusal. */
export const bearerSecurity = [{ bearer: [] as string[] }];
export const errorResponses = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema };

const maxText = (n: number) => ({ type: ["string", "null"], maxLength: n }) as const;

/** PUT /v1/sessions/{id}: what a writer may set; counts and positions are the store's. */
export const sessionInputSchema = {
  type: "object",
  required: ["created_at"],
  additionalProperties: false,
  properties: {
    id: { type: "string", maxLength: 36 },
    // Checked by core (an unknown agent is INVALID_FIELD naming "agent"); missing means codex.
    agent: { type: "string", maxLength: 64 },
    created_at: { type: "string", minLength: 10, maxLength: 40 },
    updated_at: { type: "string", minLength: 10, maxLength: 40 },
    cwd: maxText(4096),
    title: maxText(4096),
    archived: { type: "boolean" },
    source: maxText(256),
    originator: maxText(256),
    cli_version: maxText(64),
    model_provider: maxText(256),
    git: {
      type: ["object", "null"],
      additionalProperties: false,
      properties: { commit_hash: maxText(128), branch: maxText(1024), repository_url: maxText(4096) },
    },
    parent_id: maxText(36),
    forked_from_id: maxText(36),
    /** The session's facts as the writer computed them from its rollout (a sync carries the source's). */
    facts: {
      type: ["object", "null"],
      additionalProperties: false,
      required: ["agent", "model", "outcome", "turns", "tokens", "duration_ms", "files_changed", "children"],
      properties: {
        ...factsProperties,
        agent: { type: "string", maxLength: 64 },
        model: maxText(256),
        turns: { type: "integer", minimum: 0 },
        tokens: {
          type: ["object", "null"],
          additionalProperties: false,
          required: ["input", "cached_input", "output", "reasoning"],
          properties: {
            input: { type: "integer", minimum: 0 },
            cached_input: { type: "integer", minimum: 0 },
            output: { type: "integer", minimum: 0 },
            reasoning: { type: "integer", minimum: 0 },
          },
        },
        duration_ms: { type: ["integer", "null"], minimum: 0 },
        files_changed: { type: "integer", minimum: 0 },
        children: { type: "array", maxItems: 10000, items: { type: "string", maxLength: 64 } },
      },
    },
  },
} as const;

export const listQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    limit: { type: "integer", minimum: 1, maximum: 1000, default: 50 },
    cursor: { type: "string", maxLength: 1024 },
    q: { type: "string", maxLength: 512 },
    cwd: { type: "string", maxLength: 4096 },
    repo: { type: "string", maxLength: 1024 },
    branch: { type: "string", maxLength: 1024 },
    model_provider: { type: "string", maxLength: 256 },
    agent: { type: "string", maxLength: 64 },
    since: { type: "string", maxLength: 40 },
    until: { type: "string", maxLength: 40 },
    archived: { type: "string", enum: ["active", "archived", "all", "true", "false"] },
    redact: { type: "boolean", default: true, description: "false (admin tokens only): summaries as stored, secrets not redacted" },
  },
} as const;

export const redactQuerySchema = {
  type: "object",
  properties: { redact: { type: "boolean", default: true, description: "false (admin tokens only): secrets not redacted" } },
} as const;

export const idParamsSchema = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", maxLength: 64 } },
} as const;

export const streamParamsSchema = {
  type: "object",
  required: ["id", "name"],
  properties: { id: { type: "string", maxLength: 64 }, name: { type: "string", maxLength: 64 } },
} as const;
