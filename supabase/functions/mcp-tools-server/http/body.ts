/**
 * Reading a request body within its limits, before anything expensive happens:
 * - size: a declared Content-Length over MAX_BODY_BYTES is refused before the body is read; a body
 *   without one (chunked) is counted while it arrives and refused once over;
 * - shape: JSON nesting and value counts are checked on the bytes before anything parses them, so
 *   a hostile body (hundreds of thousands of nested `[`) never becomes a huge object graph.
 */
import { ApiError } from "../lib/api_error.ts";
import { boundsMessage, JsonBoundsScanner } from "../mcp/protocol/json_bounds.ts";
import { invalidRequest, type ProtocolError } from "../mcp/protocol/jsonrpc.ts";

export type BodyRead = { text: string } | { refused: ProtocolError };

/**
 * Answering 413 while the client still sends makes the edge runtime's Deno (2.1.4) close the
 * connection with unread data, which resets it: the client (or the gateway in front) loses the
 * answer and sees "fetch failed". The rest is read and dropped first, up to this many bytes.
 */
const DISCARD_MAX_BYTES = 16 * 1024 * 1024;

/** Up to this size a declared body is read in one go (the common case: small JSON-RPC messages). */
const WHOLE_MAX_BYTES = 64 * 1024;

/** Refuses a declared body over `maxBytes`, once what was sent is drained. */
export async function refuseTooLarge(request: Request, maxBytes: number): Promise<never> {
  await discardBody(request, DISCARD_MAX_BYTES);
  throw new ApiError("PAYLOAD_TOO_LARGE", `The request body is larger than ${maxBytes} bytes.`);
}

/** Drops a body nobody read (a request refused before reading it), up to the discard bound. */
export function discardUnread(request: Request): Promise<void> {
  return discardBody(request, DISCARD_MAX_BYTES);
}

/** Reads and drops what is left of `request`'s body, up to `max` bytes. */
export async function discardBody(request: Request, max: number): Promise<void> {
  if (request.bodyUsed || !request.body || request.body.locked) return;
  await drain(request.body.getReader(), max);
}

/** Reads and drops the rest of a body being read, up to `max` bytes, then lets go of it. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, max: number): Promise<void> {
  let seen = 0;
  try {
    while (seen <= max) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away: nothing left to drain.
  }
}

/** The body as text, at most `maxBytes` of it, or the JSON bound it breaks. */
export async function readBody(
  request: Request,
  declared: string | null,
  maxBytes: number,
): Promise<BodyRead> {
  // A small body with a Content-Length arrives whole: read at once; its JSON bounds are checked
  // by the one parse of it (parseMessage scans before JSON.parse). A larger one is checked chunk
  // by chunk as it arrives, like one without (its size was checked already), so a hostile body
  // is refused before it is buffered. The whole read never touches `request.body`: on Deno.serve
  // that getter builds a ReadableStream over the connection, and reading through it costs more.
  if (declared !== null && Number(declared) <= WHOLE_MAX_BYTES) {
    return { text: await request.text() };
  }
  if (request.body === null) return { text: "" };
  const scanner = new JsonBoundsScanner();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    // Refused mid-body: the rest is drained first, for the same reason as a 413 (see above); it is
    // counted and dropped, never kept or parsed.
    if (size > maxBytes) {
      await drain(reader, DISCARD_MAX_BYTES - size);
      throw new ApiError("PAYLOAD_TOO_LARGE", `The request body is larger than ${maxBytes} bytes.`);
    }
    const exceeded = scanner.feed(value);
    if (exceeded) {
      // At most what the body limit would have let through anyway.
      await drain(reader, maxBytes - size);
      return { refused: invalidRequest(boundsMessage(exceeded)) };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return { text: utf8.decode(bytes) };
}

/** One decoder for the isolate: constructing one costs more than decoding a message. */
const utf8 = new TextDecoder();
