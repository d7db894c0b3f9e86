// `zt rules test`: runs a described frame through a joined network's stored rules and prints the verdict.
import { Command } from "commander";
import { mergedOptions } from "./cli_options.ts";
import { writeAll } from "./write_all.ts";
import { resolveHomeDir } from "../service/home.ts";
import { parseNetworkConfig } from "../vl2/network_config.ts";
import { explainFrame, type ExplainOptions } from "../vl2/rules/explain.ts";

export {
  buildTestFrame,
  type FrameOptions,
  parseFrameDescription,
  ruleSetText,
  type TestFrameSpec,
} from "../vl2/rules/explain.ts";

/** What `zt rules test` needs from the outside world. */
export interface RulesTestIo {
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes to stderr. */
  err(text: string): void;
  /** Reads a file; undefined if unreadable. */
  readFile(path: string): Uint8Array | undefined;
  /** Environment lookup (for the default home). */
  env(name: string): string | undefined;
  /** Running as root (for the default home). */
  isRoot: boolean;
  /** A random u32 for MATCH_RANDOM. */
  random(): number;
}

/** Options of {@link runRulesTest}. */
export interface RulesTestOptions extends ExplainOptions {
  /** Network ID (16 hex digits). */
  network: string;
  /** Home directory (default as `zt run`). */
  home?: string;
}

/**
 * Runs `zt rules test`: loads `<home>/networks.d/<nwid>.conf`, builds the frame, filters it in
 * the given direction and prints the deciding rule, copies and verdict. Returns the exit code
 * (0 whatever the verdict, 1 on bad input or a missing config).
 */
export function runRulesTest(io: RulesTestIo, description: string, o: RulesTestOptions): number {
  const fail = (m: string) => (io.err(`zt rules test: ${m}\n`), 1);
  const nwidText = o.network.toLowerCase();
  if (!/^[0-9a-f]{16}$/.test(nwidText)) return fail(`bad network ID '${o.network}'`);
  const home = resolveHomeDir({ arg: o.home, env: io.env, isRoot: io.isRoot });
  if (!home) return fail("cannot determine the home directory (use --home)");
  const path = `${home}/networks.d/${nwidText}.conf`;
  const bytes = io.readFile(path);
  if (!bytes) return fail(`cannot read ${path}`);
  const nc = parseNetworkConfig(bytes);
  if (!nc) return fail(`${path} is not a valid network config`);
  const r = explainFrame(nc, description, o, io.random);
  if (!r.ok) return fail(r.error);
  io.out(r.text);
  return 0;
}

/** The real process: stdout, stderr, files, environment, crypto random. */
export function denoRulesTestIo(): RulesTestIo {
  return {
    out: (t) => writeAll(Deno.stdout, t),
    err: (t) => writeAll(Deno.stderr, t),
    readFile: (p) => {
      try {
        return Deno.readFileSync(p);
      } catch {
        return undefined;
      }
    },
    env: (n) => Deno.env.get(n),
    isRoot: Deno.uid() === 0,
    random: () => crypto.getRandomValues(new Uint32Array(1))[0],
  };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The `test` subcommand (added under `zt rules`). */
export function rulesTestCommand(io?: RulesTestIo): Command {
  return new Command("test")
    .description("run a described frame through a network's stored rules and print the verdict")
    .argument(
      "<frame...>",
      "'<proto> <src>[:port] > <dst>[:port]' e.g. 'tcp 10.0.0.1:999 > 10.0.0.2:22'",
    )
    .requiredOption("--network <nwid>", "network ID (its config is read from <home>/networks.d)")
    .option("-D, --home <home>", "home directory (default: as zt run)")
    .option("--from <ztaddr>", "sender address (inbound: the peer)")
    .option("--to <ztaddr>", "receiver address (outbound: the peer)")
    .option("--inbound", "evaluate as a frame received from --from")
    .option("--peer-tag <id=value>", "a tag of the remote member (repeatable)", collect)
    .option(
      "--peer-cap <id>",
      "inbound: a capability (from the config) the sender presents (repeatable)",
      collect,
    )
    .option("--flags <names>", "TCP flags, e.g. syn,ack (default syn)")
    .option("--tos <n>", "IP TOS / traffic class")
    .option("--icmp-type <n>", "ICMP type (default echo request)")
    .option("--icmp-code <n>", "ICMP code")
    .option("--size <n>", "pad the Ethernet payload to this many bytes")
    .option("--macsrc <mac>", "source MAC (default: the sender's ZeroTier MAC)")
    .option("--macdest <mac>", "destination MAC (default: the receiver's ZeroTier MAC)")
    .action((frame: string[], _o: unknown, cmd: Command) => {
      const opts = mergedOptions(cmd) as unknown as RulesTestOptions;
      Deno.exitCode = runRulesTest(io ?? denoRulesTestIo(), frame.join(" "), opts);
    });
}
