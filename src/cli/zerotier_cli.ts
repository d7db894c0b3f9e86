// `zt <command>`: the zerotier-cli commands (spec §11.5) over the local API, registered on the commander program.
import { parseJson64 } from "../util/json64.ts";
import { Command } from "commander";
import {
  apiRequest,
  type ApiResponse,
  type ApiTarget,
  CliError,
  resolveTarget,
  type TargetEnv,
  type TargetOptions,
} from "./api_client.ts";
import {
  formatGet,
  formatInfo,
  formatJson,
  formatListNetworks,
  formatListPeers,
  formatPeers,
} from "./cli_format.ts";
import { addTargetOptions, mergedOptions, stringOption } from "./cli_options.ts";

/** Where output goes, and the clock (injectable for tests). */
export interface CliIo {
  /** Writes to stdout (text includes its newlines). */
  out(text: string): void;
  /** Writes to stderr. */
  err(text: string): void;
  /** stderr is a terminal (shows the join spinner). */
  isTerminal: boolean;
  /** Current time, ms. */
  now(): number;
  /** Waits. */
  sleep(ms: number): Promise<void>;
  /** Ends the process with a status (commander actions call this for non-zero results). */
  exit(code: number): void;
}

/** The real stdout/stderr/clock. */
export function systemIo(): CliIo {
  const enc = new TextEncoder();
  return {
    out: (t) => void Deno.stdout.writeSync(enc.encode(t)),
    err: (t) => void Deno.stderr.writeSync(enc.encode(t)),
    isTerminal: Deno.stderr.isTerminal(),
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    exit: (code) => Deno.exit(code),
  };
}

/** Switches every command accepts (`-D -p -T -H -j`), plus join's. */
export interface CliOptions extends TargetOptions {
  /** Print the API's JSON instead of text. */
  json?: boolean;
  /** join: seconds to wait for the network (default 30). */
  timeout?: string;
  /** join: false = return right after the request. */
  wait?: boolean;
}

/** Default wait of `zt join`, seconds. */
export const DEFAULT_JOIN_TIMEOUT_S = 30;
/** Poll interval while `zt join` waits. */
const JOIN_POLL_MS = 250;
/** Network statuses that end a `zt join` wait unsuccessfully. */
export const JOIN_FAILURE_STATUSES = new Set([
  "ACCESS_DENIED",
  "NOT_FOUND",
  "PORT_ERROR",
  "CLIENT_TOO_OLD",
  "AUTHENTICATION_REQUIRED",
]);
/**
 * Exit statuses of `zt join` (also in its --help and the README): 0 the network is OK, 1 an
 * error (bad argument, service not running, API error), 2 ACCESS_DENIED, 3 NOT_FOUND, 4 gave up
 * waiting (the network stays joined), 5 another refusal (PORT_ERROR, CLIENT_TOO_OLD,
 * AUTHENTICATION_REQUIRED).
 */
export const JOIN_EXIT = {
  OK: 0,
  ERROR: 1,
  ACCESS_DENIED: 2,
  NOT_FOUND: 3,
  TIMEOUT: 4,
  REFUSED: 5,
} as const;

/** The exit status of `zt join` for a final network status. */
export function joinExitCode(status: string): number {
  if (status === "OK") return JOIN_EXIT.OK;
  if (status === "ACCESS_DENIED") return JOIN_EXIT.ACCESS_DENIED;
  if (status === "NOT_FOUND") return JOIN_EXIT.NOT_FOUND;
  return JOIN_EXIT.REFUSED;
}

/** Help text listing the exit statuses of `zt join`. */
export const JOIN_EXIT_HELP = `
Exit status:
  0  the network is OK
  1  error (bad argument, service not running, API error)
  2  ACCESS_DENIED: the controller refused (authorize the member on the controller)
  3  NOT_FOUND: the controller has no such network
  4  gave up waiting (--timeout); the network stays joined (zt leave <nwid> to leave)
  5  another refusal: PORT_ERROR (no virtual interface), CLIENT_TOO_OLD, AUTHENTICATION_REQUIRED`;

