/**
 * Every tool family this deployment serves: the one list the composition root hands the catalog.
 * Each module is imported when a tenant's tools first need it, not at start-up.
 */
import type { LazyFamily } from "./contract.ts";

export const FAMILIES: readonly LazyFamily[] = [
  { family: "builtin", load: () => import("./builtin.ts").then((m) => m.builtinTools) },
  { family: "conformance", load: () => import("./conformance.ts").then((m) => m.conformanceTools) },
  { family: "crm", load: () => import("./crm/tools.ts").then((m) => m.crmTools) },
  { family: "http", load: () => import("./http/family.ts").then((m) => m.httpFamily) },
];
