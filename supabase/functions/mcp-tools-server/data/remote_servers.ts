/** The remote MCP servers a tenant attached (public.remote_mcp_servers), by key hash. */
import { z } from "zod";
import type { Rpc } from "./rpc.ts";

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

const RemoteServersSchema = z.array(z.object({
  id: z.string(),
  prefix: z.string(),
  url: z.string(),
  secret: z.string().nullable(),
  allowed_tools: z.array(z.string()).nullable(),
  version: z.string(),
}));

export function parseRemoteServers(data: unknown): RemoteServer[] {
  const parsed = RemoteServersSchema.safeParse(data ?? []);
  if (!parsed.success) {
    throw new Error(`resolve_remote_servers returned an unexpected shape: ${parsed.error}`);
  }
  return parsed.data.map((row) => ({
    id: row.id,
    prefix: row.prefix,
    url: row.url,
    secret: row.secret,
    allowedTools: row.allowed_tools,
    version: row.version,
  }));
}

export async function resolveRemoteServers(rpc: Rpc, keyHash: string): Promise<RemoteServer[]> {
  return parseRemoteServers(await rpc.call("resolve_remote_servers", { p_key_hash: keyHash }));
}
