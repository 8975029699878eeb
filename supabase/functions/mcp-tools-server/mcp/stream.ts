/**
 * JSON unless streaming is needed: a request is answered with one JSON body, unless its handler
 * sends a notification (progress, a log message) before finishing and the caller accepts SSE.
 * Then the answer becomes an SSE stream scoped to this request: the notifications, then the
 * response. Nothing is shared between requests, so one caller's messages can't reach another.
 */
import type { RequestId } from "./protocol/jsonrpc.ts";

export interface Channel {
  /** Sends a notification on this request's response stream, opening the stream on first use. */
  notify(notification: { method: string; params?: unknown }): void;
  /** Aborted when the caller closes the response stream (the spec's cancellation signal). */
  signal: AbortSignal;
}

const encoder = new TextEncoder();
const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

function frame(json: string): Uint8Array {
  return encoder.encode(`event: message\ndata: ${json}\n\n`);
}

const JSON_TYPE = { "content-type": "application/json" };

/** A caller that takes JSON only never sees notifications, so its answer needs no race. */
const SILENT: Channel = {
  notify() {},
  get signal() {
    return new AbortController().signal;
  },
};

const jsonResponse = (text: string) => new Response(text, { headers: JSON_TYPE });

/** `run` answers with the JSON-RPC response as text. */
export function respondLazily(
  options: {
    id: RequestId;
    acceptsStream: boolean;
    /** Aborted when the caller goes away (Deno.serve's request signal); read only for streams. */
    request?: Request;
  },
  run: (channel: Channel) => Promise<string>,
): Promise<Response> {
  if (!options.acceptsStream) return run(SILENT).then(jsonResponse);
  return respondStreaming(options.id, run, options.request);
}

/** The answer of a caller that accepts SSE: JSON until the handler first sends a notification. */
async function respondStreaming(
  id: RequestId,
  run: (channel: Channel) => Promise<string>,
  request: Request | undefined,
): Promise<Response> {
  const closed = new AbortController();
  const pending: Uint8Array[] = [];
  let sink: ReadableStreamDefaultController<Uint8Array> | undefined;
  let finished = false;
  let openStream: () => void = () => {};
  const streamWanted = new Promise<null>((resolve) => (openStream = () => resolve(null)));

  const channel: Channel = {
    signal: closed.signal,
    notify(notification) {
      if (finished) return;
      const bytes = frame(JSON.stringify({ jsonrpc: "2.0", ...notification }));
      if (sink) {
        write(bytes);
      } else {
        pending.push(bytes);
        openStream();
      }
    },
  };

  const write = (bytes: Uint8Array) => {
    try {
      sink?.enqueue(bytes);
    } catch {
      // The caller closed the stream; nothing more is sent.
    }
  };

  const work = run(channel);
  const first = await Promise.race([work, streamWanted]);
  if (first !== null) {
    finished = true;
    return new Response(first, { headers: JSON_TYPE });
  }

  // A caller that leaves while the handler is quiet (waiting on an upstream, say) is seen at
  // once: the stream's cancel() alone would come only with the next write.
  const left = () => {
    if (finished) return;
    finished = true;
    closed.abort();
  };
  request?.signal.addEventListener("abort", left, { once: true });
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      sink = controller;
      for (const bytes of pending) write(bytes);
      pending.length = 0;
      work
        .then((json) => write(frame(json)))
        .catch(() => {
          // The handler already turns failures into JSON-RPC errors; this is a last resort.
          const error = { code: -32603, message: "Internal error" };
          write(frame(JSON.stringify({ jsonrpc: "2.0", id, error })));
        })
        .finally(() => {
          finished = true;
          request?.signal.removeEventListener("abort", left);
          try {
            controller.close();
          } catch {
            // Already cancelled by the caller.
          }
        });
    },
    cancel: left,
  });
  return new Response(stream, { headers: SSE_HEADERS });
}
