/**
 * Every tool family this deployment serves: the one list the composition root hands the catalog.
 * Each module is imported when a tenant's tools first need it, not at start-up. Code families are
 * listed from their generated listings (tools/listing.ts; one small file each, read when a tenant
 * first has one of their tools) and imported by a tool's first call.
 */
import type { LazyFamily, ToolListing } from "./contract.ts";

type Listings = Record<string, ToolListing>;

/** A generated listings file without its "//" provenance note. */
const listings = (file: Promise<{ default: Record<string, unknown> }>): Promise<Listings> =>
  file.then(({ default: { "//": _note, ...tools } }) => tools as Listings);

export const FAMILIES: readonly LazyFamily[] = [
  {
    family: "builtin",
    listed: () => listings(import("./listings/builtin.json", { with: { type: "json" } })),
    load: () => import("./builtin.ts").then((m) => m.builtinTools),
  },
  {
    family: "conformance",
    listed: () => listings(import("./listings/conformance.json", { with: { type: "json" } })),
    load: () => import("./conformance.ts").then((m) => m.conformanceTools),
  },
  {
    family: "crm",
    listed: () => listings(import("./listings/crm.json", { with: { type: "json" } })),
    load: () => import("./crm/tools.ts").then((m) => m.crmTools),
  },
  { family: "http", load: () => import("./http/family.ts").then((m) => m.httpFamily) },
];
