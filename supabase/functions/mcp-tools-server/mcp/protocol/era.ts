/**
 * Which protocol era a request speaks, decided per request: a `_meta` version claim or a
 * 2026+ MCP-Protocol-Version header means the stateless revision; anything else (an
 * `initialize`, a 2025 header, no header at all) is served as the handshake era.
 */
import { isObject, type Message } from "./jsonrpc.ts";
import { META, MODERN_VERSION } from "./versions.ts";

export type Era = "modern" | "legacy";

const DATED = /^\d{4}-\d{2}-\d{2}$/;

export function detectEra(message: Message, versionHeader: string | null): Era {
  if (message.kind === "request") {
    const meta = message.params?._meta;
    if (isObject(meta) && META.protocolVersion in meta) return "modern";
  }
  if (versionHeader === null) return "legacy";
  // Versions are dates; an older date is a handshake-era client, anything else is not.
  return DATED.test(versionHeader) && versionHeader < MODERN_VERSION ? "legacy" : "modern";
}
