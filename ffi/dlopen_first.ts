// Opens the first loadable of several names of a system library (once, on first use), for the optional FFI accelerators.

/**
 * Returns a function that opens the first of `names` that `Deno.dlopen` loads with `symbols`
 * (and that `init`, if given, accepts), once, on its first call; later calls return the same
 * symbols, or undefined if none loaded.
 */
export function dlopenFirst<S extends Deno.ForeignLibraryInterface>(
  names: readonly string[],
  symbols: S,
  init?: (lib: Deno.DynamicLibrary<S>["symbols"]) => boolean,
): () => Deno.DynamicLibrary<S>["symbols"] | undefined {
  let lib: Deno.DynamicLibrary<S>["symbols"] | null | undefined;
  return () => {
    if (lib === undefined) {
      lib = null;
      for (const name of names) {
        try {
          const l = Deno.dlopen(name, symbols).symbols;
          if (!init || init(l)) lib = l;
          break;
        } catch {
          // try the next name
        }
      }
    }
    return lib ?? undefined;
  };
}
