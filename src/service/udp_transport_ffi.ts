// The node's UDP sockets through FFI on Linux (batched receive), and the choice between it and node:dgram.
import {
  bindUdpSocket,
  type BoundUdpSocket,
  EADDRINUSE,
  LinuxUdp,
  type LinuxUdpCounters,
} from "../../ffi/udp_linux.ts";
import { LibcError } from "../../ffi/libc.ts";
import { InetAddress } from "../vl1/inet_address.ts";
import type { Logger } from "./logger.ts";
import {
  PortInUseError,
  UdpTransport,
  type UdpTransportApi,
  type UdpTransportOptions,
  type UdpTransportStats,
} from "./udp_transport.ts";

/** Which implementation {@link openUdpTransport} uses. */
export type UdpTransportKind = "ffi" | "dgram";

/** Options of {@link openUdpTransport}. */
export interface OpenUdpTransportOptions extends UdpTransportOptions {
  /**
   * "auto" (default): FFI on Linux when it works, node:dgram otherwise; "ffi" / "dgram" force
   * one (a forced "ffi" that cannot work throws). The environment variable `ZT_UDP=ffi|dgram`
   * overrides "auto".
   */
  impl?: "auto" | UdpTransportKind;
  /** Socket buffer bytes to ask for (FFI only; default 4 MiB). */
  bufferBytes?: number;
}

/** The FFI loop's own counters that {@link FfiUdpTransport.stats} passes on (see LinuxUdpCounters). */
const FFI_COUNTERS = [
  "sendDropped",
  "polls",
  "batches",
  "fullBatches",
  "queued",
  "sendCalls",
  "truncated",
  "gsoMessages",
  "gsoDatagrams",
  "groBuffers",
  "groDatagrams",
] as const;

/**
 * Statistics of the FFI transport: the common counters (`sendErrors` includes `sendDropped`)
 * plus the FFI loop's own, as {@link LinuxUdpCounters} documents them.
 */
export type FfiUdpTransportStats =
  & UdpTransportStats
  & Pick<LinuxUdpCounters, typeof FFI_COUNTERS[number]>;

/** Whether UDP GSO/GRO may be used: not when the environment says `ZT_UDP_GSO=0`. */
export function udpOffloadAllowed(): boolean {
  try {
    return Deno.env.get("ZT_UDP_GSO")?.trim() !== "0";
  } catch {
    return true; // no env permission: the default
  }
}

/** True for an "address in use" failure from bind. */
function isAddrInUse(e: unknown): boolean {
  return e instanceof LibcError && e.errno === EADDRINUSE;
}

/** The UDP transport built on {@link LinuxUdp}; same contract as {@link UdpTransport}. */
export class FfiUdpTransport implements UdpTransportApi {
  /** Always "ffi". */
  readonly kind: UdpTransportKind = "ffi";
  /** The FFI socket set (counters, sendMany). */
  readonly udp: LinuxUdp;
  readonly #counters: LinuxUdpCounters;
  readonly #log: Logger;

  private constructor(udp: LinuxUdp, log: Logger) {
    this.udp = udp;
    this.#counters = udp.counters;
    this.#log = log;
  }

  /**
   * Binds `port` on 0.0.0.0 and [::] (IPv6 only; if IPv6 cannot bind, IPv4 alone is kept and a
   * warning logged), or on each address of `bind`, and starts the receive loop.
   * @throws PortInUseError if the port is taken, Error if nothing could be bound, Error/
   * Deno.errors.NotCapable when FFI is unavailable.
   */
  static open(
    opts: UdpTransportOptions & { bufferBytes?: number },
  ): Promise<FfiUdpTransport> {
    const explicit = opts.bind !== undefined && opts.bind.length > 0;
    const targets = explicit
      ? opts.bind!
      : [InetAddress.fromIp("0.0.0.0")!, InetAddress.fromIp("::")!];
    const bound: BoundUdpSocket[] = [];
    const closeAll = () => {
      for (const b of bound) LinuxUdp.closeSocket(b);
    };
    try {
      for (const ip of targets) {
        try {
          bound.push(bindUdpSocket(ip.withPort(opts.port), opts.bufferBytes));
        } catch (e) {
          if (isAddrInUse(e)) throw new PortInUseError(opts.port);
          if (!(e instanceof LibcError)) throw e; // FFI itself is not usable
          if (!explicit && ip.family === 6) {
            opts.log.warn(
              `cannot bind UDP [::]:${opts.port} (${e.message}); continuing with IPv4 only`,
            );
          } else {
            opts.log.warn(`cannot bind UDP ${ip.toIpString()}/${opts.port}: ${e.message}`);
          }
        }
      }
    } catch (e) {
      closeAll();
      return Promise.reject(e);
    }
    if (bound.length === 0) {
      return Promise.reject(new Error(`could not bind any UDP socket on port ${opts.port}`));
    }
    const log = opts.log;
    const udp = LinuxUdp.start(bound, {
      onPacket: opts.onPacket,
      offload: udpOffloadAllowed(),
      onError: (e) => {
        if (e instanceof LibcError) log.debug(`UDP: ${e.message}`);
        else log.debug(`receive handler failed: ${e instanceof Error ? e.stack : e}`);
      },
    });
    const b = bound[0];
    log.debug(
      `UDP via FFI: ${bound.map((s) => s.local.toString()).join(", ")} (rcvbuf ${b.rcvbuf}, ` +
        `sndbuf ${b.sndbuf})`,
    );
    return Promise.resolve(new FfiUdpTransport(udp, log));
  }

