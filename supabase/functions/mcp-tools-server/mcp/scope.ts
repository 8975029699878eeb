/** What the front learned about one request, handed to the tool that serves it. */
import type { LogLevel } from "../tools/contract.ts";
import type { Era } from "./protocol/era.ts";
import type { RequestId } from "./protocol/jsonrpc.ts";
import type { Channel } from "./stream.ts";

export interface RequestScope {
  era: Era;
  /** From `params._meta.progressToken`: progress is reported only when the caller sent one. */
  progressToken: RequestId | undefined;
  /** The least severe log level to send; null: no log messages. */
  logLevel: LogLevel | null;
  /** This request's own response channel. */
  channel: Channel;
}
