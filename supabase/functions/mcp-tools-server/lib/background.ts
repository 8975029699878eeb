/**
 * Work that outlives its request (flushing usage events). On Supabase the runtime is told with
 * `EdgeRuntime.waitUntil`, so the isolate is not stopped before the work is done; elsewhere the
 * promise is tracked, so tests and a graceful stop can wait for it. A failure is the work's own
 * business: it never reaches a request.
 */
interface EdgeRuntimeGlobal {
  waitUntil(promise: Promise<unknown>): void;
}

export interface Background {
  /** Runs `work` after the answer; never throws. */
  run(work: () => Promise<unknown>): void;
  /** Resolves when every piece of work started so far (and any it started) has finished. */
  settled(): Promise<void>;
  readonly pending: number;
}

export function createBackground(
  runtime: EdgeRuntimeGlobal | undefined = (globalThis as { EdgeRuntime?: EdgeRuntimeGlobal })
    .EdgeRuntime,
): Background {
  const tracked = new Set<Promise<unknown>>();
  return {
    run(work) {
      const promise = Promise.resolve().then(work).catch(() => {}).finally(() =>
        tracked.delete(promise)
      );
      tracked.add(promise);
      runtime?.waitUntil(promise);
    },
    async settled() {
      while (tracked.size > 0) await Promise.all(tracked);
    },
    get pending() {
      return tracked.size;
    },
  };
}
