/**
 * The stack `deno task test` started for this run (Postgres, PostgREST, gateway, function),
 * connected on first use: unit tests import nothing from here and run without it.
 */
import { type ConnectedStack, connectStack } from "../../scripts/stack.ts";

let connected: ConnectedStack | undefined;
const connect = () => connected ??= connectStack();

export const stack: ConnectedStack = {
  get info() {
    return connect().info;
  },
  psql: (sql) => connect().psql(sql),
  startFunction: (env, entry) => connect().startFunction(env, entry),
};

/** The key cache TTL the test runner gave the function processes (read only when used). */
export function functionTtlMs(): number {
  return Number(connect().info.functionEnv.TENANT_CACHE_TTL_MS ?? 30_000);
}

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
