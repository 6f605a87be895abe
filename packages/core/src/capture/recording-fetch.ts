import { ExchangeTap } from "./exchange-tap.js";
import type { RawApiRecord } from "./raw-api-record.js";

/** Anything that takes raw-api records: a SessionRecorder, or a test's array. */
export interface RawApiSink {
  rawApi(record: RawApiRecord): void;
}

/**
 * Wraps a `fetch` so that every exchange is recorded (redacted) into
 * `recorder`: for TypeScript agents that call the model API themselves. The
 * response body the caller reads is the upstream body, passed through chunk
 * by chunk as the caller pulls it; a streamed (SSE) response is recorded
 * event by event.
 */
export function recordingFetch(fetchImpl: typeof fetch, recorder: RawApiSink, options: { maxBodyBytes?: number } = {}): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const tap = new ExchangeTap({
      method: request.method,
      url: request.url,
      requestHeaders: request.headers,
      emit: (r) => recorder.rawApi(r),
      ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    });
    if (request.body) tap.requestChunk(new Uint8Array(await request.clone().arrayBuffer()));
    tap.requestEnd();

    let response: Response;
    try {
      response = await fetchImpl(request);
    } catch (err) {
      tap.error(err);
      throw err;
    }
    tap.response(response.status, response.headers);
    if (!response.body) {
      tap.responseEnd();
      return response;
    }
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            tap.responseEnd();
            controller.close();
            return;
          }
          controller.enqueue(value);
          tap.responseChunk(value);
        } catch (err) {
          tap.error(err);
          controller.error(err);
        }
      },
      async cancel(reason) {
        tap.error(new Error(`response body cancelled by the caller${reason ? `: ${String(reason)}` : ""}`));
        await reader.cancel(reason);
      },
    });
    const wrapped = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    // Response.url is read-only and empty on a constructed Response; callers use it for relative links.
    Object.defineProperty(wrapped, "url", { value: response.url });
    return wrapped;
  };
}
