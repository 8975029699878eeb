/**
 * A tenant's upstream, from `tenants.config.http`: where its API is, the headers every call
 * carries (e.g. a client id), and how it authenticates. Credentials are never in the config:
 * it names secrets (`{ "secret": "api_token" }`) that are looked up when a tool runs.
 */
import * as z from "zod";
import { HEADER_NAME, SECRET_NAME } from "./definition.ts";

const secretName = z.string().regex(SECRET_NAME, "must be a secret name (e.g. api_token)");
const headerName = z.string().regex(HEADER_NAME, "must be a header name");
/** Headers whose plaintext value would be a credential sitting in the config. */
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);

const BaseUrl = z.url({ protocol: /^https?$/ }).refine((text) => {
  // Refinements run even when the URL check failed, so this must not throw on garbage.
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return !url.username && !url.password && !url.search && !url.hash;
}, "must be an http(s) URL without credentials, query or fragment");

export const TenantUpstreamSchema = z.strictObject({
  base_url: BaseUrl,
  headers: z.record(
    headerName,
    z.union([z.string().max(8192), z.strictObject({ secret: secretName })]),
  ).default({}).refine(
    (headers) =>
      Object.entries(headers).every(([name, value]) =>
        typeof value !== "string" || !CREDENTIAL_HEADERS.has(name.toLowerCase())
      ),
    'credential headers (Authorization, Cookie) must refer to a secret: { "secret": "<name>" }',
  ),
  auth: z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("none") }),
    z.strictObject({ type: z.literal("bearer"), secret: secretName }),
    z.strictObject({ type: z.literal("header"), header: headerName, secret: secretName }),
    z.strictObject({ type: z.literal("basic"), username: z.string().min(1), secret: secretName }),
  ]).default({ type: "none" }),
});

export type TenantUpstream = z.output<typeof TenantUpstreamSchema>;

export type UpstreamConfigResult =
  | { ok: true; upstream: TenantUpstream }
  | { ok: false; problem: string };

export function readTenantUpstream(config: Record<string, unknown>): UpstreamConfigResult {
  if (config.http === undefined) {
    return {
      ok: false,
      problem: "This tenant has no upstream API configured (tenants.config.http.base_url).",
    };
  }
  const parsed = TenantUpstreamSchema.safeParse(config.http);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      problem: `This tenant's upstream configuration is invalid at config.http${
        issue.path.map((p) => `.${String(p)}`).join("")
      }: ${issue.message}. Ask an admin to fix it.`,
    };
  }
  return { ok: true, upstream: parsed.data };
}

/** Every secret the upstream's headers and auth refer to. */
export function secretNames(upstream: TenantUpstream): string[] {
  const names = new Set<string>();
  for (const value of Object.values(upstream.headers)) {
    if (typeof value !== "string") names.add(value.secret);
  }
  if (upstream.auth.type !== "none") names.add(upstream.auth.secret);
  return [...names];
}

/**
 * The headers the tenant's config contributes, with secrets filled in, and the names of those
 * carrying credentials (dropped on a redirect to another origin).
 */
export function tenantHeaders(
  upstream: TenantUpstream,
  secrets: ReadonlyMap<string, string>,
): { headers: Headers; credentialHeaders: string[] } {
  const headers = new Headers();
  const credentialHeaders: string[] = [];
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (typeof value === "string") {
      headers.set(name, value);
    } else {
      headers.set(name, secrets.get(value.secret)!);
      credentialHeaders.push(name);
    }
  }
  const { auth } = upstream;
  if (auth.type === "bearer") {
    headers.set("authorization", `Bearer ${secrets.get(auth.secret)}`);
    credentialHeaders.push("authorization");
  } else if (auth.type === "header") {
    headers.set(auth.header, secrets.get(auth.secret)!);
    credentialHeaders.push(auth.header);
  } else if (auth.type === "basic") {
    headers.set("authorization", `Basic ${base64(`${auth.username}:${secrets.get(auth.secret)}`)}`);
    credentialHeaders.push("authorization");
  }
  return { headers, credentialHeaders };
}

/** Base64 of the UTF-8 bytes (btoa alone refuses characters beyond Latin-1). */
export function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}
