/**
 * A connection to a tenant's remote MCP server, made with the official client
 * (@modelcontextprotocol/client: it speaks 2026-07-28 where the server does and falls back to the
 * initialize handshake otherwise). Every HTTP request it makes goes through the guarded fetch:
 * the same address policy, timeout and size cap as HTTP tools, and credentials dropped on a
 * redirect to another origin.
 */
import {
  Client,
  type FetchLike,
  StreamableHTTPClientTransport,
} from "@modelcontextprotocol/client";
import { SERVER_NAME, SERVER_VERSION } from "../../config.ts";
import type { GuardedFetch } from "../../upstream/guarded_fetch.ts";

const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * fetch for the client, over the guarded fetch. Only POSTs go out: a standalone GET stream (and a
 * session DELETE) is answered 405 here, as a stateless server would, so nothing stays open.
 */
export function guardedFetchLike(
  upstreamFetch: GuardedFetch,
  options: { credentialHeaders: string[]; timeoutMs?: number },
): FetchLike {
  return async (input, init) => {
    // One Request reads method, headers and body alike on every Deno (the edge runtime's too).
    const request = new Request(input instanceof Request ? input : String(input), init);
    const method = request.method.toUpperCase();
    if (method !== "POST") return new Response(null, { status: 405 });
    const url = new URL(request.url);
    const body = request.body === null ? undefined : await request.text();
    const response = await upstreamFetch({
      url,
      method,
      headers: request.headers,
      body,
      credentialHeaders: options.credentialHeaders,
      timeoutMs: options.timeoutMs,
    });
    return new Response(NO_BODY.has(response.status) ? null : response.body as BodyInit, {
      status: response.status,
      headers: response.headers,
    });
  };
}

export async function connectRemote(
  url: string,
  options: { fetch: FetchLike; headers: Record<string, string> },
): Promise<Client> {
  const client = new Client(
    { name: SERVER_NAME, version: SERVER_VERSION },
    { versionNegotiation: { mode: "auto" } },
  );
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: options.fetch,
    requestInit: { headers: options.headers },
  });
  await client.connect(transport);
  return client;
}
