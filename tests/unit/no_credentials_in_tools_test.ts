/**
 * No tool takes a password or hands out a token: no argument of any code-defined tool is a
 * credential, and a tool result never carries the caller's own credential.
 */
import { equal, ok } from "node:assert/strict";
import { z } from "zod";
import { ALL_FAMILIES as FAMILIES } from "../../supabase/functions/mcp-tools-server/tools/all_families.ts";
import { callTool, post } from "../support/mcp_client.ts";
import { MemoryTenants, unitApp } from "../support/memory_tenants.ts";

const CREDENTIAL = /pass(word)?|token|secret|credential|api_?key|jwt|session/i;

function propertyNames(schema: unknown, out: string[] = []): string[] {
  if (typeof schema !== "object" || schema === null) return out;
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties" && typeof value === "object" && value !== null) {
      out.push(...Object.keys(value));
    }
    propertyNames(value, out);
  }
  return out;
}

Deno.test("no code-defined tool has an argument or output field that is a credential", () => {
  let checked = 0;
  for (const family of FAMILIES) {
    if ("build" in family) continue;
    for (const tool of family) {
      const schemas = [tool.input, tool.output].filter(Boolean) as z.ZodType[];
      for (const schema of schemas) {
        const names = propertyNames(z.toJSONSchema(schema, { unrepresentable: "any" }));
        const found = names.filter((name) => CREDENTIAL.test(name));
        equal(found.length, 0, `${tool.name}: ${found.join(", ")}`);
      }
      checked++;
    }
  }
  ok(checked >= 4, `tools checked: ${checked}`);
});

Deno.test("tenant_info tells the tenant, never the credential it was called with", async () => {
  const tenants = new MemoryTenants();
  const t = await tenants.add(["tenant_info"]);
  const reply = await post(unitApp(tenants), callTool("tenant_info"), { key: t.key });
  equal(reply.status, 200);
  ok(!reply.text.includes(t.key.slice(5)), "the key is not in the answer");
});
