import type { FastifyError } from "fastify";
import { AmbiguousIdError, ConflictError, isSessionvaultError, LegalHoldError } from "@sessionvault/core";
import type { ErrorCode } from "@sessionvault/core";
import { HTTP_STATUS } from "./http-status.js";

export interface ErrorBody {
  code: ErrorCode | "INTERNAL" | "ROUTE_NOT_FOUND";
  message: string;
  current_seq?: number;
  /** LEGAL_HOLD and AMBIGUOUS_ID: which session or prefix. */
  session_id?: string;
  candidates?: string[];
}

/**
 * The status and JSON body for any error a route throws. Our own errors go
 * through HTTP_STATUS; fastify's (validation, body limit, content type) keep
 * the 4xx status fastify chose and get the matching code; anything else is a
 * 500 whose details stay in the log.
 */
export function errorReply(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (isSessionvaultError(err)) {
    const body: ErrorBody = { code: err.code, message: err.message };
    if (err instanceof ConflictError) body.current_seq = err.currentSeq;
    if (err instanceof AmbiguousIdError) body.candidates = err.candidates.slice(0, 20);
    if (err instanceof LegalHoldError || err instanceof AmbiguousIdError) {
      const id = /session(?: id prefix)? "?([0-9a-f-]+)"?/.exec(err.message)?.[1];
      if (id) body.session_id = id;
    }
    return { status: HTTP_STATUS[err.code], body, internal: false };
  }
  const fe = err as Partial<FastifyError>;
  if (fe.validation) {
    return { status: 400, body: { code: "INVALID_INPUT", message: `invalid request: ${fe.message}` }, internal: false };
  }
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code: ErrorBody["code"] = fe.statusCode === 413 ? "TOO_LARGE" : fe.statusCode === 401 ? "UNAUTHORIZED" : "INVALID_INPUT";
    return { status: fe.statusCode, body: { code, message: fe.message ?? "bad request" }, internal: false };
  }
  return { status: 500, body: { code: "INTERNAL", message: "internal server error" }, internal: true };
}
