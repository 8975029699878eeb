// TCP port selection on 127.0.0.1, where every part of the stack listens.

import { PortInUseError } from "./errors.ts";

function tryListen(port: number): Deno.Listener | undefined {
  try {
    return Deno.listen({ hostname: "127.0.0.1", port });
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) return undefined;
    throw err;
  }
}

/**
 * Resolves each requested port: a given number must be free, an absent one gets a free port.
 * All probe sockets stay open until every port is chosen so the kernel never hands out the
 * same ephemeral port twice.
 */
export function choosePorts<K extends string>(
  requested: Record<K, number | undefined>,
): Record<K, number> {
  const listeners: Deno.Listener[] = [];
  try {
    const chosen = {} as Record<K, number>;
    for (const name of Object.keys(requested) as K[]) {
      const listener = tryListen(requested[name] ?? 0);
      if (!listener) throw new PortInUseError(name, requested[name]!);
      listeners.push(listener);
      chosen[name] = (listener.addr as Deno.NetAddr).port;
    }
    return chosen;
  } finally {
    for (const listener of listeners) listener.close();
  }
}
