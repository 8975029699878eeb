// Polling an HTTP endpoint until a freshly started service answers.

import type { Child } from "./process.ts";

const POLL_MS = 50;

export interface WaitOptions {
  timeoutMs: number;
  /** Stop waiting as soon as one of these exits: the endpoint will never answer. */
  children?: Child[];
  signal?: AbortSignal;
}

/** Resolves once GET `url` answers 200; throws an Error saying why it never did. */
export async function waitForOk(url: string, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = "no answer";
  while (true) {
    opts.signal?.throwIfAborted();
    for (const child of opts.children ?? []) {
      const status = child.exited();
      if (status) {
        throw new Error(`${child.name} exited with code ${status.code} before it was ready`);
      }
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`GET ${url} did not answer 200 within ${opts.timeoutMs / 1000}s (${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
