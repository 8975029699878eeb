/** Calling the CRM tools in tests, with every successful result checked against its schema. */
import { deepStrictEqual, equal, fail, match } from "node:assert/strict";
import type { z } from "zod";
import {
  ReadOutput,
  WriteOutput,
} from "../../supabase/functions/mcp-tools-server/tools/crm/schemas.ts";
import { callTool, post, type RpcReply, type Target } from "./mcp_client.ts";

export const CRM_TOOLS = ["crm_read", "crm_write"];

type Json = Record<string, unknown>;

/** The structured result of a successful call, checked against `schema` and the text copy. */
export function resultOf<S extends z.ZodType>(reply: RpcReply, schema: S): z.output<S> {
  equal(reply.status, 200, reply.text);
  if (reply.body.error) fail(`JSON-RPC error: ${JSON.stringify(reply.body.error)}`);
  const result = reply.body.result;
  if (result.isError) fail(`tool error: ${result.content[0].text}`);
  deepStrictEqual(JSON.parse(result.content[0].text), result.structuredContent);
  return schema.parse(result.structuredContent);
}

/** The message of an `isError` tool result. */
export function toolErrorOf(reply: RpcReply): string {
  equal(reply.status, 200, reply.text);
  if (reply.body.error) fail(`JSON-RPC error instead of a tool error: ${reply.text}`);
  equal(reply.body.result.isError, true, `expected isError: ${reply.text}`);
  equal(reply.body.result.structuredContent, undefined);
  return reply.body.result.content[0].text;
}

/**
 * The message of arguments refused by the input schema: an `isError` result naming each field
 * (MCP 2025-11-25 and later), so the model can correct its call.
 */
export function invalidParamsOf(reply: RpcReply): string {
  const text = toolErrorOf(reply);
  match(text, /^Invalid arguments for tool "crm_(read|write)": /);
  return text;
}

/** One tenant's view of the CRM tools. */
export function crmAs(target: Target, key: string, accept: "json" | "sse" = "json") {
  const read = (args: Json) => post(target, callTool("crm_read", args), { key, accept });
  const write = (operation: Json) =>
    post(target, callTool("crm_write", { operation }), { key, accept });
  return {
    read,
    write,
    readOk: async (args: Json) => resultOf(await read(args), ReadOutput),
    /** The record a successful write returns. */
    writeOk: async (operation: Json) => {
      const result = resultOf(await write(operation), WriteOutput);
      equal(result.action, operation.action);
      equal(result.entity, operation.entity);
      return result.record as Json & { id: string };
    },
  };
}
