/**
 * The server-side database client: supabase-js's own PostgREST client (`@supabase/postgrest-js`,
 * the version supabase-js pins), set up as `createClient(url, key).rest` is — the service key as
 * `apikey` and bearer token, schema `public` — plus a deadline per call. supabase-js itself would
 * also build auth, realtime, storage and functions clients the function never uses, and its
 * import alone takes several times the function's whole cold start on the edge runtime.
 */
import { PostgrestClient } from "@supabase/postgrest-js";
import type { SupabaseAccess } from "../config.ts";

export type DatabaseClient = PostgrestClient;

export function supabaseClient(access: SupabaseAccess, timeoutMs: number): DatabaseClient {
  return new PostgrestClient(`${access.url.replace(/\/$/, "")}/rest/v1`, {
    headers: { apikey: access.key, authorization: `Bearer ${access.key}` },
    schema: "public",
    fetch: withTimeout(timeoutMs),
  });
}

function withTimeout(ms: number): typeof fetch {
  return (input, init?: RequestInit) => {
    const timeout = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, signal });
  };
}
