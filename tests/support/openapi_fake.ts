/**
 * A local stand-in for the API an OpenAPI document describes: a real HTTP server on 127.0.0.1
 * that routes each request by the document's own paths and methods, refuses what the document
 * would refuse (unknown operation 404, missing required query parameter or body 400), records
 * what it got, and answers JSON naming the operation it matched (HEAD: its headers, with an ETag
 * naming the operation).
 */

type Json = Record<string, unknown>;

export interface SeenCall {
  operationId?: string;
  method: string;
  /** The path as sent (still URL-encoded). */
  path: string;
  params: Record<string, string>;
  query: Record<string, string[]>;
  headers: Record<string, string>;
  body: unknown;
}

export interface OpenApiFake {
  url: string;
  hostPort: string;
  seen: SeenCall[];
  close(): Promise<void>;
}

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  op: Json;
  requiredQuery: string[];
}

function routes(doc: Json): Route[] {
  const out: Route[] = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      if (!["get", "head", "post", "put", "patch", "delete"].includes(method)) continue;
      const names: string[] = [];
      const source = path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(
        /\\?\{([^}]+)\\?\}/g,
        (_, n) => {
          names.push(n);
          return "([^/]+)";
        },
      );
      const params = [
        ...((item as Json).parameters as Json[] ?? []),
        ...((op as Json).parameters as Json[] ?? []),
      ];
      out.push({
        method: method.toUpperCase(),
        pattern: new RegExp(`^${source.replace(/\\\{|\\\}/g, "")}$`),
        names,
        op: op as Json,
        requiredQuery: params.filter((p) => p.in === "query" && p.required).map((p) =>
          String(p.name)
        ),
      });
    }
  }
  // Literal segments win over placeholders (/pets/findByStatus before /pets/{id}).
  return out.sort((a, b) => a.names.length - b.names.length);
}

export function startOpenApiFake(doc: Json): OpenApiFake {
  const table = routes(doc);
  const seen: SeenCall[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const text = await req.text();
    const route = table.find((r) => r.method === req.method && r.pattern.test(url.pathname));
    if (!route) {
      return Response.json({ error: `no operation ${req.method} ${url.pathname}` }, {
        status: 404,
      });
    }
    const match = route.pattern.exec(url.pathname)!;
    const params = Object.fromEntries(
      route.names.map((name, i) => [name, decodeURIComponent(match[i + 1])]),
    );
    const query: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return Response.json({ error: "body is not JSON" }, { status: 400 });
      }
    }
    const call: SeenCall = {
      operationId: route.op.operationId as string | undefined,
      method: req.method,
      path: url.pathname,
      params,
      query,
      headers: Object.fromEntries(req.headers),
      body,
    };
    seen.push(call);
    const missing = route.requiredQuery.filter((name) => !(name in query));
    if (missing.length) {
      return Response.json({ error: `missing query ${missing.join(", ")}` }, { status: 400 });
    }
    const requestBody = route.op.requestBody as Json | undefined;
    if (requestBody?.required && body === undefined) {
      return Response.json({ error: "missing body" }, { status: 400 });
    }
    // HEAD: the headers a GET would have (Deno sends no body); an ETag naming the operation.
    return Response.json({
      matched: call.operationId ?? `${req.method} ${url.pathname}`,
      params,
      query,
      body,
    }, { headers: { etag: `"${call.operationId ?? "op"}"` } });
  });
  const { port } = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    seen,
    close: () => server.shutdown(),
  };
}
