/**
 * What tools get for data access: calls to SQL functions in `public`, through PostgREST with the
 * service key. Tenant scoping lives in those functions (each takes the tenant id first) and in
 * the family module that calls them, never in what a client sends.
 */
import type { SupabaseClient } from "@supabase/supabase-js";

export interface Database {
  /** Calls `public.<fn>` with named arguments and returns its result. */
  call(fn: string, args: Record<string, unknown>): Promise<unknown>;
}

/** The database answered with an error: a SQLSTATE (or PostgREST) code and its message. */
export class DatabaseError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = "DatabaseError";
  }
}

/** The database could not be reached or did not answer in time. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DatabaseUnavailableError";
  }
}

export function supabaseDatabase(client: SupabaseClient): Database {
  return {
    async call(fn, args) {
      let result;
      try {
        result = await client.rpc(fn, args);
      } catch (err) {
        throw new DatabaseUnavailableError(`${fn} failed: ${err}`, { cause: err });
      }
      const { data, error, status } = result;
      if (!error) return data;
      // postgrest-js reports a failed fetch (refused, aborted by the deadline) as status 0.
      if (status === 0 || status === 503 || status === 504) {
        throw new DatabaseUnavailableError(`${fn} failed (${status}): ${error.message}`);
      }
      throw new DatabaseError(error.code ?? "", error.message);
    },
  };
}
