import type { ErrorCode } from "@sessionvault/core";

/** The one place where errors become exit codes. 2 is a usage error (DESIGN.md §10). */
export const EXIT_CODES: Record<ErrorCode, number> = {
  USAGE: 2,
  INVALID_ID: 2,
  INVALID_INPUT: 3,
  INVALID_FIELD: 3,
  NOT_FOUND: 4,
  AMBIGUOUS_ID: 4,
  NOT_A_CODEX_HOME: 4,
  CONFLICT: 5,
  LEGAL_HOLD: 6,
  UNAUTHORIZED: 7,
  FORBIDDEN: 7,
  TOO_LARGE: 3,
  UNSUPPORTED: 8,
  IO: 10,
  STORE_UNAVAILABLE: 11,
  STORAGE_FULL: 12,
  /** `sync`: the sessions it names failed (each on stderr and in `errors`), all the others were synced. */
  PARTIAL_FAILURE: 13,
};

export const EXIT_UNEXPECTED = 1;