/**
 * Why a network may be in PORT_ERROR on this host, from the state of `/dev/net/tun` (`stat` is
 * injectable for tests): absent, not a device, or its mode.
 */
export function portErrorHint(
  stat: (path: string) => { isCharDevice: boolean | null; mode: number | null } = Deno.statSync,
): string {
  let s: { isCharDevice: boolean | null; mode: number | null };
  try {
    s = stat("/dev/net/tun");
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return "/dev/net/tun does not exist: load the tun module (modprobe tun) or, in a " +
        "container, pass the device in (--device /dev/net/tun)";
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      return "/dev/net/tun cannot be inspected (permission denied); the service needs root or " +
        "CAP_NET_ADMIN and read/write access to it";
    }
    return `/dev/net/tun: ${e instanceof Error ? e.message : e}`;
  }
  if (s.isCharDevice === false) return "/dev/net/tun is not a character device";
  const mode = s.mode === null ? "?" : (s.mode & 0o777).toString(8).padStart(4, "0");
  return `the service could not create the network's interface; /dev/net/tun has mode ${mode}: ` +
    "the service needs root or CAP_NET_ADMIN and read/write access to it (see its log)";
}

/** Settings `zt set` accepts. */
const SETTINGS = ["allowManaged", "allowGlobal", "allowDefault", "allowDNS"];
/** The zerotier-cli command names handled here (besides raw `/path`). */
export const CLI_COMMANDS = [
  "info",
  "status",
  "listpeers",
  "peers",
  "listnetworks",
  "join",
  "leave",
  "set",
  "get",
  "listmoons",
  "orbit",
  "deorbit",
];

/** A 16-hex-digit network id, lower-cased, or undefined. */
export function parseNetworkId(s: string | undefined): string | undefined {
  return s !== undefined && /^[0-9a-fA-F]{16}$/.test(s) ? s.toLowerCase() : undefined;
}

/** 0 and 0xff.......... are never node addresses (nor moon ids, nor controllers). */
function isReservedAddress(v: bigint): boolean {
  return v === 0n || v >> 32n === 0xffn;
}

/** A world id for the API's 10-hex-digit route (must fit in 40 bits), or undefined. */
export function parseWorldId(s: string | undefined): string | undefined {
  if (s === undefined || !/^[0-9a-fA-F]{1,16}$/.test(s)) return undefined;
  const v = BigInt("0x" + s);
  return v !== 0n && v < (1n << 40n) && !isReservedAddress(v)
    ? v.toString(16).padStart(10, "0")
    : undefined;
}

/** A 10-hex-digit address (1-10 digits accepted, non-zero), or undefined. */
export function parseAddress(s: string | undefined): string | undefined {
  if (s === undefined || !/^[0-9a-fA-F]{1,10}$/.test(s)) return undefined;
  return isReservedAddress(BigInt("0x" + s)) ? undefined : s.toLowerCase().padStart(10, "0");
}

/** `1/t/true` → true, `0/f/false` → false. */
function parseBool(s: string): boolean | undefined {
  const v = s.toLowerCase();
  if (v === "1" || v === "t" || v === "true") return true;
  if (v === "0" || v === "f" || v === "false") return false;
  return undefined;
}

/** Parses an API body as JSON, 64-bit integers exact (undefined if it is not JSON). */
function parseBody(r: ApiResponse): unknown {
  try {
    return parseJson64(r.body);
  } catch {
    return undefined;
  }
}

/** Prints the reference's error line `<code> <command> <body>`; returns exit status 1. */
function apiFailure(io: CliIo, command: string, r: ApiResponse): number {
  io.out(`${r.status} ${command} ${r.body.trim()}\n`);
  if (r.status === 401) io.err("zt: the service refused the auth token (use -T or -D)\n");
  return 1;
}

/** Spinner frames for `zt join` on a terminal. */
const SPINNER = ["|", "/", "-", "\\"];

