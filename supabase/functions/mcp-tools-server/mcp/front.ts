/**
 * The protocol front: one authenticated JSON-RPC POST in, one answer out, in whichever era the
 * request speaks. It answers what needs no tools itself (server/discover, initialize, ping,
 * refusals) and hands tools/list and tools/call to the caller's cached ToolServer — an interface
 * owned here, implemented by the mcp-lite adapter.
 */
import type { ToolOutcome } from "../data/usage_writer.ts";
import type { ToolDefinition } from "../tools/contract.ts";
import type { ToolSet } from "../tools/catalog.ts";
import { detectEra, type Era } from "./protocol/era.ts";
import {
  invalidParams,
  invalidRequest,
  isObject,
  type Message,
  parseMessage,
  ProtocolError,
  type RequestId,
  rpcErrorResponse,
  type RpcRequest,
  rpcResultResponse,
} from "./protocol/jsonrpc.ts";
import { isLogLevel, LOG_LEVELS, type LogLevel } from "./protocol/log_levels.ts";
import { missingCapabilities, readModernRequest } from "./protocol/modern.ts";
import { checkMirroredParams, type MirroredParam } from "./protocol/param_headers.ts";
import {
  discoverResult,
  initializeResult,
  modernResult,
  type ServerInfo,
} from "./protocol/results.ts";
import {
  LEGACY_VERSIONS,
  MODERN_VERSION,
  RPC_ERROR,
  SUPPORTED_VERSIONS,
} from "./protocol/versions.ts";
import { type McpCaller, RequestScope } from "./scope.ts";
import { respondLazily } from "./stream.ts";

/** A tool as a server serves it. */
export interface ServedTool {
  definition: ToolDefinition;
  /** Arguments 2026-07-28 clients mirror into Mcp-Param-* headers. */
  readonly mirroredParams: readonly MirroredParam[];
}

/** What the front needs from a server built for one tool set. */
export interface ToolServer {
  readonly toolSet: ToolSet;
  /** A tool of this set, by name. */
  tool(name: string): ServedTool | undefined;
  /**
   * Runs one tools/list or tools/call request (parsed and checked by the front) and answers with
   * the JSON-RPC response as text; notifications a tool sends go to `scope.channel`, the result
   * passes through `scope.shapeResult`.
   */
  dispatch(message: RpcRequest, scope: RequestScope): Promise<string>;
}

/**
 * Told about one request as the front learns it: era, method, tool, and around a tools/call a
 * gate (quotas) and a report (usage). The HTTP layer supplies one per request and logs it.
 */
export interface RequestObserver {
  era: Era | undefined;
  method: string | undefined;
  tool: string | undefined;
  /** The JSON-RPC error code, when the answer is one. */
  rpcError: number | undefined;
  /** Before a tools/call runs: throws an ApiError to refuse it; a promise only when it must wait. */
  admitToolCall(): Promise<void> | undefined;
  /** After a tools/call ran (or failed). */
  toolCalled(outcome: ToolOutcome, latencyMs: number, argBytes: number, resultBytes: number): void;
}

export interface FrontOptions {
  serverInfo: ServerInfo;
  /** How long a caller may cache its tools/list (the key cache's lifetime). */
  toolsTtlMs: number;
}

/** Handshake-era clients can't ask for a log level per request; they get info and above. */
const LEGACY_LOG_LEVEL: LogLevel = "info";

const accepted = () => new Response(null, { status: 202 });

/** Results of the handshake era pass unchanged. */
const asIs = (_method: string, result: Record<string, unknown>) => result;

export class McpFront {
  readonly #discover;
  readonly #shapeModern: (method: string, result: Record<string, unknown>) => unknown;

  constructor(private readonly options: FrontOptions) {
    this.#discover = discoverResult(options.serverInfo);
    this.#shapeModern = (method, result) => modernResult(method, result, options);
  }

  /** Answers one POSTed JSON-RPC message from an authenticated caller. */
  async handle(
    request: Request,
    body: string,
    caller: McpCaller,
    server: ToolServer,
    observer?: RequestObserver,
  ): Promise<Response> {
    // The one parse of the body; the server gets the parsed message.
    let message: Message;
    try {
      message = parseMessage(body);
    } catch (err) {
      if (err instanceof ProtocolError) {
        if (observer) observer.rpcError = err.code;
        return rpcErrorResponse(null, err);
      }
      throw err;
    }
    const version = request.headers.get("mcp-protocol-version");
    const era = detectEra(message, version);
    if (observer) {
      observer.era = era;
      if (message.kind === "request" || message.kind === "notification") {
        observer.method = message.method;
      }
    }
    const call: Call = { request, version, caller, server, observer, bodyLength: body.length };
    try {
      return era === "modern"
        ? await this.#modern(call, message)
        : await this.#legacy(call, message);
    } catch (err) {
      if (err instanceof ProtocolError) {
        if (observer) observer.rpcError = err.code;
        return rpcErrorResponse(message.kind === "request" ? message.id : null, err);
      }
      throw err;
    }
  }

