/**
 * Whether the database answers: the key lookup the request path depends on, asked with a hash no
 * key has. Probed at most once per `cacheMs` however often readiness is asked (the route needs no
 * credentials, so it must not be a way to load the database).
 */
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import type { Rpc } from "./rpc.ts";

const NO_KEY = "0".repeat(64);

export function storeProbe(
  rpc: Rpc,
  options: { clock: Clock; cacheMs: number; log: Logger },
): () => Promise<boolean> {
  let last: { ok: boolean; at: number } | undefined;
  let pending: Promise<boolean> | undefined;
  return () => {
    const now = options.clock.now();
    if (last && now - last.at < options.cacheMs) return Promise.resolve(last.ok);
    return pending ??= rpc.call("resolve_api_key", { p_key_hash: NO_KEY })
      .then(() => true, (err) => {
        options.log.error("store_not_ready", { error: err });
        return false;
      })
      .then((ok) => {
        last = { ok, at: options.clock.now() };
        pending = undefined;
        return ok;
      });
  };
}
