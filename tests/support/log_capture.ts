/** A logger that keeps every event, for tests that check what was logged (and how often). */
import type { Logger } from "../../supabase/functions/mcp-tools-server/lib/log.ts";

export interface LoggedEvent {
  level: "info" | "error";
  event: string;
  fields: Record<string, unknown>;
}

export function capturingLogger(): Logger & {
  events: LoggedEvent[];
  named(event: string): LoggedEvent[];
} {
  const events: LoggedEvent[] = [];
  return {
    events,
    info: (event, fields = {}) => events.push({ level: "info", event, fields }),
    error: (event, fields = {}) => events.push({ level: "error", event, fields }),
    named: (event) => events.filter((e) => e.event === event),
  };
}
