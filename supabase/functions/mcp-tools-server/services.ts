/** The tenant-neutral services tools work with, built once per isolate from the configuration. */
import type { Config, SupabaseAccess } from "./config.ts";
import { supabaseDatabase } from "./database.ts";
import { serviceClient } from "./service_client.ts";
import type { ToolServices } from "./tools/types.ts";

export function createToolServices(access: SupabaseAccess, config: Config): ToolServices {
  return { db: supabaseDatabase(serviceClient(access, config.storeTimeoutMs)) };
}
