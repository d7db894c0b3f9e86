// `zt run [home]`: the node service (zerotier-one's switches -p, -U, -d; --log-level / ZT_LOG; log file).
import type { Command } from "commander";
import { addHomeOption, mergedOptions } from "./cli_options.ts";
import { HomeError, resolveHomeDir, SYSTEM_HOME } from "../service/home.ts";
import { HomeLock, HomeLockedError } from "../service/home_lock.ts";
import { Logger, resolveLogLevel } from "../service/logger.ts";
import {
  DEFAULT_LOG_KEEP,
  DEFAULT_LOG_MAX_BYTES,
  LOG_FILE_NAME,
  LogFile,
} from "../service/log_file.ts";
import { daemonize } from "../service/daemonize.ts";
import { DEFAULT_LOCAL_CONF_POLL_MS } from "../service/local_conf_reload.ts";
import { createNode } from "../service/node_factory.ts";
import { Service, ServiceError } from "../service/service.ts";
import type { IdleTrimOptions } from "../service/memory_trim.ts";
import { onShutdownSignal } from "../service/signals.ts";
import { PortInUseError } from "../service/udp_transport.ts";
import {
  DEFAULT_PROXY_ADDR,
  kernelTapLikely,
  type UserspaceSettings,
  userspaceSettings,
} from "../service/userspace_settings.ts";

/** Longest a clean shutdown may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 2000;
/** A non-negative number of ms from environment variable `name`, else `dflt`. */
function envMs(name: string, dflt: number): number {
  const raw = Deno.env.get(name)?.trim();
  const v = raw ? Number(raw) : NaN;
  return Number.isFinite(v) && v >= 0 ? v : dflt;
}
/**
 * When the node trims its resident set after start (`src/service/memory_trim.ts`): start-up and
 * the first joins have settled by then. `ZT_MEMORY_TRIM_MS` overrides it (tests).
 */
function memoryTrimAfterMs(): number {
  return envMs("ZT_MEMORY_TRIM_MS", 20_000);
}
/**
 * When a node trims again after start (see `IdleTrimPolicy`): quiet for `ZT_MEMORY_IDLE_MS`
 * (default 20 s; 0 turns the idle trims off) after `ZT_MEMORY_IDLE_WORK_MS` of CPU work (default
 * 250 ms). The variables are for tests.
 */
function memoryIdleTrim(): IdleTrimOptions {
  return {
    quietMs: envMs("ZT_MEMORY_IDLE_MS", 20_000),
    minWorkMs: envMs("ZT_MEMORY_IDLE_WORK_MS", 250),
  };
}
/** How long `-d` waits for the background node to report that it started. */
const DAEMON_START_WAIT_MS = 15_000;
/** Environment variable naming the log file (set by `-d` for the background node). */
export const LOG_FILE_ENV = "ZT_LOG_FILE";

/** Options of `zt run` (and `zt controller serve`). */
export interface RunOptions {
  /** `-D, --home` (the positional home wins; both given and different is an error). */
  home?: string;
  port?: string;
  U?: boolean;
  daemon?: boolean;
  logLevel?: string;
  logFile?: string;
  planetFallback?: boolean;
  userspace?: boolean;
  proxy?: string;
  forward?: string[];
  expose?: string[];
  /** `zt controller serve --db`: controller database (path or PostgreSQL), over local.conf. */
  db?: string;
}

/** The log file in use (errors that end the process are written there too). */
let logFile: LogFile | undefined;

/** Prints `zt: <msg>` to stderr (and the log file, if any) and exits with status 1. */
function fail(msg: string): never {
  logFile?.write(`${new Date().toISOString()} error: ${msg}`);
  console.error(`zt: ${msg}`);
  Deno.exit(1);
}

