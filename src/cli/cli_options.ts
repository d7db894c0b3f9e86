// The switches every zt command shares (-D/--home, -p, -T, -H, -j) and reading them from any level of the command tree.
import type { Command } from "commander";

/** Help text of `-D, --home`. */
export const HOME_HELP = "home directory of the service (its port and token files)";

/** Adds `-D, --home <home>` to a command. */
export function addHomeOption(c: Command): Command {
  return c.option("-D, --home <home>", HOME_HELP);
}

/**
 * Adds the switches that locate the service and pick the output: `-D, --home <home>`,
 * `-p, --port <port>`, `-T, --token <token>`, `-H, --host <host>` and `-j, --json`.
 */
export function addTargetOptions(c: Command): Command {
  return addHomeOption(c)
    .option("-p, --port <port>", "local API port (default: <home>/zerotier-one.port, else 9993)")
    .option("-T, --token <token>", "auth token (default: <home>/authtoken.secret)")
    .option("-H, --host <host>", "API host (default 127.0.0.1)")
    .option("-j, --json", "print JSON");
}

/**
 * The options of `cmd` merged with those given to its ancestors (`zt -D h controller ...`): a
 * value typed on the command line wins over a default, and the one typed nearest to the command
 * wins over one typed to an ancestor.
 */
export function mergedOptions(cmd: Command): Record<string, unknown> {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  const out: Record<string, unknown> = { ...cmd.opts() };
  const typed = new Set<string>();
  for (const c of chain) {
    const o = c.opts();
    for (const k of Object.keys(o)) {
      const src = c.getOptionValueSource(k);
      if (src === "cli" || src === "env") {
        out[k] = o[k];
        typed.add(k);
      } else if (!typed.has(k) && c === cmd) {
        out[k] = o[k];
      }
    }
  }
  return out;
}

/** A string option from a merged option bag, or undefined. */
export function stringOption(o: Record<string, unknown>, key: string): string | undefined {
  return typeof o[key] === "string" ? o[key] as string : undefined;
}
