/** A server-side supabase-js client: the service key, no session handling, a deadline per call. */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { SupabaseAccess } from "../config.ts";

export function supabaseClient(access: SupabaseAccess, timeoutMs: number): SupabaseClient {
  return createClient(access.url, access.key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: withTimeout(timeoutMs) },
  });
}

function withTimeout(ms: number): typeof fetch {
  return (input, init?: RequestInit) => {
    const timeout = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, signal });
  };
}
