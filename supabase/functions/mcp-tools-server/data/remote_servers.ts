/** The remote MCP servers a tenant attached (public.remote_mcp_servers), by key hash. */
import type { Rpc } from "./rpc.ts";
import { array, nullableString, object, parsed, string, strings } from "./shape.ts";

export interface RemoteServer {
  id: string;
  /** Put before each remote tool name, e.g. "docs_". */
  prefix: string;
  url: string;
  /** The tenant secret sent as a bearer token; null: none. */
  secret: string | null;
  /** Remote tool names to serve; null: all. */
  allowedTools: string[] | null;
  /** Changes whenever the row does (part of the cache key). */
  version: string;
}

export function parseRemoteServers(data: unknown): RemoteServer[] {
  return parsed("resolve_remote_servers", () =>
    array(data ?? [], "").map((item, i) => {
      const row = object(item, `[${i}]`);
      return {
        id: string(row.id, `[${i}].id`),
        prefix: string(row.prefix, `[${i}].prefix`),
        url: string(row.url, `[${i}].url`),
        secret: nullableString(row.secret, `[${i}].secret`),
        allowedTools: row.allowed_tools === null
          ? null
          : strings(row.allowed_tools, `[${i}].allowed_tools`),
        version: string(row.version, `[${i}].version`),
      };
    }));
}

export async function resolveRemoteServers(rpc: Rpc, keyHash: string): Promise<RemoteServer[]> {
  return parseRemoteServers(await rpc.call("resolve_remote_servers", { p_key_hash: keyHash }));
}
