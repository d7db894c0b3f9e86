// `zt run [home]`: the node service (zerotier-one's switches -p, -U, -d; --log-level / ZT_LOG).
import type { Command } from "commander";
import { addHomeOption, mergedOptions } from "./cli_options.ts";
import { HomeError, resolveHomeDir, SYSTEM_HOME } from "../service/home.ts";
import { Logger, resolveLogLevel } from "../service/logger.ts";
import { daemonize } from "../service/daemonize.ts";
import { createNode } from "../service/node_factory.ts";
import { Service, ServiceError } from "../service/service.ts";
import { onShutdownSignal } from "../service/signals.ts";
import { PortInUseError } from "../service/udp_transport.ts";

/** Longest a clean shutdown may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 2000;

/** Options of `zt run` (and `zt controller serve`). */
export interface RunOptions {
  /** `-D, --home` (the positional home wins; both given and different is an error). */
  home?: string;
  port?: string;
  U?: boolean;
  daemon?: boolean;
  logLevel?: string;
}

/** Prints `zt: <msg>` to stderr and exits with status 1. */
function fail(msg: string): never {
  console.error(`zt: ${msg}`);
  Deno.exit(1);
}

/** Parses the `-p` value: 0..65535. */
function parsePort(s: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/** Runs the service until SIGINT/SIGTERM. */
export async function runService(homeArg: string | undefined, o: RunOptions): Promise<void> {
  if (homeArg !== undefined && o.home !== undefined && homeArg !== o.home) {
    fail(`two homes given: ${homeArg} and -D ${o.home}`);
  }
  homeArg ??= o.home;
  const level = resolveLogLevel(o.logLevel, Deno.env.get("ZT_LOG"));
  if (!level) fail(`bad log level "${o.logLevel}" (use debug, info, warn or error)`);
  const log = new Logger(level);
  let port: number | undefined;
  if (o.port !== undefined) {
    port = parsePort(o.port);
    if (port === undefined) fail(`bad port "${o.port}" (0..65535; 0 = random)`);
  }
  if (o.daemon) {
    const pid = daemonize(Deno.args);
    console.log(pid);
    Deno.exit(0);
  }
  const uid = Deno.uid();
  const home = resolveHomeDir({ arg: homeArg, env: (n) => Deno.env.get(n), isRoot: uid === 0 });
  if (!home) fail("cannot determine a home directory (give one: zt run <home>, or set ZT_HOME)");
  if (home === SYSTEM_HOME && uid !== 0 && uid !== null && !o.U) {
    fail(`${SYSTEM_HOME} needs root; run as root, give another home, or pass -U`);
  }
  let service: Service;
  try {
    service = await Service.start({ home, port, log, createNode });
  } catch (e) {
    if (e instanceof PortInUseError || e instanceof HomeError || e instanceof ServiceError) {
      fail(e.message);
    }
    fail(`cannot start: ${e instanceof Error ? e.stack ?? e.message : e}`);
  }
  const dispose = onShutdownSignal((sig) => {
    log.info(`zt: ${sig} received, shutting down`);
    setTimeout(() => Deno.exit(0), SHUTDOWN_DEADLINE_MS);
    void service.stop();
  });
  await service.stopped;
  dispose();
  Deno.exit(0);
}

/** Registers `zt run` on the program. */
export function registerRun(program: Command): void {
  addHomeOption(
    program
      .command("run")
      .description("run the node service (like zerotier-one)")
      .argument("[home]", "home directory (default $ZT_HOME, $ZEROTIER_HOME, or per user)"),
  )
    .option("-p, --port <port>", "primary UDP/API port (0 = random 20000-65499)")
    .option("-U", "skip the privilege check")
    .option("-d, --daemon", "run in the background (prints the pid)")
    .option("--log-level <level>", "debug, info, warn or error (or set ZT_LOG)")
    .action(async (home: string | undefined, _o: unknown, cmd: Command) => {
      await runService(home, mergedOptions(cmd) as RunOptions);
    });
}