/** Parses the `-p` value: 0..65535. */
function parsePort(s: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/** `path` made absolute against the current directory. */
function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/** Size of a file, 0 if it does not exist. */
function sizeOf(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/** Modification time of a file in ms, 0 if it does not exist. */
function mtimeOf(path: string): number {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

/** True while a process with this pid exists (and is not a zombie). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/**
 * `-d`: starts the background node (same flags, logging to `logPath`), waits until it wrote
 * `<home>/zerotier-one.port` or exited, and reports which. Returns the exit status.
 */
async function startDaemon(home: string, logPath: string): Promise<number> {
  try {
    Deno.mkdirSync(home, { recursive: true, mode: 0o700 });
    new LogFile(logPath).close();
  } catch (e) {
    fail(`cannot write the log file ${logPath}: ${e instanceof Error ? e.message : e}`);
  }
  const logStart = sizeOf(logPath);
  const portFile = `${home}/zerotier-one.port`;
  const before = mtimeOf(portFile);
  const started = Date.now();
  const pid = daemonize(Deno.args, { [LOG_FILE_ENV]: logPath });
  for (let waited = 0; waited < DAEMON_START_WAIT_MS; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    const m = mtimeOf(portFile);
    if (m !== before && m >= started - 1000) break;
    if (!alive(pid)) {
      let tail = "";
      try {
        const bytes = Deno.readFileSync(logPath);
        tail = new TextDecoder().decode(bytes.subarray(logStart <= bytes.length ? logStart : 0));
      } catch {
        // no log to show
      }
      const last = tail.trim().split("\n").slice(-5).join("\n");
      console.error(`zt: the background node exited while starting (see ${logPath})`);
      if (last) console.error(last);
      return 1;
    }
  }
  console.log(pid);
  console.error(`zt: running in the background (pid ${pid}), logging to ${logPath}`);
  return 0;
}

/** Runs the service until SIGINT/SIGTERM. */
export async function runService(homeArg: string | undefined, o: RunOptions): Promise<void> {
  if (homeArg !== undefined && o.home !== undefined && homeArg !== o.home) {
    fail(`two homes given: ${homeArg} and -D ${o.home}`);
  }
  homeArg ??= o.home;
  const level = resolveLogLevel(o.logLevel, Deno.env.get("ZT_LOG"));
  if (!level) fail(`bad log level "${o.logLevel}" (use debug, info, warn or error)`);
  let port: number | undefined;
  if (o.port !== undefined) {
    port = parsePort(o.port);
    if (port === undefined) fail(`bad port "${o.port}" (0..65535; 0 = random)`);
  }
  const uid = Deno.uid();
  const home = resolveHomeDir({ arg: homeArg, env: (n) => Deno.env.get(n), isRoot: uid === 0 });
  if (!home) fail("cannot determine a home directory (give one: zt run <home>, or set ZT_HOME)");
  if (home === SYSTEM_HOME && uid !== 0 && uid !== null && !o.U) {
    fail(`${SYSTEM_HOME} needs root; run as root, give another home, or pass -U`);
  }
  if (o.daemon) {
    // The detached child takes the home lock itself; this check only fails early, here.
    try {
      HomeLock.check(home);
    } catch (e) {
      if (e instanceof HomeLockedError) fail(e.message);
    }
    Deno.exit(await startDaemon(home, absolute(o.logFile ?? `${home}/${LOG_FILE_NAME}`)));
  }
  const logPath = o.logFile ?? Deno.env.get(LOG_FILE_ENV);
  if (logPath) {
    try {
      logFile = new LogFile(logPath);
    } catch (e) {
      fail(`cannot open the log file ${logPath}: ${e instanceof Error ? e.message : e}`);
    }
    const file = logFile;
    const report = (what: string, e: unknown) =>
      file.write(`${new Date().toISOString()} error: ${what}: ${e instanceof Error ? e.stack : e}`);
    globalThis.addEventListener("error", (ev) => report("uncaught", ev.error));
    globalThis.addEventListener("unhandledrejection", (ev) => report("unhandled", ev.reason));
  }
  const log = new Logger(level, logFile?.sink());
  let us: UserspaceSettings;
  try {
    us = userspaceSettings(home, o);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  // the userspace stacks and proxy are loaded only in userspace mode
  const userspace = us.enabled
    ? new (await import("../service/userspace_mode.ts")).UserspaceMode()
    : undefined;
  if (!userspace && !kernelTapLikely()) {
    log.warn(
      "no root/CAP_NET_ADMIN or no /dev/net/tun: networks will get no interface (PORT_ERROR). " +
        "Run `zt run --userspace` for zt's own network stack (no TAP, no root) with a SOCKS5 / " +
        `HTTP CONNECT proxy on ${DEFAULT_PROXY_ADDR}`,
    );
  }
  let service: Service;
  try {
    service = await Service.start({
      home,
      port,
      log,
      createNode,
      planetFallback: o.planetFallback === true,
      ...(userspace
        ? {
          createTap: () => userspace.net.createTap(),
          onTransportOpened: (kind: string) => userspace.net.transportOpened(kind),
          deviceName: (nwid: bigint) => `userspace-${nwid.toString(16).padStart(16, "0")}`,
        }
        : {}),
      controllerDb: o.db,
      memoryTrimAfterMs: memoryTrimAfterMs(),
      memoryIdleTrim: memoryIdleTrim(),
    });
    userspace?.start(us, log, () => service.networks?.infos() ?? []);
  } catch (e) {
    if (e instanceof PortInUseError || e instanceof HomeError || e instanceof ServiceError) {
      fail(e.message);
    }
    fail(`cannot start: ${e instanceof Error ? e.stack ?? e.message : e}`);
  }
  const dispose = onShutdownSignal((sig) => {
    log.info(`zt: ${sig} received, shutting down`);
    setTimeout(() => Deno.exit(0), SHUTDOWN_DEADLINE_MS);
    void userspace?.close();
    void service.stop();
  });
  await service.stopped;
  dispose();
  logFile?.close();
  Deno.exit(0);
}

const MIB = 1024 * 1024;

/** Commander collector for repeatable options. */
function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/**
 * Adds the options of the node service (`-p`, `-U`, `-d`, `--log-level`, `--log-file`,
 * `--planet-fallback`) and its help note; shared by `zt run` and `zt controller serve`.
 */
export function addRunOptions(c: Command): Command {
  return c
    .option("-p, --port <port>", "primary UDP/API port (0 = random 20000-65499)")
    .option("-U", "skip the privilege check")
    .option(
      "-d, --daemon",
      `run in the background with the same flags; prints the pid once the node is up and logs ` +
        `to <home>/${LOG_FILE_NAME} (or --log-file)`,
    )
    .option("--log-level <level>", "debug, info, warn or error (or set ZT_LOG)")
    .option(
      "--log-file <path>",
      `log to this file instead of stderr (or set ${LOG_FILE_ENV}); rotated at ` +
        `${DEFAULT_LOG_MAX_BYTES / MIB} MiB, keeping ${DEFAULT_LOG_KEEP} old files (.1 newest)`,
    )
    .option("--userspace", "zt's own network stack per network: no TAP, no root, no /dev/net/tun")
    .option(
      "--proxy <addr>",
      `userspace: SOCKS5 + HTTP CONNECT proxy address (default ${DEFAULT_PROXY_ADDR}; off = none)`,
    )
    .option(
      "--forward <spec>",
      "userspace: tcp:LOCALPORT=OVERLAYIP:PORT, listen on 127.0.0.1:LOCALPORT into the overlay",
      collect,
    )
    .option(
      "--expose <spec>",
      "userspace: tcp:OVERLAYPORT=127.0.0.1:PORT, make a local service reachable from the overlay",
      collect,
    )
    .option(
      "--planet-fallback",
      "if <home>/planet does not parse, warn and use ZeroTier's public roots instead of stopping",
    )
    .addHelpText(
      "after",
      `
Without a planet file in the home, the node uses ZeroTier's public roots.
local.conf is re-read while running (every ${
        DEFAULT_LOCAL_CONF_POLL_MS / 1000
      } s): most settings apply at once;
ports, bind addresses, the TCP relay, port mapping, the HTTPS port and the controller database
are logged as needing a restart.`,
    );
}

/**
 * Registers `zt run` on the program; `action` (default {@link runService}) gets the positional
 * home and the merged options.
 */
export function registerRun(
  program: Command,
  action: (home: string | undefined, o: RunOptions) => Promise<void> = runService,
): void {
  addRunOptions(addHomeOption(
    program
      .command("run")
      .description("run the node service (like zerotier-one)")
      .argument("[home]", "home directory (default $ZT_HOME, $ZEROTIER_HOME, or per user)"),
  ))
    .action(async (home: string | undefined, _o: unknown, cmd: Command) => {
      await action(home, mergedOptions(cmd) as RunOptions);
    });
}
