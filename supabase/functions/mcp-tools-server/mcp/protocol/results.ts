/**
 * Results the front answers itself (server/discover, initialize) and the fields the 2026-07-28
 * revision adds to every result. All static parts are built once per isolate.
 */
import { SERVER_NAME, SERVER_VERSION } from "../../config.ts";
import { LATEST_LEGACY_VERSION, LEGACY_VERSIONS, META, SUPPORTED_VERSIONS } from "./versions.ts";

export const SERVER_INFO = Object.freeze({ name: SERVER_NAME, version: SERVER_VERSION });

/** Only what is implemented: tools (no list-change notifications, which need a stream) and logs. */
const CAPABILITIES = Object.freeze({ tools: {}, logging: {} });

/** Discovery depends on nothing caller-specific, so any cache may keep it for an hour. */
export const DISCOVER_RESULT = Object.freeze({
  resultType: "complete",
  supportedVersions: SUPPORTED_VERSIONS,
  capabilities: CAPABILITIES,
  ttlMs: 3_600_000,
  cacheScope: "public",
  _meta: { [META.serverInfo]: SERVER_INFO },
});

/** Answers `initialize`: the client's version when we speak it, else our newest legacy one. */
export function initializeResult(requested: string) {
  return {
    protocolVersion: LEGACY_VERSIONS.includes(requested) ? requested : LATEST_LEGACY_VERSION,
    capabilities: CAPABILITIES,
    serverInfo: SERVER_INFO,
  };
}

/**
 * A 2026-07-28 result: `resultType`, the server's identity in `_meta`, and for tools/list the
 * caching hints. The list depends on the caller's key, so only that caller may cache it.
 */
export function modernResult(
  method: string,
  result: Record<string, unknown>,
  toolsTtlMs: number,
): Record<string, unknown> {
  const meta = result._meta as Record<string, unknown> | undefined;
  const decorated: Record<string, unknown> = {
    ...result,
    resultType: "complete",
    _meta: meta ? { ...meta, [META.serverInfo]: SERVER_INFO } : { [META.serverInfo]: SERVER_INFO },
  };
  if (method === "tools/list") {
    decorated.ttlMs = toolsTtlMs;
    decorated.cacheScope = "private";
  }
  return decorated;
}
