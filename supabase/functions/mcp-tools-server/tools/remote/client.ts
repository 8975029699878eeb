/**
 * A connection to a tenant's remote MCP server, made with the official client
 * (@modelcontextprotocol/client: it speaks 2026-07-28 where the server does and falls back to the
 * initialize handshake otherwise). Every HTTP request it makes goes through the guarded fetch:
 * the same address policy, timeout and size cap as HTTP tools, and credentials dropped on a
 * redirect to another origin. A tools/call answer is handed to the client as it streams, so the
 * progress and log notifications a server sends mid-call reach the caller before the result.
 */
import {
  Client,
  type FetchLike,
  StreamableHTTPClientTransport,
} from "@modelcontextprotocol/client";
import { SERVER_NAME, SERVER_VERSION } from "../../config.ts";
import type { GuardedFetch } from "../../upstream/guarded_fetch.ts";

const NO_BODY = new Set([101, 204, 205, 304]);

/** Requests whose answers are streamed through: the ones a server sends notifications during. */
const STREAMED_METHODS = new Set(["tools/call"]);

/**
 * fetch for the client, over the guarded fetch. Only POSTs go out: a standalone GET stream (and a
 * session DELETE) is answered 405 here, as a stateless server would, so nothing stays open.
 *
 * A streamed answer that fails mid-way (size cap, time limit) is told to `onStreamFailure`: the
 * client only logs a broken response stream and would wait for its own timeout, so whoever
 * awaits the call must hear of it.
 */
export function guardedFetchLike(
  upstreamFetch: GuardedFetch,
  options: {
    credentialHeaders: string[];
    timeoutMs?: number;
    onStreamFailure?: (err: unknown) => void;
    /**
     * The caller's signal, beside the one the client puts on each request: a caller who leaves
     * ends the upstream call even where the client would not pass its own cancellation on.
     */
    signal?: AbortSignal;
  },
): FetchLike {
  return async (input, init) => {
    // One Request reads method, headers and body alike on every Deno (the edge runtime's too).
    const request = new Request(input instanceof Request ? input : String(input), init);
    const method = request.method.toUpperCase();
    if (method !== "POST") return new Response(null, { status: 405 });
    const url = new URL(request.url);
    const body = request.body === null ? undefined : await request.text();
    const response = await upstreamFetch({
      url,
      method,
      headers: request.headers,
      body,
      credentialHeaders: options.credentialHeaders,
      timeoutMs: options.timeoutMs,
      // The client aborts when it is closed or the call is cancelled; the caller's own signal
      // rides beside it: either ends the upstream call.
      signal: options.signal ? AbortSignal.any([request.signal, options.signal]) : request.signal,
      stream: STREAMED_METHODS.has(rpcMethod(body)),
    });
    const content = response.stream
      ? watched(response.stream, options.onStreamFailure)
      : response.body as BodyInit;
    return new Response(NO_BODY.has(response.status) ? null : content, {
      status: response.status,
      headers: response.headers,
    });
  };
}

/** The JSON-RPC method of a request body; "" for anything else (a batch, a response). */
function rpcMethod(body: string | undefined): string {
  if (!body) return "";
  try {
    const message = JSON.parse(body);
    return typeof message?.method === "string" ? message.method : "";
  } catch {
    return "";
  }
}

/** `stream` passed on unchanged; a failure is told to `onFailure` before the reader sees it. */
function watched(
  stream: ReadableStream<Uint8Array>,
  onFailure: ((err: unknown) => void) | undefined,
): ReadableStream<Uint8Array> {
  if (!onFailure) return stream;
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (err) {
        onFailure(err);
        controller.error(err);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

export async function connectRemote(
  url: string,
  options: { fetch: FetchLike; headers: Record<string, string> },
): Promise<Client> {
  const client = new Client(
    { name: SERVER_NAME, version: SERVER_VERSION },
    { versionNegotiation: { mode: "auto" } },
  );
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: options.fetch,
    requestInit: { headers: options.headers },
  });
  await client.connect(transport);
  return client;
}
