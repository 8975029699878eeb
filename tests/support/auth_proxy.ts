/**
 * A pass-through in front of an MCP URL that adds `Authorization: Bearer <key>` to every request,
 * for clients that can't be given headers (the conformance CLI takes only a URL). Everything else,
 * Origin included, goes through unchanged, and answers stream back as they come.
 */
export interface AuthProxy {
  url: string;
  close(): Promise<void>;
}

export function authProxy(target: string, key: string): AuthProxy {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const headers = new Headers(req.headers);
    headers.delete("host");
    headers.set("authorization", `Bearer ${key}`);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    return fetch(target, {
      method: req.method,
      headers,
      body: hasBody ? req.body : null,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/mcp`,
    close: () => server.shutdown(),
  };
}
