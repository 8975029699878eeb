/**
 * The function as an OAuth protected resource (RFC 9728). A Supabase function can't answer at the
 * origin's root, so the metadata lives under the function's own path, mirroring the RFC's layout
 * relative to it: `<function>/.well-known/oauth-protected-resource` describes `<function>/mcp`,
 * and `…/oauth-protected-resource/t/<slug>/mcp` describes a tenant's URL. Every 401 points to the
 * document of the URL it answers, but only when OAuth is on: otherwise clients that start OAuth
 * discovery on any hint would hide the server's own message behind a failed registration.
 */
import { BASE_PATH, type Config } from "../config.ts";
import type { ApiError } from "../lib/api_error.ts";

export const METADATA_PATH = "/.well-known/oauth-protected-resource";

/** The function's public base URL (`https://<ref>.supabase.co/functions/v1/mcp-tools-server`). */
export function publicBase(config: Config, request: Request): string {
  if (config.userAuth.publicUrl) return config.userAuth.publicUrl;
  const url = new URL(request.url);
  const host = request.headers.get("x-forwarded-host");
  // Behind Supabase's gateway the function's public path starts with /functions/v1; reached
  // directly (a local process), the request's own origin is the public one.
  if (!host) return `${url.origin}${BASE_PATH}`;
  const proto = request.headers.get("x-forwarded-proto") ?? url.protocol.replace(":", "");
  return `${proto}://${host}/functions/v1${BASE_PATH}`;
}

/** The MCP path a request addressed, relative to the function: `/mcp` or `/t/<slug>/mcp`. */
function mcpPath(tenant: string | undefined): string {
  return tenant === undefined ? "/mcp" : `/t/${encodeURIComponent(tenant)}/mcp`;
}

export function protectedResourceMetadata(
  config: Config,
  request: Request,
  tenant: string | undefined,
): Record<string, unknown> {
  const base = publicBase(config, request);
  return {
    resource: base + mcpPath(tenant),
    authorization_servers: [config.userAuth.issuer],
    bearer_methods_supported: ["header"],
    resource_name: "mcp-tools-server",
  };
}

/** The WWW-Authenticate value of a 401 answering `request`. */
export function wwwAuthenticate(
  config: Config,
  request: Request,
  err: ApiError,
  tenant: string | undefined,
): string {
  const error = err.code === "MISSING_API_KEY" ? "" : ', error="invalid_token"';
  const description = `, error_description="${quote(err.message)}"`;
  if (config.userAuth.oauth) {
    const metadata = `${publicBase(config, request)}${METADATA_PATH}${
      tenant === undefined ? "" : mcpPath(tenant)
    }`;
    return `Bearer resource_metadata="${metadata}"${error}${description}`;
  }
  const noOAuth = quote(
    `${err.message} This server does not offer OAuth sign-in: configure the API key ` +
      "as an 'Authorization: Bearer <api key>' header in the client.",
  );
  return `Bearer realm="mcp-tools-server"${error}, error_description="${noOAuth}"`;
}

/** RFC 6750: error_description is printable ASCII without `"` or `\`. */
function quote(text: string): string {
  return text.replace(/[“”"]/g, "'").replace(/…/g, "...").replace(
    /[^\x20-\x21\x23-\x5b\x5d-\x7e]/g,
    "",
  );
}
