/**
 * One line of the `raw-api` stream (`session_oai_raw.log`): a request, the
 * response head, each server-sent event of a streamed response, the body of
 * a non-streamed one, or a transport error. Every record repeats method, url
 * and status so a single line can be read on its own. Headers and bodies are
 * already redacted when a record is built.
 */
export type RawApiRecord =
  | (RawApiBase & { type: "request"; headers: Record<string, string>; body: unknown; body_bytes: number; body_omitted?: string })
  | (RawApiBase & { type: "response"; status: number; headers: Record<string, string>; duration_ms: number })
  | (RawApiBase & { type: "event"; status: number; seq: number; event: string | null; data: unknown })
  | (RawApiBase & { type: "response_body"; status: number; body: unknown; body_bytes: number; body_omitted?: string })
  | (RawApiBase & { type: "response_end"; status: number; events: number; body_bytes: number; duration_ms: number; request_bytes?: number })
  | (RawApiBase & { type: "error"; status: number | null; message: string })
  | (RawApiBase & {
      type: "ws_message";
      status: number;
      /** "send": agent to API; "receive": API to agent. */
      direction: "send" | "receive";
      opcode: number;
      bytes: number;
      data: unknown;
      data_omitted?: string;
    });

export interface RawApiBase {
  /** ISO-8601 UTC with milliseconds. */
  ts: string;
  /** Groups the records of one request/response exchange. */
  exchange: string;
  method: string;
  url: string;
}
