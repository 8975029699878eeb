/** Built-in tools: the smallest set that proves tenant identity reaches tools per request. */
import * as z from "zod";
import { defineTool, structured } from "./contract.ts";

const tenantInfo = defineTool({
  name: "tenant_info",
  family: "builtin",
  title: "Tenant info",
  description: "Returns the calling tenant's slug and name and the tools enabled for it.",
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  output: z.object({
    tenant: z.object({ slug: z.string(), name: z.string() }),
    enabled_tools: z.array(z.string()),
  }),
  run: (_args, { tenant, enabledTools }) =>
    structured({
      tenant: { slug: tenant.slug, name: tenant.name },
      enabled_tools: [...enabledTools],
    }),
});

const echo = defineTool({
  name: "echo",
  family: "builtin",
  title: "Echo",
  description: "Returns the given text unchanged. Useful to check that calls go through.",
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({
    text: z.string().max(10_000).describe("The text to send back."),
  }),
  run: ({ text }) => ({ content: [{ type: "text", text }] }),
});

export const builtinTools = [tenantInfo, echo];
