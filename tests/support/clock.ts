import type { Clock } from "../../supabase/functions/mcp-tools-server/lib/clock.ts";

/** A clock tests move by hand, so TTL behaviour is checked without sleeping. */
export class ManualClock implements Clock {
  constructor(public time = Date.now()) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}
