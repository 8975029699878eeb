/** The protocol revisions this server speaks, and the names the protocol reserves. */

/** The stateless revision: per-request `_meta`, no `initialize`, no sessions. */
export const MODERN_VERSION = "2026-07-28";
/**
 * Handshake revisions, newest first. 2024-11-05 is what the official SDK's first Streamable
 * HTTP releases (1.10.x) ask for and insist on; a tools-only server serves it as it is.
 */
export const LEGACY_VERSIONS: readonly string[] = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
];
/** What a legacy client gets when it asks for a version we don't know. */
export const LATEST_LEGACY_VERSION = LEGACY_VERSIONS[0];
export const SUPPORTED_VERSIONS: readonly string[] = [MODERN_VERSION, ...LEGACY_VERSIONS];

export const META = {
  protocolVersion: "io.modelcontextprotocol/protocolVersion",
  clientCapabilities: "io.modelcontextprotocol/clientCapabilities",
  clientInfo: "io.modelcontextprotocol/clientInfo",
  logLevel: "io.modelcontextprotocol/logLevel",
  serverInfo: "io.modelcontextprotocol/serverInfo",
} as const;

export const RPC_ERROR = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  HEADER_MISMATCH: -32020,
  MISSING_CLIENT_CAPABILITY: -32021,
  UNSUPPORTED_PROTOCOL_VERSION: -32022,
} as const;
