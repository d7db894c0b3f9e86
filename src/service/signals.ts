// Shutdown signals: run a handler once on SIGINT or SIGTERM; a second signal forces exit.

/**
 * Calls `handler` on the first SIGINT/SIGTERM; a second signal exits immediately with
 * status 1. Returns a function that removes the listeners.
 */
export function onShutdownSignal(handler: (signal: Deno.Signal) => void): () => void {
  let fired = false;
  const listeners: [Deno.Signal, () => void][] = [];
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    const fn = () => {
      if (fired) Deno.exit(1);
      fired = true;
      handler(sig);
    };
    try {
      Deno.addSignalListener(sig, fn);
      listeners.push([sig, fn]);
    } catch {
      // signal not supported on this platform
    }
  }
  return () => {
    for (const [sig, fn] of listeners) {
      try {
        Deno.removeSignalListener(sig, fn);
      } catch {
        // already removed
      }
    }
  };
}
