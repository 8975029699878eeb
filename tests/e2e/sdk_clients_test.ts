/**
 * Real MCP clients against the function through the gateway with a real key: the official SDK v1
 * (1.32, and 1.10, the first with Streamable HTTP, which speaks only 2024-11-05; handshake era)
 * and v2 in its automatic, 2026-pinned and legacy modes.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Client as ClientV110 } from "@modelcontextprotocol/sdk-1.10/client/index.js";
import { StreamableHTTPClientTransport as TransportV110 } from "@modelcontextprotocol/sdk-1.10/client/streamableHttp.js";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  type VersionNegotiationMode,
} from "@modelcontextprotocol/client";
import { tenantWithKey } from "../support/fixtures.ts";
import { stack } from "../support/stack.ts";

const TOOLS = ["echo", "tenant_info", "test_tool_with_progress"];

type CallParams = { name: string; arguments?: Record<string, unknown> };
type ProgressOption = { onprogress: (update: { progress: number }) => void };

/** What every client must manage, whatever its era; SDK v1 and v2 differ only in call options. */
interface ToolClient {
  listTools(): Promise<{ tools: Array<{ name: string; outputSchema?: unknown }> }>;
  // deno-lint-ignore no-explicit-any
  callTool(params: CallParams, options?: ProgressOption): Promise<any>;
}

const v1 = (client: ClientV1): ToolClient => ({
  listTools: () => client.listTools(),
  callTool: (params, options) => client.callTool(params, undefined, options),
});

async function exercise(client: ToolClient, slug: string) {
  const { tools } = await client.listTools();
  deepStrictEqual(tools.map((tool) => tool.name), TOOLS);
  ok(tools.find((tool) => tool.name === "tenant_info")?.outputSchema, "output schemas are listed");

  const echoed = await client.callTool({ name: "echo", arguments: { text: "hi" } });
  deepStrictEqual(echoed.content, [{ type: "text", text: "hi" }]);

  // A tool without arguments, called the way SDKs do: no `arguments` at all.
  const info = await client.callTool({ name: "tenant_info" });
  equal(info.structuredContent.tenant.slug, slug);

  const invalid = await client.callTool({ name: "echo", arguments: { text: 42 } });
  equal(invalid.isError, true);
  match(invalid.content[0].text, /text/);

  const progress: number[] = [];
  const done = await client.callTool(
    { name: "test_tool_with_progress", arguments: {} },
    { onprogress: (update) => progress.push(update.progress) },
  );
  equal(done.isError, undefined);
  deepStrictEqual(progress, [0, 50, 100]);
}

function headers(key: string) {
  return { requestInit: { headers: { Authorization: `Bearer ${key}` } } };
}

Deno.test("SDK v1 (StreamableHTTPClientTransport, Bearer header) lists and calls tools", async () => {
  const t = await tenantWithKey(TOOLS);
  const transport = new TransportV1(new URL(stack.info.mcpUrl), headers(t.key));
  const client = new ClientV1({ name: "sdk-v1-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    equal(client.getServerVersion()?.name, "mcp-tools-server");
    equal(transport.protocolVersion, "2025-11-25");
    equal(transport.sessionId, undefined, "no session is issued");
    await exercise(v1(client), t.slug);
  } finally {
    await client.close();
  }
});

// 1.10.x, the first releases with Streamable HTTP, ask for 2024-11-05 and refuse any other answer.
Deno.test("SDK 1.10 (first Streamable HTTP release) connects with 2024-11-05, lists and calls tools", async () => {
  const t = await tenantWithKey(TOOLS);
  const transport = new TransportV110(new URL(stack.info.mcpUrl), headers(t.key));
  const client = new ClientV110({ name: "sdk-v1.10-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    equal(client.getServerVersion()?.name, "mcp-tools-server");
    equal(transport.sessionId, undefined, "no session is issued");
    await exercise(v1(client as unknown as ClientV1), t.slug);
  } finally {
    await client.close();
  }
});

const V2_MODES: Array<[string, VersionNegotiationMode, string]> = [
  ["automatic", "auto", "2026-07-28"],
  ["2026-pinned", { pin: "2026-07-28" }, "2026-07-28"],
  ["legacy", "legacy", "2025-11-25"],
];

for (const [label, mode, version] of V2_MODES) {
  Deno.test(`SDK v2 in ${label} mode speaks ${version} and lists and calls tools`, async () => {
    const t = await tenantWithKey(TOOLS);
    const client = new ClientV2(
      { name: "sdk-v2-test", version: "1.0.0" },
      { versionNegotiation: { mode } },
    );
    await client.connect(new TransportV2(new URL(stack.info.mcpUrl), headers(t.key)));
    try {
      equal(client.getNegotiatedProtocolVersion(), version);
      await exercise(client as unknown as ToolClient, t.slug);
    } finally {
      await client.close();
    }
  });
}
