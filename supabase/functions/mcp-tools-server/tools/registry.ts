/**
 * Every tool family this deployment serves: the one list the composition root hands the catalog.
 * Each module is imported when a tenant's tools first need it, not at start-up; code families are
 * listed from their generated listings (tools/listing.ts) and imported by a tool's first call.
 */
import type { LazyFamily } from "./contract.ts";
import type { ToolListing } from "./listing.ts";
import listings from "./listings.generated.json" with { type: "json" };

const listed = listings as unknown as Record<string, Record<string, ToolListing>>;

export const FAMILIES: readonly LazyFamily[] = [
  {
    family: "builtin",
    listed: listed.builtin,
    load: () => import("./builtin.ts").then((m) => m.builtinTools),
  },
  {
    family: "conformance",
    listed: listed.conformance,
    load: () => import("./conformance.ts").then((m) => m.conformanceTools),
  },
  {
    family: "crm",
    listed: listed.crm,
    load: () => import("./crm/tools.ts").then((m) => m.crmTools),
  },
  { family: "http", load: () => import("./http/family.ts").then((m) => m.httpFamily) },
];
