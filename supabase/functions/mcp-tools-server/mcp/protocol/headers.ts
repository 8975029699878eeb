/**
 * The 2026-07-28 request headers: MCP-Protocol-Version, Mcp-Method and Mcp-Name mirror the body
 * so intermediaries can route on them, and must agree with it.
 */
import { invalidRequest, type Message, ProtocolError } from "./jsonrpc.ts";
import { RPC_ERROR } from "./versions.ts";

const SENTINEL = /^=\?base64\?(.*)\?=$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A header value with surrounding whitespace removed and `=?base64?…?=` decoded; null if invalid. */
export function decodeHeaderValue(raw: string): string | null {
  const value = raw.trim();
  const encoded = SENTINEL.exec(value);
  if (!encoded) return value;
  if (!BASE64.test(encoded[1])) return null;
  try {
    return utf8.decode(Uint8Array.from(atob(encoded[1]), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

/** Which body value a method mirrors into Mcp-Name. */
function nameSource(method: string, params: Record<string, unknown> | undefined): unknown {
  if (method === "tools/call" || method === "prompts/get") return params?.name;
  if (method === "resources/read") return params?.uri;
  return undefined;
}

/** A 2026-07-28 header that disagrees with the body (or is missing). */
export function headerMismatch(message: string): ProtocolError {
  return new ProtocolError(400, RPC_ERROR.HEADER_MISMATCH, `Header mismatch: ${message}`);
}

/** Checks Mcp-Method and Mcp-Name against the body of a modern request. */
export function checkMirroredHeaders(headers: Headers, message: Message): void {
  if (message.kind !== "request") throw invalidRequest("Only requests carry mirrored headers.");
  const method = headers.get("mcp-method");
  if (method === null) {
    throw headerMismatch(`the Mcp-Method header is required (expected "${message.method}").`);
  }
  if (method.trim() !== message.method) {
    throw headerMismatch(
      `Mcp-Method header value "${method.trim()}" does not match body method ` +
        `"${message.method}".`,
    );
  }
  const bodyName = nameSource(message.method, message.params);
  const header = headers.get("mcp-name");
  if (bodyName === undefined) return;
  if (header === null) {
    throw headerMismatch(`the Mcp-Name header is required for ${message.method}.`);
  }
  const name = decodeHeaderValue(header);
  if (name === null) throw headerMismatch("the Mcp-Name header holds invalid base64.");
  if (name !== bodyName) {
    throw headerMismatch(
      `Mcp-Name header value "${name}" does not match body value "${bodyName}".`,
    );
  }
}
