/** How an ApiError reaches the client: a JSON body with a stable code, never a stack trace. */
import { SERVER_NAME } from "../config.ts";
import { ApiError } from "../lib/api_error.ts";

export { ApiError };

/** A fresh JSON response for the error; 401s always say how to authenticate. */
export function apiErrorResponse(err: ApiError, extra: Record<string, unknown> = {}): Response {
  const headers = new Headers(err.headers);
  headers.set("content-type", "application/json");
  if (err.status === 401 && !headers.has("www-authenticate")) {
    const invalid = err.code === "INVALID_API_KEY" ? ', error="invalid_token"' : "";
    headers.set("www-authenticate", `Bearer realm="${SERVER_NAME}"${invalid}`);
  }
  return new Response(
    JSON.stringify({ error: err.message, code: err.code, ...err.details, ...extra }),
    {
      status: err.status,
      headers,
    },
  );
}
