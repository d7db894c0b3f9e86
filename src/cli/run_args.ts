// `zt run` arguments read without commander, for the common plain forms only (the node then does
// not load commander and every other command). Anything else - help, unknown or combined switches,
// a repeated switch, a value that looks like a switch - is left to the command tree, which gives the
// same result or its usual error. tests/cli/run_args_test.ts checks both agree.
import type { RunOptions } from "./run.ts";

/** Switches of `zt run` that take a value: long name -> option key. */
const VALUED: Record<string, keyof RunOptions> = {
  home: "home",
  port: "port",
  "log-level": "logLevel",
  "log-file": "logFile",
  proxy: "proxy",
  forward: "forward",
  expose: "expose",
};
/** Switches of `zt run` without a value: long name -> option key. */
const FLAGS: Record<string, keyof RunOptions> = {
  daemon: "daemon",
  userspace: "userspace",
  "planet-fallback": "planetFallback",
};
/** Short switches: letter -> long name (or the key itself for -U). */
const SHORT: Record<string, string> = { D: "home", p: "port", d: "daemon", U: "U" };
/** Switches that may be given more than once (each adds to a list). */
const REPEATABLE = new Set<keyof RunOptions>(["forward", "expose"]);

/**
 * The home and options of `zt run ARGS` when `args` is `run` followed only by plain forms
 * (`--name value`, `--name=value`, `-p value`, `-p9993`, `-U`, `-d`, one positional home);
 * undefined when commander must decide.
 */
export function parseRunArgs(
  args: readonly string[],
): { home: string | undefined; options: RunOptions } | undefined {
  if (args[0] !== "run") return undefined;
  const o: Record<string, unknown> = {};
  let home: string | undefined;
  const set = (key: keyof RunOptions, value: string | true): boolean => {
    if (REPEATABLE.has(key)) {
      o[key] = [...(o[key] as string[] | undefined ?? []), value as string];
      return true;
    }
    if (key in o) return false; // repeated: commander's rules
    o[key] = value;
    return true;
  };
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (Object.hasOwn(FLAGS, name)) {
        if (eq >= 0 || !set(FLAGS[name], true)) return undefined;
      } else if (Object.hasOwn(VALUED, name)) {
        const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
        if (v === undefined || v === "" || v.startsWith("-") || !set(VALUED[name], v)) {
          return undefined;
        }
      } else return undefined;
    } else if (a.startsWith("-")) {
      const long = a.length >= 2 ? SHORT[a[1]] : undefined;
      if (long === undefined) return undefined;
      if (long === "U" || Object.hasOwn(FLAGS, long)) {
        if (a.length !== 2 || !set(long === "U" ? "U" : FLAGS[long], true)) return undefined;
      } else {
        const v = a.length > 2 ? a.slice(2) : args[++i];
        if (v === undefined || v === "" || v.startsWith("-") || !set(VALUED[long], v)) {
          return undefined;
        }
      }
    } else {
      if (home !== undefined) return undefined;
      home = a;
    }
  }
  return { home, options: o as RunOptions };
}
