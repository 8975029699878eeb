/**
 * Every family of tools/registry.ts, loaded: for what needs them all at once (the SQL generator,
 * tests, the bench), never for the function's start-up.
 */
import type { ToolFamily } from "./contract.ts";
import { FAMILIES } from "./registry.ts";

export const ALL_FAMILIES: readonly ToolFamily[] = await Promise.all(
  FAMILIES.map((family) => family.load()),
);
