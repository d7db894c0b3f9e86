// `zt relay`: run a TCP fallback relay (the protocol of ZeroTier One's tcp-proxy) until SIGINT/SIGTERM.
import { Command, Option } from "commander";
import { InetAddress } from "../vl1/inet_address.ts";
import { Logger, resolveLogLevel } from "../service/logger.ts";
import { onShutdownSignal } from "../service/signals.ts";
import {
  DEFAULT_RELAY_IDLE_MS,
  DEFAULT_RELAY_MAX_CONNECTIONS,
  DEFAULT_RELAY_PORT,
  DEFAULT_RELAY_WRITE_BUFFER,
} from "../service/tcp_relay_defaults.ts";
// The server (and prom-client, for its metrics) is loaded only when `zt relay` runs, so every
// other command (a member's `zt run` included) does not carry it.
import type { TcpRelayServer } from "../service/tcp_relay_server.ts";

/** Options of `zt relay` as commander hands them over. */
interface RelayCliOptions {
  port: string;
  bind?: string;
  allow: string[];
  maxConnections: string;
  idleTimeout: string;
  writeBuffer: string;
  metricsPort?: string;
  logLevel?: string;
}

/** Prints `zt relay: <msg>` to stderr and exits with status 1. */
function fail(msg: string): never {
  console.error(`zt relay: ${msg}`);
  Deno.exit(1);
}

/** A whole number in [min, max], or undefined. */
function intIn(s: string, min: number, max: number): number | undefined {
  if (!/^[0-9]{1,10}$/.test(s.trim())) return undefined;
  const n = Number(s.trim());
  return n >= min && n <= max ? n : undefined;
}

/** Parsed, validated options of `zt relay`. */
export interface RelaySettings {
  /** TCP port. */
  port: number;
  /** Listen address (undefined = 0.0.0.0). */
  bind: string | undefined;
  /** Allowed client networks. */
  allow: InetAddress[];
  /** Connection cap. */
  maxConnections: number;
  /** Idle timeout, ms. */
  idleMs: number;
  /** Write buffer per connection, bytes. */
  writeBufferBytes: number;
  /** Port of the metrics endpoint on 127.0.0.1 (undefined = none). */
  metricsPort: number | undefined;
}

/** Validates the options; returns settings or an error message. */
export function parseRelayOptions(o: RelayCliOptions): RelaySettings | string {
  const port = intIn(o.port, 0, 65535);
  if (port === undefined) return `bad --port "${o.port}" (0..65535)`;
  if (o.bind !== undefined && !InetAddress.fromIp(o.bind)) {
    return `bad --bind "${o.bind}" (an IPv4 or IPv6 address)`;
  }
  const allow: InetAddress[] = [];
  for (const c of o.allow) {
    const text = c.includes("/") ? c : `${c}/${c.includes(":") ? 128 : 32}`;
    const a = InetAddress.parse(text);
    const bits = a ? a.port : -1;
    if (!a || bits > (a.family === 4 ? 32 : 128)) {
      return `bad --allow "${c}" (a CIDR like 10.0.0.0/8)`;
    }
    allow.push(a);
  }
  const maxConnections = intIn(o.maxConnections, 1, 1_000_000);
  if (maxConnections === undefined) return `bad --max-connections "${o.maxConnections}"`;
  const idle = intIn(o.idleTimeout, 1, 86400);
  if (idle === undefined) return `bad --idle-timeout "${o.idleTimeout}" (seconds, 1..86400)`;
  const writeBufferBytes = intIn(o.writeBuffer, 4096, 64 * 1024 * 1024);
  if (writeBufferBytes === undefined) {
    return `bad --write-buffer "${o.writeBuffer}" (bytes, 4096..67108864)`;
  }
  let metricsPort: number | undefined;
  if (o.metricsPort !== undefined) {
    metricsPort = intIn(o.metricsPort, 1, 65535);
    if (metricsPort === undefined) return `bad --metrics-port "${o.metricsPort}"`;
  }
  return {
    port,
    bind: o.bind,
    allow,
    maxConnections,
    idleMs: idle * 1000,
    writeBufferBytes,
    metricsPort,
  };
}

/** Runs the relay until a shutdown signal. */
async function runRelay(o: RelayCliOptions): Promise<void> {
  const level = resolveLogLevel(o.logLevel, Deno.env.get("ZT_LOG"));
  if (!level) fail(`bad log level "${o.logLevel}" (use debug, info, warn or error)`);
  const log = new Logger(level);
  const s = parseRelayOptions(o);
  if (typeof s === "string") fail(s);
  const { serveRelayMetrics, TcpRelayServer: Server } = await import(
    "../service/tcp_relay_server.ts"
  );
  let relay: TcpRelayServer;
  try {
    relay = Server.start({ log, ...s });
  } catch (e) {
    fail(
      `cannot listen on TCP ${s.bind ?? "0.0.0.0"}/${s.port}: ${
        e instanceof Error ? e.message : e
      }`,
    );
  }
  let metrics: Deno.HttpServer | undefined;
  if (s.metricsPort !== undefined) {
    try {
      metrics = serveRelayMetrics(relay, "127.0.0.1", s.metricsPort);
    } catch (e) {
      await relay.close();
      fail(
        `cannot serve metrics on 127.0.0.1:${s.metricsPort}: ${e instanceof Error ? e.message : e}`,
      );
    }
  }
  log.info(
    `zt relay: listening on TCP ${s.bind ?? "0.0.0.0"}/${relay.port}` +
      (s.allow.length ? ` for ${s.allow.map((a) => a.toString()).join(" ")}` : " for everyone") +
      (s.metricsPort !== undefined ? `; metrics on http://127.0.0.1:${s.metricsPort}/metrics` : ""),
  );
  const done = Promise.withResolvers<void>();
  const dispose = onShutdownSignal((sig) => {
    log.info(`zt relay: ${sig} received, shutting down`);
    done.resolve();
  });
  await done.promise;
  dispose();
  await metrics?.shutdown().catch(() => {});
  await relay.close();
  Deno.exit(0);
}

/** Builds `zt relay`. */
export function relayCommand(): Command {
  return new Command("relay")
    .description("run a TCP fallback relay (what ZeroTier One's tcpFallbackRelay points at)")
    .option("--port <port>", "TCP port", String(DEFAULT_RELAY_PORT))
    .option("--bind <addr>", "listen address (default 0.0.0.0)")
    .addOption(
      new Option("--allow <cidr>", "client network allowed to connect (repeat)")
        .argParser((v: string, prev: string[]) => [...prev, v])
        .default([] as string[], "everyone"),
    )
    .option("--max-connections <n>", "connection cap", String(DEFAULT_RELAY_MAX_CONNECTIONS))
    .option(
      "--idle-timeout <s>",
      "close idle connections after s seconds",
      String(DEFAULT_RELAY_IDLE_MS / 1000),
    )
    .option(
      "--write-buffer <bytes>",
      "bytes queued per client before dropping",
      String(DEFAULT_RELAY_WRITE_BUFFER),
    )
    .option("--metrics-port <port>", "serve Prometheus metrics on 127.0.0.1:<port>/metrics")
    .option("--log-level <level>", "debug, info, warn or error (or set ZT_LOG)")
    .action(async (o: RelayCliOptions) => {
      await runRelay(o);
    });
}
