/** Client-facing errors: a stable code, an HTTP status and a message a person can act on. */

const STATUS = {
  MISSING_API_KEY: 401,
  INVALID_API_KEY: 401,
  KEY_REVOKED: 403,
  KEY_EXPIRED: 403,
  TENANT_DISABLED: 403,
  AMBIGUOUS_CREDENTIALS: 400,
  CREDENTIALS_IN_URL: 400,
  ORIGIN_NOT_ALLOWED: 403,
  HOST_NOT_ALLOWED: 403,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  STORE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof STATUS;

export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = STATUS[code];
  }
}

/** A fresh JSON response for the error; 401s always say how to authenticate. */
export function errorResponse(err: ApiError, extra: Record<string, unknown> = {}): Response {
  const headers = new Headers(err.headers);
  headers.set("content-type", "application/json");
  if (err.status === 401 && !headers.has("www-authenticate")) {
    const invalid = err.code === "INVALID_API_KEY" ? ', error="invalid_token"' : "";
    headers.set("www-authenticate", `Bearer realm="mcp-tools-server"${invalid}`);
  }
  return new Response(JSON.stringify({ error: err.message, code: err.code, ...extra }), {
    status: err.status,
    headers,
  });
}