  /** Counters (a fresh snapshot each read). */
  get stats(): FfiUdpTransportStats {
    const c = this.#counters;
    const out = {
      received: c.received,
      sent: c.sent,
      sendErrors: c.sendErrors + c.sendDropped,
      handlerErrors: c.callbackErrors,
    } as FfiUdpTransportStats;
    for (const k of FFI_COUNTERS) out[k] = c[k];
    return out;
  }

  /** Local addresses bound (wildcards included), with the port. */
  boundAddresses(): InetAddress[] {
    return this.udp.sockets.map((s) => s.local);
  }

  /** Whether any socket is bound to a wildcard address of `family`. */
  hasWildcard(family: 4 | 6): boolean {
    return this.udp.sockets.some((s) => s.family === family && s.local.ip.every((x) => x === 0));
  }

  /**
   * Queues one datagram (copied; the data is not retained) for the next {@link flush}: the
   * receive loop flushes after each drain round, the data plane after each TAP read round, and
   * a microtask before the current task ends, so nothing waits for later I/O. Order per socket
   * is kept. `localSocket` picks the socket (-1 or an unknown id: the first socket of the
   * remote's family); a datagram with `ttl` > 0 (applied to it alone) goes out at once after
   * what was queued before it. Returns false without a socket of that family or after close;
   * failures at flush time are counted in `stats`.
   */
  send(localSocket: number, remote: InetAddress, data: Uint8Array, ttl?: number): boolean {
    return this.udp.queue(localSocket, remote, data, ttl);
  }

  /** See `Transport.rehearseSend`. */
  rehearseSend(localSocket: number, remote: InetAddress, data: Uint8Array): void {
    this.udp.rehearseQueue(localSocket, remote, data);
  }

  /** Sends everything queued: one sendmmsg per socket. */
  flush(): void {
    this.udp.flush();
  }

  /** Sends what is queued, stops the receive loop and closes every socket (idempotent). */
  close(): Promise<void> {
    const c = this.#counters;
    if (c.received > 0 || c.sent > 0) {
      const per = (a: number, b: number) => (b > 0 ? (a / b).toFixed(1) : "-");
      this.#log.debug(
        `UDP: received ${c.received} in ${c.batches} recvmmsg calls (${
          per(c.received, c.batches)
        }/call, ${c.fullBatches} full), ${c.polls} polls; sent ${c.sent} in ${c.sendCalls} ` +
          `send calls (${per(c.sent, c.sendCalls)}/call), ${c.sendErrors} errors, ` +
          `${c.sendDropped} dropped; GSO ${c.gsoDatagrams} datagrams in ${c.gsoMessages} ` +
          `messages (${c.gsoFallbacks} refused), GRO ${c.groDatagrams} in ${c.groBuffers} buffers`,
      );
    }
    return this.udp.close();
  }
}

/** The `ZT_UDP` override, if set to a known value and readable. */
function envChoice(): UdpTransportKind | undefined {
  try {
    const v = Deno.env.get("ZT_UDP")?.trim().toLowerCase();
    return v === "ffi" || v === "dgram" ? v : undefined;
  } catch {
    return undefined; // no env permission
  }
}

/** Whether FFI may be used without prompting. */
function ffiAllowed(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Opens the node's UDP transport: the FFI one on Linux when FFI is permitted and works, else the
 * node:dgram {@link UdpTransport} (logged at debug). @throws PortInUseError if the port is taken,
 * Error if nothing could be bound.
 */
export async function openUdpTransport(
  opts: OpenUdpTransportOptions,
): Promise<UdpTransportApi & { readonly kind?: UdpTransportKind }> {
  let impl = opts.impl ?? "auto";
  if (impl === "auto") impl = envChoice() ?? "auto";
  const log: Logger = opts.log;
  if (impl === "dgram") return await UdpTransport.open(opts);
  if (impl === "auto" && (Deno.build.os !== "linux" || !ffiAllowed())) {
    log.debug("UDP via node:dgram (FFI transport needs Linux and --allow-ffi)");
    return await UdpTransport.open(opts);
  }
  try {
    return await FfiUdpTransport.open(opts);
  } catch (e) {
    if (impl === "ffi" || e instanceof PortInUseError) throw e;
    if (e instanceof Error && e.message.startsWith("could not bind any UDP socket")) throw e;
    log.debug(`UDP FFI transport unavailable (${e instanceof Error ? e.message : e}); node:dgram`);
    return await UdpTransport.open(opts);
  }
}
