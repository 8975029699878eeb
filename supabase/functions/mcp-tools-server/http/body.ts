/**
 * Reads a request body while checking its JSON bounds as it arrives: a hostile body (hundreds of
 * thousands of nested `[`) is refused after its first bytes, never buffered whole or decoded.
 */
import { boundsMessage, JsonBoundsScanner } from "../mcp/protocol/json_bounds.ts";
import { invalidRequest, type ProtocolError } from "../mcp/protocol/jsonrpc.ts";

export type BodyRead = { text: string } | { refused: ProtocolError };

export async function readBoundedBody(request: Request): Promise<BodyRead> {
  if (!request.body) return { text: "" };
  const scanner = new JsonBoundsScanner();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    const exceeded = scanner.feed(value);
    if (exceeded) {
      await reader.cancel().catch(() => {});
      return { refused: invalidRequest(boundsMessage(exceeded)) };
    }
    chunks.push(value);
    size += value.length;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return { text: new TextDecoder().decode(bytes) };
}
