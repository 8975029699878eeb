/** Every tool family this deployment serves: the one list the composition root hands the catalog. */
import { builtinTools } from "./builtin.ts";
import { conformanceTools } from "./conformance.ts";
import type { ToolFamily } from "./contract.ts";
import { crmTools } from "./crm/tools.ts";
import { httpFamily } from "./http/family.ts";

export const FAMILIES: readonly ToolFamily[] = [
  builtinTools,
  conformanceTools,
  crmTools,
  httpFamily,
];
