/** A minimal MCP-over-HTTP caller for tests: one POST, JSON or SSE answer, parsed. */

export interface RpcReply {
  status: number;
  headers: Headers;
  /** The JSON-RPC response (from JSON, or the last `data:` message of an SSE stream). */
  // deno-lint-ignore no-explicit-any
  body: any;
  /** Every JSON message of an SSE stream, in order (notifications included). */
  // deno-lint-ignore no-explicit-any
  messages: any[];
  text: string;
}

export interface CallOptions {
  key?: string;
  headers?: Record<string, string>;
  /** "json" asks for application/json only; "sse" sends both, as spec clients do. */
  accept?: "json" | "sse";
}

/** An MCP endpoint: a URL over the network, or an in-process app with its own fetch. */
export type Target = string | { url: string; fetch: typeof fetch };

let nextId = 1;

export async function post(target: Target, payload: unknown, options: CallOptions = {}) {
  const [url, send] = typeof target === "string" ? [target, fetch] : [target.url, target.fetch];
  const headers = new Headers({
    "content-type": "application/json",
    accept: options.accept === "json" ? "application/json" : "application/json, text/event-stream",
    ...options.headers,
  });
  if (options.key) headers.set("authorization", `Bearer ${options.key}`);
  const res = await send(url, {
    method: "POST",
    headers,
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
  return await reply(res);
}

export async function reply(res: Response): Promise<RpcReply> {
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  let messages: unknown[] = [];
  if (type.includes("text/event-stream")) {
    messages = text.split("\n")
      .filter((line) => line.startsWith("data:"))
      .map((line) => JSON.parse(line.slice(5)));
  } else if (text && type.includes("json")) {
    messages = [JSON.parse(text)];
  }
  return { status: res.status, headers: res.headers, body: messages.at(-1), messages, text };
}

export function rpc(method: string, params?: Record<string, unknown>, id: number = nextId++) {
  return { jsonrpc: "2.0", id, method, ...(params ? { params } : {}) };
}

export const initialize = (version = "2025-06-18") =>
  rpc("initialize", {
    protocolVersion: version,
    capabilities: {},
    clientInfo: { name: "tests", version: "1.0.0" },
  });

export const listTools = () => rpc("tools/list");

export const callTool = (name: string, args?: Record<string, unknown>) =>
  rpc("tools/call", args === undefined ? { name } : { name, arguments: args });

/** Tool names from a tools/list reply, in the order served. */
export function toolNames(reply: RpcReply): string[] {
  // deno-lint-ignore no-explicit-any
  return reply.body.result.tools.map((t: any) => t.name);
}
