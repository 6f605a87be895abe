import type { ErrorCode } from "@sessionvault/core";

/** The one place where errors become HTTP statuses (the CLI has its twin in exit-codes.ts). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  USAGE: 400,
  INVALID_ID: 400,
  INVALID_INPUT: 400,
  INVALID_FIELD: 400,
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
  // RFC 4918's Insufficient Storage: the request was fine, the server has no room for it.
  STORAGE_FULL: 507,
  // Bulk work of the CLI only; the server never answers with it.
  PARTIAL_FAILURE: 500,
};