/** `zt join`: request, then wait for a final status unless told not to. */
async function join(
  t: ApiTarget,
  nwid: string,
  o: CliOptions,
  io: CliIo,
): Promise<number> {
  let timeoutS = DEFAULT_JOIN_TIMEOUT_S;
  if (o.timeout !== undefined) {
    timeoutS = Number(o.timeout);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(o.timeout) || !(timeoutS > 0) || timeoutS > 86400) {
      io.err(`zt: bad --timeout "${o.timeout}" (seconds, > 0)\n`);
      return 1;
    }
  }
  const r = await apiRequest(t, "POST", `/network/${nwid}`, {});
  if (r.status !== 200) return apiFailure(io, "join", r);
  if (o.wait === false) {
    io.out(o.json ? formatJson(parseBody(r)) : "200 join OK\n");
    return 0;
  }
  if (!o.json) io.out("200 join OK\n");
  const deadline = io.now() + timeoutS * 1000;
  let status = "REQUESTING_CONFIGURATION";
  let net: unknown = parseBody(r);
  for (let i = 0;; i++) {
    if (typeof net === "object" && net !== null && "status" in net) {
      status = String((net as { status: unknown }).status);
    }
    if (status === "OK" || JOIN_FAILURE_STATUSES.has(status)) break;
    if (io.now() >= deadline) {
      if (io.isTerminal) io.err("\r\x1b[K");
      io.err(
        `zt: join ${nwid}: still ${status} after ${timeoutS} s; gave up waiting, but the ` +
          `network stays joined (zt leave ${nwid} to leave it)\n`,
      );
      return JOIN_EXIT.TIMEOUT;
    }
    if (io.isTerminal) io.err(`\r${SPINNER[i % SPINNER.length]} waiting for ${nwid}: ${status}`);
    await io.sleep(JOIN_POLL_MS);
    const g = await apiRequest(t, "GET", `/network/${nwid}`);
    if (g.status === 404) {
      status = "NOT_FOUND";
      net = undefined;
      break;
    }
    if (g.status !== 200) {
      if (io.isTerminal) io.err("\r\x1b[K");
      return apiFailure(io, "join", g);
    }
    net = parseBody(g);
  }
  if (io.isTerminal) io.err("\r\x1b[K");
  io.out(o.json ? formatJson(net ?? { status }) : `200 join ${nwid} ${status}\n`);
  if (status === "PORT_ERROR") io.err(`zt: ${portErrorHint()}\n`);
  return joinExitCode(status);
}

/**
 * Runs one zerotier-cli command (`command` is a name from {@link CLI_COMMANDS} or a raw `/path`)
 * and returns the exit status. Never throws for expected failures: they are printed.
 */
