/**
 * Every error sessionvault raises on purpose is a SessionvaultError with a
 * stable `code`. Apps map codes to exit codes (apps/cli/src/exit-codes.ts) and
 * HTTP statuses (apps/server/src/http-status.ts) in one table each; nothing
 * else in the code base switches on error types.
 */
export type ErrorCode =
  | "NOT_FOUND"
  | "AMBIGUOUS_ID"
  | "INVALID_ID"
  | "INVALID_INPUT"
  | "INVALID_FIELD"
  | "CONFLICT"
  | "LEGAL_HOLD"
  | "NOT_A_CODEX_HOME"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "TOO_LARGE"
  | "UNSUPPORTED"
  | "IO"
  | "STORE_UNAVAILABLE"
  | "STORAGE_FULL"
  | "PARTIAL_FAILURE"
  | "USAGE";

export class SessionvaultError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class NotFoundError extends SessionvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("NOT_FOUND", message, options);
  }
}

export class AmbiguousIdError extends SessionvaultError {
  readonly candidates: string[];
  constructor(prefix: string, candidates: string[]) {
    super("AMBIGUOUS_ID", `session id prefix "${prefix}" is ambiguous: it matches ${candidates.slice(0, 5).join(", ")}${candidates.length > 5 ? ", …" : ""}`);
    this.candidates = candidates;
  }
}

export class InvalidIdError extends SessionvaultError {
  constructor(message: string) {
    super("INVALID_ID", message);
  }
}

export class InvalidInputError extends SessionvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_INPUT", message, options);
  }
}

/**
 * One named field holds a value no store can keep as given (a NUL
 * character, a lone surrogate): refused before it reaches a store, so it is
 * a clear 400 instead of a database error.
 */
export class InvalidFieldError extends SessionvaultError {
  /** The field as the API names it ("title", "git.repository_url", the "cwd" filter). */
  readonly field: string;
  constructor(field: string, reason: string) {
    super("INVALID_FIELD", `${field}: ${reason}`);
    this.field = field;
  }
}

/** An append named a position that is not the stream's current one. */
export class ConflictError extends SessionvaultError {
  readonly currentSeq: number;
  constructor(message: string, currentSeq: number, options?: { cause?: unknown }) {
    super("CONFLICT", message, options);
    this.currentSeq = currentSeq;
  }
}

export class LegalHoldError extends SessionvaultError {
  constructor(sessionId: string) {
    super("LEGAL_HOLD", `session ${sessionId} is under legal hold and cannot be deleted`);
  }
}

export class NotACodexHomeError extends SessionvaultError {
  constructor(path: string, options?: { cause?: unknown }) {
    super("NOT_A_CODEX_HOME", `${path} is not a Codex home (no sessions/ or archived_sessions/ directory)`, options);
  }
}

export class UnauthorizedError extends SessionvaultError {
  constructor(message = "missing or invalid bearer token") {
    super("UNAUTHORIZED", message);
  }
}

export class ForbiddenError extends SessionvaultError {
  constructor(message: string) {
    super("FORBIDDEN", message);
  }
}

export class TooLargeError extends SessionvaultError {
  constructor(message: string) {
    super("TOO_LARGE", message);
  }
}

export class UnsupportedError extends SessionvaultError {
  constructor(message: string) {
    super("UNSUPPORTED", message);
  }
}

/** A filesystem or network operation failed; `cause` holds the original error. */
export class IoError extends SessionvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("IO", message, options);
  }
}

/** The backing service (database, bucket, server) cannot be reached. */
export class StoreUnavailableError extends SessionvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("STORE_UNAVAILABLE", message, options);
  }
}

/** The disk (or database, or bucket quota) that a store writes to is full: nothing more can be written until space is freed. */
export class StorageFullError extends SessionvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("STORAGE_FULL", message, options);
  }
}

/** Some items of a bulk command failed (each reported on its own), the rest were done. */
export class PartialFailureError extends SessionvaultError {
  constructor(message: string) {
    super("PARTIAL_FAILURE", message);
  }
}

export class UsageError extends SessionvaultError {
  constructor(message: string) {
    super("USAGE", message);
  }
}

export function isSessionvaultError(err: unknown): err is SessionvaultError {
  return err instanceof SessionvaultError;
}

/** errno and SQLSTATE values that mean "no space left": ENOSPC, EDQUOT, Postgres disk_full (53100). */
const FULL_CODES = new Set(["ENOSPC", "EDQUOT", "53100"]);

/**
 * Whether `err` or any error in its `cause` chain says the storage is full.
 * Stores wrap filesystem and driver errors (IoError with a cause), so the
 * edges ask this instead of every store learning the errno.
 */
export function isStorageFull(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error || (typeof e === "object" && e !== null); depth++) {
    if (depth > 8) return false;
    if (e instanceof StorageFullError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && FULL_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
