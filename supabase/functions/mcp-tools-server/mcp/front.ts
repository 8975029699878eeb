/**
 * The protocol front: one authenticated POST in, one answer out, in whichever era the request
 * speaks. It answers what needs no tools itself (server/discover, initialize, ping, refusals)
 * and hands tools/list and tools/call to the caller's cached server.
 */
import type { Caller } from "../auth/authenticator.ts";
import { ApiError } from "../http/errors.ts";
import type { BuiltServer } from "./server.ts";
import { LOG_LEVELS, type LogLevel } from "../tools/contract.ts";
import { detectEra, type Era } from "./protocol/era.ts";
import {
  errorResponse,
  invalidRequest,
  isObject,
  type Message,
  parseMessage,
  ProtocolError,
  type RequestId,
  resultResponse,
} from "./protocol/jsonrpc.ts";
import { missingCapabilities, readModernRequest } from "./protocol/modern.ts";
import { checkMirroredParams } from "./protocol/param_headers.ts";
import { DISCOVER_RESULT, initializeResult } from "./protocol/results.ts";
import { respondLazily } from "./stream.ts";
import {
  LEGACY_VERSIONS,
  MODERN_VERSION,
  RPC_ERROR,
  SUPPORTED_VERSIONS,
} from "./protocol/versions.ts";

type RpcRequest = Extract<Message, { kind: "request" }>;

/** Handshake-era clients can't ask for a log level per request; they get info and above. */
const LEGACY_LOG_LEVEL: LogLevel = "info";

const accepted = () => new Response(null, { status: 202 });

export async function handleMcp(
  request: Request,
  caller: Caller,
  server: BuiltServer,
): Promise<Response> {
  if (request.method !== "POST") {
    throw new ApiError(
      "METHOD_NOT_ALLOWED",
      "This endpoint takes JSON-RPC messages by POST only; there are no sessions or GET streams.",
      { allow: "POST, OPTIONS" },
    );
  }
  const body = await request.text();
  let message: Message;
  try {
    message = parseMessage(body);
  } catch (err) {
    if (err instanceof ProtocolError) return errorResponse(null, err);
    throw err;
  }
  const era = detectEra(message, request.headers.get("mcp-protocol-version"));
  try {
    return era === "modern"
      ? await modern(request, body, message, caller, server)
      : await legacy(request, body, message, caller, server);
  } catch (err) {
    if (err instanceof ProtocolError) {
      return errorResponse(message.kind === "request" ? message.id : null, err);
    }
    throw err;
  }
}

/** 2026-07-28: validated per request, no handshake, every answer self-contained. */
function modern(
  request: Request,
  body: string,
  message: Message,
  caller: Caller,
  server: BuiltServer,
): Promise<Response> | Response {
  if (message.kind === "notification") return accepted();
  if (message.kind === "response") {
    throw invalidRequest(`Clients send no JSON-RPC responses in protocol ${MODERN_VERSION}.`);
  }
  const { clientCapabilities, logLevel } = readModernRequest(message, request.headers);
  switch (message.method) {
    case "server/discover":
      return resultResponse(message.id, DISCOVER_RESULT);
    case "tools/list":
      return dispatch(request, body, message, caller, server, "modern", logLevel);
    case "tools/call": {
      const { definition: tool, mirroredParams } = toolToCall(message, server);
      checkMirroredParams(request.headers, message.params?.arguments, mirroredParams);
      const missing = missingCapabilities(tool.requiredClientCapabilities, clientCapabilities);
      if (missing) {
        throw new ProtocolError(
          400,
          RPC_ERROR.MISSING_CLIENT_CAPABILITY,
          `The tool "${tool.name}" needs client capabilities this request did not declare: ` +
            `${Object.keys(missing).join(", ")}.`,
          { requiredCapabilities: missing },
        );
      }
      return dispatch(request, body, message, caller, server, "modern", logLevel);
    }
    default:
      throw new ProtocolError(
        404,
        RPC_ERROR.METHOD_NOT_FOUND,
        `Method not found: ${message.method}. This server implements server/discover, ` +
          "tools/list and tools/call.",
        { method: message.method },
      );
  }
}

/** 2025-03-26 to 2025-11-25: the handshake is answered, but no session is kept. */
function legacy(
  request: Request,
  body: string,
  message: Message,
  caller: Caller,
  server: BuiltServer,
): Promise<Response> | Response {
  const version = request.headers.get("mcp-protocol-version");
  if (version !== null && !LEGACY_VERSIONS.includes(version)) {
    throw new ProtocolError(
      400,
      RPC_ERROR.UNSUPPORTED_PROTOCOL_VERSION,
      "Unsupported protocol version",
      {
        supported: SUPPORTED_VERSIONS,
        requested: version,
      },
    );
  }
  // Notifications (initialized, cancelled) and responses change nothing in a stateless server.
  if (message.kind !== "request") return accepted();
  const params = message.params ?? {};
  switch (message.method) {
    case "initialize": {
      if (typeof params.protocolVersion !== "string") {
        throw invalidParams('initialize needs a string "protocolVersion".');
      }
      return resultResponse(message.id, initializeResult(params.protocolVersion));
    }
    case "ping":
      return resultResponse(message.id, {});
    case "logging/setLevel":
      // Acknowledged, but nothing outlives a request: every call gets LEGACY_LOG_LEVEL and above.
      if (!LOG_LEVELS.includes(params.level as LogLevel)) {
        throw invalidParams(`"level" must be one of ${LOG_LEVELS.join(", ")}.`);
      }
      return resultResponse(message.id, {});
    case "tools/list":
      return dispatch(request, body, message, caller, server, "legacy", LEGACY_LOG_LEVEL);
    case "tools/call":
      toolToCall(message, server);
      return dispatch(request, body, message, caller, server, "legacy", LEGACY_LOG_LEVEL);
    default:
      throw new ProtocolError(
        200,
        RPC_ERROR.METHOD_NOT_FOUND,
        `Method not found: ${message.method}`,
        {
          method: message.method,
        },
      );
  }
}

function invalidParams(text: string): ProtocolError {
  return new ProtocolError(200, RPC_ERROR.INVALID_PARAMS, text);
}

/** The tool a tools/call names; an unknown one is invalid params, as the spec has it. */
function toolToCall(message: RpcRequest, server: BuiltServer) {
  const name = message.params?.name;
  if (typeof name !== "string") throw invalidParams('tools/call needs a string "name".');
  const tool = server.tool(name);
  if (!tool) {
    throw invalidParams(
      `Unknown tool: ${name}. Call tools/list for the tools enabled for this API key.`,
    );
  }
  return tool;
}

function dispatch(
  request: Request,
  body: string,
  message: RpcRequest,
  caller: Caller,
  server: BuiltServer,
  era: Era,
  logLevel: LogLevel | null,
): Promise<Response> {
  const meta = message.params?._meta;
  const token = isObject(meta) ? meta.progressToken : undefined;
  const progressToken: RequestId | undefined =
    typeof token === "string" || typeof token === "number" ? token : undefined;
  const accept = request.headers.get("accept") ?? "";
  return respondLazily(
    { id: message.id, acceptsStream: accept.includes("text/event-stream") },
    (channel) =>
      server.dispatch(request.url, body, caller, { era, progressToken, logLevel, channel }),
  );
}
