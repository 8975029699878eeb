/**
 * Results the front answers itself (server/discover, initialize) and the fields the 2026-07-28
 * revision adds to every result. All static parts are built once per isolate.
 */
import { LATEST_LEGACY_VERSION, LEGACY_VERSIONS, META, SUPPORTED_VERSIONS } from "./versions.ts";

/** Who the server is, as results name it. */
export interface ServerInfo {
  name: string;
  version: string;
}

/** Only what is implemented: tools (no list-change notifications, which need a stream) and logs. */
const CAPABILITIES = Object.freeze({ tools: {}, logging: {} });

/** Discovery depends on nothing caller-specific, so any cache may keep it for an hour. */
export function discoverResult(serverInfo: ServerInfo) {
  return Object.freeze({
    resultType: "complete",
    supportedVersions: SUPPORTED_VERSIONS,
    capabilities: CAPABILITIES,
    ttlMs: 3_600_000,
    cacheScope: "public",
    _meta: { [META.serverInfo]: serverInfo },
  });
}

/** Answers `initialize`: the client's version when we speak it, else our newest legacy one. */
export function initializeResult(requested: string, serverInfo: ServerInfo) {
  return {
    protocolVersion: LEGACY_VERSIONS.includes(requested) ? requested : LATEST_LEGACY_VERSION,
    capabilities: CAPABILITIES,
    serverInfo,
  };
}

/**
 * A 2026-07-28 result: `resultType`, the server's identity in `_meta`, and for tools/list the
 * caching hints. The list depends on the caller's key, so only that caller may cache it.
 */
export function modernResult(
  method: string,
  result: Record<string, unknown>,
  options: { toolsTtlMs: number; serverInfo: ServerInfo },
): Record<string, unknown> {
  const { serverInfo } = options;
  const meta = result._meta;
  const decorated: Record<string, unknown> = {
    ...result,
    resultType: "complete",
    _meta: typeof meta === "object" && meta !== null
      ? { ...meta, [META.serverInfo]: serverInfo }
      : { [META.serverInfo]: serverInfo },
  };
  if (method === "tools/list") {
    decorated.ttlMs = options.toolsTtlMs;
    decorated.cacheScope = "private";
  }
  return decorated;
}
