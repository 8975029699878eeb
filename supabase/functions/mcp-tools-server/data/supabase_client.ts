/** The one way the function talks to Supabase: supabase-js with the service key and a deadline. */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { SupabaseAccess } from "../config.ts";

/** A server-side client: no session handling, every request aborted after `timeoutMs`. */
export function serviceClient(access: SupabaseAccess, timeoutMs: number): SupabaseClient {
  return createClient(access.url, access.key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: withTimeout(timeoutMs) },
  });
}

function withTimeout(ms: number): typeof fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, signal });
  };
}
