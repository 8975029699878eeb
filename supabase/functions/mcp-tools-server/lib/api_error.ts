/**
 * Client-facing errors: a stable code, an HTTP status and a message a person can act on. Any layer
 * may refuse a request with one; the HTTP layer turns it into the JSON answer (http/errors.ts).
 */

/** Every code a client may get, its HTTP status and when; the README's table comes from here. */
export const ERROR_CODES = {
  MISSING_API_KEY: [401, "no key, or an empty one (with `WWW-Authenticate: Bearer`)"],
  INVALID_API_KEY: [401, "unknown, malformed or damaged (bad checksum) key, or not Bearer"],
  KEY_REVOKED: [403, "the key's `revoked_at` has passed"],
  KEY_EXPIRED: [403, "the key's `expires_at` has passed"],
  TENANT_DISABLED: [403, "the tenant's status is `disabled`"],
  INVALID_TOKEN: [
    401,
    "a user token that is expired, badly signed, for another project or audience, or HS256",
  ],
  NOT_A_MEMBER: [403, "the signed-in user belongs to no tenant, or not to the one asked for"],
  TENANT_NOT_CHOSEN: [
    400,
    "the user belongs to several tenants and neither URL nor token picks one",
  ],
  WRONG_TENANT: [403, "an API key used on another tenant's URL (`/t/<slug>/mcp`)"],
  AMBIGUOUS_CREDENTIALS: [400, "two different keys, or a key header repeated"],
  CREDENTIALS_IN_URL: [
    400,
    "a key in the query string: `api_key`, `API_KEY`, `apiKey`, `x-api-key`, `token`, `auth`, … or any `mcpk_` value",
  ],
  ORIGIN_NOT_ALLOWED: [
    403,
    "a browser `Origin` that is neither local nor in `MCP_ALLOWED_ORIGINS`",
  ],
  HOST_NOT_ALLOWED: [403, "`MCP_ALLOWED_HOSTS` is set and the request names another host"],
  METHOD_NOT_ALLOWED: [405, "GET or DELETE on `/mcp` (no sessions, no GET stream); `Allow` header"],
  PAYLOAD_TOO_LARGE: [413, "body over `MAX_BODY_BYTES`"],
  REQUEST_ABORTED: [
    400,
    "the client closed the connection before its body arrived (nobody reads it; logged as info)",
  ],
  TOO_MANY_FAILED_KEYS: [
    429,
    "too many unknown or damaged keys from one client address, or tries at one key id; `Retry-After`",
  ],
  NOT_FOUND: [404, "any path but `/mcp`, `/health`, `/ready` (and `/metrics` with a token)"],
  RATE_LIMITED: [429, "a `requests_per_minute` is used up; `limit` says whose, `Retry-After`"],
  QUOTA_EXCEEDED: [429, "a `calls_per_day`/`_month` is used up; `limit`, `Retry-After`"],
  STORE_UNAVAILABLE: [503, "the database can't be reached in `STORE_TIMEOUT_MS`; `Retry-After`"],
  INTERNAL_ERROR: [500, "a bug on our side; the body carries a `reference` found in the logs"],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Extra fields of the JSON answer, e.g. which limit was reached. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = ERROR_CODES[code][0];
  }
}

/** The README's error table. */
export function errorTable(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, [status, when]]) =>
    `| ${status} | \`${code}\` | ${when} |`
  );
  return ["| status | code | when |", "|---|---|---|", ...rows].join("\n");
}
