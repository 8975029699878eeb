/**
 * The `http` family: tools defined as data (a `tool_catalog` row), each calling the calling
 * tenant's own upstream API with that tenant's base URL, headers and credentials.
 */
import { StoreUnavailableError } from "../../data/rpc.ts";
import { UpstreamError } from "../../upstream/guarded_fetch.ts";
import type { CatalogRow } from "../../data/tenant_store.ts";
import { type DataFamily, type ToolDefinition, ToolError, type ToolResult } from "../contract.ts";
import { parseHttpDefinition } from "./definition.ts";
import { planRequest } from "./request.ts";
import { redactor, toToolResult } from "./response.ts";
import { readTenantUpstream, secretNames, tenantHeaders } from "./tenant_upstream.ts";

export const HTTP_FAMILY = "http";

/** Builds the tool once per name@version; throws DefinitionError for a bad definition. */
export function buildHttpTool(row: CatalogRow): ToolDefinition {
  const { definition, input } = parseHttpDefinition(row.name, row.definition);
  return {
    name: row.name,
    family: HTTP_FAMILY,
    title: definition.title,
    description: row.description,
    annotations: { openWorldHint: true, ...definition.annotations },
    input,
    // Published as the admin wrote it; `input` validates the same rules (patterns on RE2JS).
    inputJsonSchema: definition.input_schema,
    async run(args, call): Promise<ToolResult> {
      const { upstreamFetch, tenantSecrets } = call.services;
      const config = readTenantUpstream(call.tenant.config);
      if (!config.ok) throw new ToolError(config.problem);
      const upstream = config.upstream;

      const names = secretNames(upstream);
      let secrets: ReadonlyMap<string, string>;
      try {
        secrets = await tenantSecrets.get(call.tenant.id, names);
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        throw new ToolError(
          "This tenant's upstream credentials can't be read right now (the database did not " +
            "answer). Nothing was sent; try again in a few seconds.",
        );
      }
      const missing = names.filter((name) => !secrets.has(name));
      if (missing.length > 0) {
        throw new ToolError(
          `This tenant's upstream credential${missing.length > 1 ? "s" : ""} ${
            missing.map((m) => `"${m}"`).join(", ")
          } ${
            missing.length > 1 ? "are" : "is"
          } not set. Ask an admin to set it (set_tenant_secret).`,
        );
      }
      const fromTenant = tenantHeaders(upstream, secrets);
      const redact = redactor(redactionValues(secrets, fromTenant));

      const plan = planRequest(upstream.base_url, definition, args as Record<string, unknown>);
      // The tenant's headers win over argument headers: arguments never replace credentials.
      fromTenant.headers.forEach((value, name) => plan.headers.set(name, value));
      try {
        const response = await upstreamFetch({
          ...plan,
          credentialHeaders: fromTenant.credentialHeaders,
          timeoutMs: definition.timeout_ms,
        });
        return toToolResult(response, definition, redact);
      } catch (err) {
        if (err instanceof UpstreamError) throw new ToolError(redact(err.message));
        throw new Error(redact(err instanceof Error ? `${err.name}: ${err.message}` : String(err)));
      }
    },
  };
}

/**
 * Each secret in the forms it may come back in: raw, URL-encoded, as the header sent, and that
 * header's credential without its scheme (Basic's base64 of user:secret is echoed on its own).
 */
function redactionValues(
  secrets: ReadonlyMap<string, string>,
  sent: { headers: Headers; credentialHeaders: string[] },
): string[] {
  const values = [...secrets.values()];
  const headers = sent.credentialHeaders.map((name) => sent.headers.get(name) ?? "");
  return [
    ...values,
    ...values.map((value) => encodeURIComponent(value)),
    ...headers,
    ...headers.map((value) => /^[A-Za-z]+ +(\S{8,})$/.exec(value)?.[1] ?? ""),
  ];
}

export const httpFamily: DataFamily = { family: HTTP_FAMILY, build: buildHttpTool };
