/** The stack `deno task test` started for this run (Postgres, PostgREST, gateway, function). */
import { connectStack } from "../../scripts/stack.ts";

export const stack = connectStack();

/** The key cache TTL the test runner gave the function processes. */
export const FUNCTION_TTL_MS = Number(stack.info.functionEnv.TENANT_CACHE_TTL_MS ?? 30_000);
