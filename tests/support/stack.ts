/** The stack `deno task test` started for this run (Postgres, PostgREST, gateway, function). */
import { connectStack } from "../../scripts/stack.ts";

export const stack = connectStack();

/** The key cache TTL the test runner gave the function processes. */
export const FUNCTION_TTL_MS = Number(stack.info.functionEnv.TENANT_CACHE_TTL_MS ?? 30_000);

/** A PostgREST request through the gateway, as a browser or supabase-js would send it. */
export const rest = (path: string, key: string, init: RequestInit = {}) =>
  fetch(`${stack.info.supabaseUrl}/rest/v1/${path}`, {
    ...init,
    headers: {
      apikey: key,
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      ...init.headers,
    },
  });
