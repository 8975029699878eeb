/** The remote MCP servers a tenant attached (public.remote_mcp_servers), by key hash. */
import { array, nullableString, object, string, strings } from "./shape.ts";

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

/** The remote servers' rows, as resolve_api_key returns them under `remote_servers`. */
export function remoteServers(data: unknown, path: string): RemoteServer[] {
  return array(data, path).map((item, i) => {
    const at = `${path}[${i}]`;
    const row = object(item, at);
    return {
      id: string(row.id, `${at}.id`),
      prefix: string(row.prefix, `${at}.prefix`),
      url: string(row.url, `${at}.url`),
      secret: nullableString(row.secret, `${at}.secret`),
      allowedTools: row.allowed_tools === null
        ? null
        : strings(row.allowed_tools, `${at}.allowed_tools`),
      version: string(row.version, `${at}.version`),
    };
  });
}
