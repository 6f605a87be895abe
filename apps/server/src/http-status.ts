import type { ErrorCode } from "@sessionvault/core";

/** The one place where errors become HTTP statuses (the CLI has its twin in exit-codes.ts). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  USAGE: 400,
  INVALID_ID: 400,
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  AMBIGUOUS_ID: 409,
  NOT_A_CODEX_HOME: 500,
  CONFLICT: 409,
  LEGAL_HOLD: 423,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  TOO_LARGE: 413,
  UNSUPPORTED: 501,
  IO: 500,
  STORE_UNAVAILABLE: 503,
};
