/**
 * What a 2026-07-28 request must carry: `_meta` with its protocol version and client
 * capabilities, a matching MCP-Protocol-Version header, and mirrored method/name headers.
 */
import { isLogLevel, LOG_LEVELS, type LogLevel } from "./log_levels.ts";
import { checkMirroredHeaders } from "./headers.ts";
import { invalidParams as invalid, isObject, type Message, ProtocolError } from "./jsonrpc.ts";
import { META, MODERN_VERSION, RPC_ERROR, SUPPORTED_VERSIONS } from "./versions.ts";

export interface ModernRequest {
  clientCapabilities: Record<string, unknown>;
  /** The least severe log level the caller wants; null: no log messages at all. */
  logLevel: LogLevel | null;
}

const invalidParams = (message: string) => invalid(400, message);

export function readModernRequest(message: Message, headers: Headers): ModernRequest {
  if (message.kind !== "request") throw invalidParams("Expected a request.");
  const meta = message.params?._meta;
  if (!isObject(meta)) {
    throw invalidParams(
      `params._meta is required: include "${META.protocolVersion}" and ` +
        `"${META.clientCapabilities}".`,
    );
  }
  const version = meta[META.protocolVersion];
  if (typeof version !== "string") {
    throw invalidParams(`params._meta["${META.protocolVersion}"] must be a version string.`);
  }
  const clientCapabilities = meta[META.clientCapabilities];
  if (!isObject(clientCapabilities)) {
    throw invalidParams(`params._meta["${META.clientCapabilities}"] must be an object.`);
  }
  const header = headers.get("mcp-protocol-version")?.trim();
  if (header !== version) {
    throw new ProtocolError(
      400,
      RPC_ERROR.HEADER_MISMATCH,
      header === undefined
        ? `Header mismatch: the MCP-Protocol-Version header is required (expected "${version}").`
        : `Header mismatch: MCP-Protocol-Version header "${header}" does not match ` +
          `_meta version "${version}".`,
    );
  }
  if (version !== MODERN_VERSION) {
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
  const level = meta[META.logLevel];
  if (level !== undefined && !isLogLevel(level)) {
    throw invalidParams(
      `params._meta["${META.logLevel}"] must be one of ${LOG_LEVELS.join(", ")}.`,
    );
  }
  checkMirroredHeaders(headers, message);
  return { clientCapabilities, logLevel: level ?? null };
}

/** The capabilities a tool needs that the caller did not declare; null when it has them all. */
export function missingCapabilities(
  required: Record<string, Record<string, unknown>> | undefined,
  declared: Record<string, unknown>,
): Record<string, Record<string, unknown>> | null {
  if (!required) return null;
  const missing: Record<string, Record<string, unknown>> = {};
  for (const [name, value] of Object.entries(required)) {
    if (!isObject(declared[name])) missing[name] = value;
  }
  return Object.keys(missing).length > 0 ? missing : null;
}