  /** 2026-07-28: validated per request, no handshake, every answer self-contained. */
  #modern(call: Call, message: Message): Promise<Response> | Response {
    if (message.kind === "notification") return accepted();
    if (message.kind === "response") {
      throw invalidRequest(`Clients send no JSON-RPC responses in protocol ${MODERN_VERSION}.`);
    }
    const { clientCapabilities, logLevel } = readModernRequest(message, call.request.headers);
    switch (message.method) {
      case "server/discover":
        return rpcResultResponse(message.id, this.#discover);
      case "tools/list":
        return this.#dispatch(call, message, "modern", logLevel);
      case "tools/call": {
        const { definition: tool, mirroredParams } = toolToCall(message, call.server);
        checkMirroredParams(call.request.headers, message.params?.arguments, mirroredParams);
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
        return this.#callTool(call, message, "modern", logLevel);
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

  /** 2024-11-05 to 2025-11-25: the handshake is answered, but no session is kept. */
  #legacy(call: Call, message: Message): Promise<Response> | Response {
    const { version } = call;
    if (version !== null && !LEGACY_VERSIONS.includes(version)) {
      throw new ProtocolError(
        400,
        RPC_ERROR.UNSUPPORTED_PROTOCOL_VERSION,
        "Unsupported protocol version",
        { supported: SUPPORTED_VERSIONS, requested: version },
      );
    }
    // Notifications (initialized, cancelled) and responses change nothing in a stateless server.
    if (message.kind !== "request") return accepted();
    const params = message.params ?? {};
    switch (message.method) {
      case "initialize": {
        if (typeof params.protocolVersion !== "string") {
          throw invalidParams(200, 'initialize needs a string "protocolVersion".');
        }
        return rpcResultResponse(
          message.id,
          initializeResult(params.protocolVersion, this.options.serverInfo),
        );
      }
      case "ping":
        return rpcResultResponse(message.id, {});
      case "logging/setLevel":
        // Acknowledged, but nothing outlives a request: every call gets LEGACY_LOG_LEVEL and above.
        if (!isLogLevel(params.level)) {
          throw invalidParams(200, `"level" must be one of ${LOG_LEVELS.join(", ")}.`);
        }
        return rpcResultResponse(message.id, {});
      case "tools/list":
        return this.#dispatch(call, message, "legacy", LEGACY_LOG_LEVEL);
      case "tools/call":
        toolToCall(message, call.server);
        return this.#callTool(call, message, "legacy", LEGACY_LOG_LEVEL);
      default:
        throw new ProtocolError(
          200,
          RPC_ERROR.METHOD_NOT_FOUND,
          `Method not found: ${message.method}`,
          { method: message.method },
        );
    }
  }

  /** A known tool, its arguments checked: the quota gate, then the call, then its usage report. */
  #callTool(
    call: Call,
    message: RpcRequest,
    era: Era,
    logLevel: LogLevel | null,
  ): Promise<Response> {
    const { observer } = call;
    if (!observer) return this.#dispatch(call, message, era, logLevel);
    observer.tool = message.params?.name as string;
    // A promise only when the limiter must lease first; otherwise the call goes straight on.
    const wait = observer.admitToolCall();
    if (wait) return wait.then(() => this.#meteredCall(call, observer, message, era, logLevel));
    return this.#meteredCall(call, observer, message, era, logLevel);
  }

  #meteredCall(
    call: Call,
    observer: RequestObserver,
    message: RpcRequest,
    era: Era,
    logLevel: LogLevel | null,
  ): Promise<Response> {
    // Whole milliseconds: performance.now() costs ~5 µs a call on the runtime's Deno (2.1.4).
    const started = Date.now();
    return this.#dispatch(call, message, era, logLevel, (text, scope) => {
      // No outcome set: the call never reached the tool's code (a protocol error on the way).
      observer.toolCalled(
        scope.toolOutcome ?? "error",
        Date.now() - started,
        call.bodyLength,
        text.length,
      );
      return text;
    });
  }

  #dispatch(
    { request, caller, server }: Call,
    message: RpcRequest,
    era: Era,
    logLevel: LogLevel | null,
    after?: (text: string, scope: RequestScope) => string,
  ): Promise<Response> {
    const meta = message.params?._meta;
    const token = isObject(meta) ? meta.progressToken : undefined;
    const progressToken: RequestId | undefined =
      typeof token === "string" || typeof token === "number" ? token : undefined;
    const accept = request.headers.get("accept") ?? "";
    const shape = era === "modern" ? this.#shapeModern : asIs;
    return respondLazily(
      { id: message.id, acceptsStream: accept.includes("text/event-stream"), request },
      (channel) => {
        const scope = new RequestScope(caller, era, progressToken, logLevel, channel, shape);
        const answer = server.dispatch(message, scope);
        return after ? answer.then((text) => after(text, scope)) : answer;
      },
    );
  }
}

interface Call {
  request: Request;
  /** The MCP-Protocol-Version header. */
  version: string | null;
  caller: McpCaller;
  server: ToolServer;
  observer: RequestObserver | undefined;
  /** Characters of the request body, for usage events. */
  bodyLength: number;
}

/**
 * The tool a tools/call names; an unknown one is invalid params, as the spec has it, answered
 * with HTTP 200 in both eras (the call reached a server; only its arguments were wrong).
 */
function toolToCall(message: RpcRequest, server: ToolServer): ServedTool {
  const name = message.params?.name;
  if (typeof name !== "string") throw invalidParams(200, 'tools/call needs a string "name".');
  const tool = server.tool(name);
  if (!tool) {
    throw invalidParams(
      200,
      `Unknown tool: ${name}. Call tools/list for the tools enabled for this API key.`,
    );
  }
  return tool;
}
