/**
 * The function's real tool services, pointed at a database address nothing listens on: the
 * bench's tools never use them, but every server is built with a complete set, as in production.
 */
import {
  buildToolServices,
  requireServices,
} from "../supabase/functions/mcp-tools-server/compose.ts";
import { loadConfig } from "../supabase/functions/mcp-tools-server/config.ts";
import { supabaseRpc } from "../supabase/functions/mcp-tools-server/data/rpc.ts";
import { supabaseClient } from "../supabase/functions/mcp-tools-server/data/supabase_client.ts";
import { systemClock } from "../supabase/functions/mcp-tools-server/lib/clock.ts";
import type { ToolServices } from "../supabase/functions/mcp-tools-server/tools/contract.ts";

export function offlineServices(): ToolServices {
  const config = loadConfig(() => undefined);
  const rpc = supabaseRpc(supabaseClient({ url: "http://127.0.0.1:9", key: "offline" }, 1_000));
  return requireServices(buildToolServices(config, { database: () => rpc, clock: systemClock }));
}
