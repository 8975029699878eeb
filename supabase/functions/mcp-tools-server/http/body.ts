/**
 * The body limit: a declared Content-Length over the limit is refused before anything is read or
 * looked up; a body without one (chunked) is counted while it is read and refused once over.
 */
import { ApiError } from "../lib/api_error.ts";

function tooLarge(maxBytes: number): ApiError {
  return new ApiError("PAYLOAD_TOO_LARGE", `The request body is larger than ${maxBytes} bytes.`);
}

/** The Content-Length, if sent; over `maxBytes` it is refused before anything else happens. */
export function declaredSize(request: Request, maxBytes: number): string | null {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  return declared;
}

/** The body as text, at most `maxBytes` of it. */
export async function readBody(
  request: Request,
  declared: string | null,
  maxBytes: number,
): Promise<string> {
  // With a Content-Length the server reads exactly that many bytes, already checked.
  if (declared !== null || request.body === null) return request.text();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
