// Last-resort cleanup when the process exits without calling stop() (e.g. Deno.exit in a
// signal handler). Only synchronous work is possible there, so hooks just send signals.

const hooks = new Set<() => void>();
let installed = false;

function runHooks(): void {
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // The target is already gone; nothing left to clean.
    }
  }
}

/** Registers `hook` to run on process exit; returns a function that unregisters it. */
export function onExit(hook: () => void): () => void {
  if (!installed) {
    globalThis.addEventListener("unload", runHooks);
    installed = true;
  }
  hooks.add(hook);
  return () => hooks.delete(hook);
}
