/** The MCP requests the bench sends: standard JSON-RPC with the headers a 2025-era client sends. */
import type { LoadTarget } from "./load.ts";
import { BENCH_CALL } from "./tools.ts";

export type Method = "tools/list" | "tools/call";
export const METHODS: Method[] = ["tools/call", "tools/list"];

/**
 * What the client accepts. "json": `application/json` only, so every server answers one JSON
 * body (the like-with-like comparison). "sse": what spec clients send (`application/json,
 * text/event-stream`): bare mcp-lite then streams every answer, the function only when a tool
 * sends notifications.
 */
export type Accept = "json" | "sse";

export function mcpHeaders(key?: string, accept: Accept = "json"): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: accept === "json" ? "application/json" : "application/json, text/event-stream",
    "mcp-protocol-version": "2025-06-18",
    ...(key ? { authorization: `Bearer ${key}` } : {}),
  };
}

export function mcpBody(method: Method, call: { name: string; arguments?: unknown } = BENCH_CALL) {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method,
    ...(method === "tools/call" ? { params: call } : {}),
  });
}

export function mcpTarget(url: string, method: Method, key?: string, accept?: Accept): LoadTarget {
  return { url, headers: mcpHeaders(key, accept), body: mcpBody(method) };
}

/** The JSON-RPC message of a JSON or SSE answer. */
// deno-lint-ignore no-explicit-any
export function rpcMessage(text: string): any {
  const data = text.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5));
  return JSON.parse(data.at(-1) ?? text);
}