export async function runCliCommand(
  command: string,
  args: string[],
  o: CliOptions,
  io: CliIo,
  env?: TargetEnv,
): Promise<number> {
  // argument checks first: a bad argument sends no request
  let nwid: string | undefined;
  if (["join", "leave", "set", "get"].includes(command)) {
    nwid = parseNetworkId(args[0]);
    if (!nwid) {
      io.err(`zt: invalid network id "${args[0] ?? ""}" (expected 16 hex digits)\n`);
      return 1;
    }
    if (command === "join" && isReservedAddress(BigInt("0x" + nwid) >> 24n)) {
      io.err(
        `zt: network id ${nwid} cannot be joined: its controller address ` +
          `${nwid.slice(0, 10)} is reserved\n`,
      );
      return 1;
    }
  }
  let setting: { name: string; value: boolean } | undefined;
  if (command === "set") {
    const m = /^([A-Za-z]+)=(.*)$/.exec(args[1] ?? "");
    const value = m ? parseBool(m[2]) : undefined;
    if (!m || !SETTINGS.includes(m[1]) || value === undefined) {
      io.err(
        `zt: bad setting "${args[1] ?? ""}" (use ${SETTINGS.join("|")}=<1|0|true|false>)\n`,
      );
      return 1;
    }
    setting = { name: m[1], value };
  }
  let worldId: string | undefined;
  let seed: string | undefined;
  if (command === "orbit" || command === "deorbit") {
    worldId = parseWorldId(args[0]);
    if (!worldId) {
      io.err(
        `zt: invalid world id "${args[0] ?? ""}" (hex, at most 40 bits, not a reserved address)\n`,
      );
      return 1;
    }
    if (command === "orbit") {
      seed = parseAddress(args[1]);
      if (!seed) {
        io.err(
          `zt: invalid seed "${
            args[1] ?? ""
          }" (the moon root's 10-hex-digit address, not reserved)\n`,
        );
        return 1;
      }
    }
  }
  if (command.startsWith("/") && !/^\/[\x21-\x7e]*$/.test(command)) {
    io.err(`zt: bad path "${command}"\n`);
    return 1;
  }
  try {
    const t = resolveTarget(o, env);
    if (command.startsWith("/")) {
      const r = await apiRequest(t, "GET", command);
      if (r.status !== 200) return apiFailure(io, command, r);
      io.out(r.body.endsWith("\n") ? r.body : r.body + "\n");
      return 0;
    }
    switch (command) {
      case "info":
      case "status": {
        const r = await apiRequest(t, "GET", "/status");
        if (r.status !== 200) return apiFailure(io, "info", r);
        io.out(o.json ? formatJson(parseBody(r)) : formatInfo(parseBody(r)));
        return 0;
      }
      case "listpeers":
      case "peers": {
        const r = await apiRequest(t, "GET", "/peer");
        if (r.status !== 200) return apiFailure(io, command, r);
        const peers = parseBody(r);
        if (o.json) io.out(formatJson(peers));
        else if (command === "peers") io.out(formatPeers(peers, io.now()));
        else io.out(formatListPeers(peers, io.now()));
        return 0;
      }
      case "listnetworks": {
        const r = await apiRequest(t, "GET", "/network");
        if (r.status !== 200) return apiFailure(io, command, r);
        io.out(o.json ? formatJson(parseBody(r)) : formatListNetworks(parseBody(r)));
        return 0;
      }
      case "join":
        return await join(t, nwid!, o, io);
      case "leave": {
        const r = await apiRequest(t, "DELETE", `/network/${nwid}`);
        if (r.status !== 200) return apiFailure(io, command, r);
        io.out(o.json ? formatJson(parseBody(r)) : "200 leave OK\n");
        return 0;
      }
      case "set": {
        const r = await apiRequest(t, "POST", `/network/${nwid}`, {
          [setting!.name]: setting!.value,
        });
        if (r.status !== 200) return apiFailure(io, command, r);
        io.out(formatJson(parseBody(r)));
        return 0;
      }
      case "get": {
        const r = await apiRequest(t, "GET", "/network");
        if (r.status !== 200) return apiFailure(io, command, r);
        const list = parseBody(r);
        const net = Array.isArray(list)
          ? list.find((n) =>
            typeof n === "object" && n !== null && (n.nwid === nwid || n.id === nwid)
          )
          : undefined;
        if (!net) {
          io.err(`zt: not joined to network ${nwid}\n`);
          return 1;
        }
        const text = formatGet(net, args[1] ?? "");
        if (text === undefined) {
          io.err(`zt: network ${nwid} has no property "${args[1] ?? ""}"\n`);
          return 1;
        }
        io.out(text);
        return 0;
      }
      case "listmoons": {
        const r = await apiRequest(t, "GET", "/moon");
        if (r.status !== 200) return apiFailure(io, command, r);
        io.out(formatJson(parseBody(r)));
        return 0;
      }
      case "orbit": {
        const r = await apiRequest(t, "POST", `/moon/${worldId}`, { seed });
        if (r.status !== 200) return apiFailure(io, command, r);
        io.out(o.json ? formatJson(parseBody(r)) : "200 orbit OK\n");
        return 0;
      }
      case "deorbit": {
        const r = await apiRequest(t, "DELETE", `/moon/${worldId}`);
        if (r.status !== 200) return apiFailure(io, command, r);
        io.out(o.json ? formatJson(parseBody(r)) : "200 deorbit OK\n");
        return 0;
      }
      default:
        io.err(`zt: unknown command "${command}" (try zt --help)\n`);
        return 1;
    }
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`zt: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Commander's merged option bag → {@link CliOptions}. */
function toOptions(raw: Record<string, unknown>): CliOptions {
  return {
    home: stringOption(raw, "home"),
    port: stringOption(raw, "port"),
    token: stringOption(raw, "token"),
    host: stringOption(raw, "host"),
    json: raw.json === true,
    timeout: stringOption(raw, "timeout"),
    wait: raw.wait !== false,
  };
}

/**
 * Registers the zerotier-cli commands on `program` (each a subcommand sharing `-D -p -T -H -j`,
 * accepted before or after the command, attached like `-p9993`) and raw `zt /path`. Turns on
 * commander's positional options so `zt run -p` keeps its own meaning.
 */
export function registerZerotierCli(program: Command, io: CliIo = systemIo()): void {
  program.enablePositionalOptions();
  addTargetOptions(program);
  const run = async (name: string, args: string[], cmd: Command) => {
    const code = await runCliCommand(name, args, toOptions(mergedOptions(cmd)), io);
    if (code !== 0) io.exit(code);
  };
  const sub = (name: string, description: string) =>
    addTargetOptions(program.command(name).description(description));

  sub("info", "node address, version and status (GET /status)").alias("status")
    .action((_o, cmd: Command) => run("info", [], cmd));
  sub("listpeers", "peers, one line each (GET /peer)")
    .action((_o, cmd: Command) => run("listpeers", [], cmd));
  sub("peers", "peers as a table (GET /peer)")
    .action((_o, cmd: Command) => run("peers", [], cmd));
  sub("listnetworks", "joined networks (GET /network)")
    .action((_o, cmd: Command) => run("listnetworks", [], cmd));
  sub("join", "join a network and wait until it is configured or refused")
    .argument("<nwid>", "16-hex-digit network id")
    .option("--timeout <seconds>", `how long to wait (default ${DEFAULT_JOIN_TIMEOUT_S})`)
    .option("--no-wait", "return right after the request")
    .addHelpText("after", JOIN_EXIT_HELP)
    .action((nwid: string, _o, cmd: Command) => run("join", [nwid], cmd));
  sub("leave", "leave a network")
    .argument("<nwid>", "16-hex-digit network id")
    .action((nwid: string, _o, cmd: Command) => run("leave", [nwid], cmd));
  sub("set", "set allowManaged|allowGlobal|allowDefault|allowDNS=<1|0> on a network")
    .argument("<nwid>", "16-hex-digit network id")
    .argument("<setting>", "<name>=<value>")
    .action((nwid: string, setting: string, _o, cmd: Command) => run("set", [nwid, setting], cmd));
  sub("get", "print one property of a network (or ip, ip4, ip6, ip6plane, ip6prefix)")
    .argument("<nwid>", "16-hex-digit network id")
    .argument("<field>", "property name")
    .action((nwid: string, field: string, _o, cmd: Command) => run("get", [nwid, field], cmd));
  sub("listmoons", "moons orbited (GET /moon)")
    .action((_o, cmd: Command) => run("listmoons", [], cmd));
  sub("orbit", "orbit a moon")
    .argument("<worldId>", "moon world id (hex)")
    .argument("<seed>", "address of a root of the moon")
    .action((w: string, seed: string, _o, cmd: Command) => run("orbit", [w, seed], cmd));
  sub("deorbit", "stop orbiting a moon")
    .argument("<worldId>", "moon world id (hex)")
    .action((w: string, _o, cmd: Command) => run("deorbit", [w], cmd));

  program
    .argument("[path]", "raw GET of a local API path, e.g. /status")
    .action(async (path: string | undefined, _o, cmd: Command) => {
      if (path === undefined) {
        program.outputHelp();
        return;
      }
      if (!path.startsWith("/")) {
        io.err(`zt: unknown command "${path}" (try zt --help)\n`);
        io.exit(1);
        return;
      }
      await run(path, [], cmd);
    });
}
