/** JSON-RPC messages as the front sees them, and the errors it answers with. */
import { boundsMessage, exceededJsonLimit } from "./json_bounds.ts";
import { RPC_ERROR } from "./versions.ts";

export type RequestId = string | number;

export type Message =
  | { kind: "request"; id: RequestId; method: string; params: Record<string, unknown> | undefined }
  | { kind: "notification"; method: string }
  | { kind: "response" };

export type RpcRequest = Extract<Message, { kind: "request" }>;

/** A refusal: an HTTP status plus a JSON-RPC error, answered before or instead of dispatch. */
export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}

export function invalidRequest(message: string): ProtocolError {
  return new ProtocolError(400, RPC_ERROR.INVALID_REQUEST, message);
}

/**
 * Invalid params. The HTTP status differs by era: 2026-07-28 answers 400, the handshake era 200
 * (the error lives in the JSON-RPC body only).
 */
export function invalidParams(status: 200 | 400, message: string): ProtocolError {
  return new ProtocolError(status, RPC_ERROR.INVALID_PARAMS, message);
}

/** Parses one JSON-RPC message; batches, malformed and oversized bodies are refused. */
export function parseMessage(body: string): Message {
  // Before parsing: the bounds are what keeps a hostile body cheap.
  const exceeded = exceededJsonLimit(body);
  if (exceeded) {
    throw invalidRequest(boundsMessage(exceeded));
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ProtocolError(400, RPC_ERROR.PARSE_ERROR, "The request body is not valid JSON.");
  }
  if (Array.isArray(value)) {
    throw invalidRequest("Batches are not supported: send one JSON-RPC message per request.");
  }
  if (!isObject(value) || value.jsonrpc !== "2.0") {
    throw invalidRequest('The body must be one JSON-RPC 2.0 message ({"jsonrpc": "2.0", ...}).');
  }
  const { id, method, params } = value;
  if (typeof method !== "string") {
    if ("result" in value || "error" in value) return { kind: "response" };
    throw invalidRequest('A JSON-RPC request needs a string "method".');
  }
  if (params !== undefined && !isObject(params)) {
    throw invalidRequest('"params" must be an object.');
  }
  if (id === undefined) return { kind: "notification", method };
  if (typeof id !== "string" && typeof id !== "number") {
    throw invalidRequest('A request "id" must be a string or a number.');
  }
  // 1e400 parses as Infinity, which JSON can't carry back: the answer's id would be null.
  if (typeof id === "number" && !Number.isFinite(id)) {
    throw invalidRequest(
      'The request "id" is a number too large to echo back. Use a string or a smaller number.',
    );
  }
  return { kind: "request", id, method, params };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const JSON_TYPE = { "content-type": "application/json" };

export function rpcResultResponse(id: RequestId, result: unknown): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", id, result }), { headers: JSON_TYPE });
}

export function rpcErrorResponse(id: RequestId | null, err: ProtocolError): Response {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.data !== undefined) error.data = err.data;
  return new Response(JSON.stringify({ jsonrpc: "2.0", id, error }), {
    status: err.status,
    headers: JSON_TYPE,
  });
}
