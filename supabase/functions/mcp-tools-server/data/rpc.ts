/**
 * The one way the function calls the database: a SQL function in `public`, through PostgREST, with
 * the service key and a deadline. One failure rule for every caller:
 * - the database can't be reached (network error, deadline, or a 502/503/504 from the gateway or
 *   PostgREST) → StoreUnavailableError: transient, answered with "retry shortly";
 * - it answered with an error → DatabaseError with its SQLSTATE: a caller may turn the codes it
 *   expects into an answer; anything else is a bug, reported with a reference.
 */
import type { DatabaseClient } from "./supabase_client.ts";

export interface Rpc {
  /** Calls `public.<fn>` with named arguments and returns its result. */
  call(fn: string, args: Record<string, unknown>): Promise<unknown>;
}

/** The database could not be reached or did not answer in time. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/** The database answered with an error: a SQLSTATE (or PostgREST) code and its message. */
export class DatabaseError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = "DatabaseError";
  }
}

/** postgrest-js reports a fetch that failed (refused, aborted by the deadline) as status 0. */
const UNAVAILABLE = new Set([0, 502, 503, 504]);

export function supabaseRpc(client: DatabaseClient): Rpc {
  return {
    async call(fn, args) {
      let result;
      try {
        result = await client.rpc(fn, args);
      } catch (err) {
        throw new StoreUnavailableError(`${fn} failed: ${describe(err)}`, { cause: err });
      }
      const { data, error, status } = result;
      if (!error) return data;
      if (UNAVAILABLE.has(status)) {
        throw new StoreUnavailableError(`${fn} failed (${status}): ${error.message}`);
      }
      throw new DatabaseError(error.code ?? "", `${fn} failed (${status}): ${error.message}`);
    },
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : "unknown error";
}
