import type { FastifyError } from "fastify";
import { AmbiguousIdError, ConflictError, InvalidFieldError, isSessionvaultError, isStorageFull, LegalHoldError, StorageFullError } from "@sessionvault/core";
import type { ErrorCode } from "@sessionvault/core";
import { HTTP_STATUS } from "./http-status.js";

export interface ErrorBody {
  code: ErrorCode | "INTERNAL" | "ROUTE_NOT_FOUND";
  message: string;
  current_seq?: number;
  /** LEGAL_HOLD and AMBIGUOUS_ID: which session or prefix. */
  session_id?: string;
  candidates?: string[];
  /** INVALID_FIELD: the field (or filter) whose value was refused. */
  field?: string;
}

/**
 * The status and JSON body for any error a route throws. Our own errors go
 * through HTTP_STATUS; fastify's (validation, body limit, content type) keep
 * the 4xx status fastify chose and get the matching code; anything else is a
 * 500 whose details stay in the log.
 */
export function errorReply(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  // Stores report a full disk as the I/O error it is (or with where their database runs): the client only
  // needs to know that retrying will not help until an operator frees space.
  if (isStorageFull(err)) err = new StorageFullError("the server's storage is full: nothing more can be stored until space is freed", { cause: err });
  if (isSessionvaultError(err)) {
    const body: ErrorBody = { code: err.code, message: withoutServerPaths(err.message) };
    if (err instanceof InvalidFieldError) body.field = err.field;
    if (err instanceof ConflictError) body.current_seq = err.currentSeq;
    if (err instanceof AmbiguousIdError) body.candidates = err.candidates.slice(0, 20);
    if (err instanceof LegalHoldError || err instanceof AmbiguousIdError) {
      const id = /session(?: id prefix)? "?([0-9a-f-]+)"?/.exec(err.message)?.[1];
      if (id) body.session_id = id;
    }
    // A full disk is the operator's to fix: log it like an internal error.
    return { status: HTTP_STATUS[err.code], body, internal: err.code === "STORAGE_FULL" };
  }
  const fe = err as Partial<FastifyError>;
  if (fe.validation) {
    return { status: 400, body: { code: "INVALID_INPUT", message: `invalid request: ${fe.message}` }, internal: false };
  }
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code: ErrorBody["code"] =
      fe.statusCode === 413 ? "TOO_LARGE" : fe.statusCode === 401 ? "UNAUTHORIZED" : fe.statusCode === 403 ? "FORBIDDEN" : "INVALID_INPUT";
    return { status: fe.statusCode, body: { code, message: fe.message ?? "bad request" }, internal: false };
  }
  return { status: 500, body: { code: "INTERNAL", message: "internal server error" }, internal: true };
}

/** An absolute path: after the start, a space, a quote, "(" or "=" (so not the path of a URL). */
const ABSOLUTE_PATH = /(?<=^|[\s"'(=])\/[^\s"'<>()]*/g;

/**
 * Store messages name files (`no session … in /srv/sessionvault/acme`), which
 * helps on the command line and tells a remote client how the server is laid
 * out: the server's answers leave paths out (its log keeps them).
 */
function withoutServerPaths(message: string): string {
  return message.replace(ABSOLUTE_PATH, "(server path)");
}
