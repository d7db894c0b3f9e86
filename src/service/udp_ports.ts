// The secondary and tertiary UDP ports: choosing a random free port as the reference does, and re-picking the secondary one while offline.
//
// Facts (the reference's service): the secondary port (allowSecondaryPort, default on) is
// `secondaryPort` or a random port; the tertiary port exists only with port mapping on and is
// `tertiaryPort` or a random port. A random port starts at 20000 + random % 45500 and counts up
// (wrapping to 20000) to the first one that binds. When the secondary port is random and the node
// has been offline for over two ping periods (120 s), a new random secondary port is bound (some
// NATs stop passing traffic on a port after a while).
import type { InetAddress } from "../vl1/inet_address.ts";
import type { Logger } from "./logger.ts";
import type { TransportMux } from "./transport_mux.ts";
import { PortInUseError, type UdpTransportApi } from "./udp_transport.ts";
import { openUdpTransport } from "./udp_transport_ffi.ts";

/** Ports tried when picking a random one (the reference tries up to 1000). */
const RANDOM_PORT_TRIES = 64;
/** Offline this long with a random secondary port: pick another (2 × the 60 s ping period). */
export const SECONDARY_REBIND_OFFLINE_MS = 120_000;

/** Index of each port's UDP transport in the {@link TransportMux}. */
export const PORT_INDEX = { primary: 0, secondary: 1, tertiary: 2 } as const;

/** Options of {@link openExtraPort}. */
export interface ExtraPortOptions {
  /** Fixed port, or 0 for a random one. */
  port: number;
  /** The mux it is attached to. */
  mux: TransportMux;
  /** Its index in the mux ({@link PORT_INDEX}). */
  index: number;
  /** Random source. */
  random: (n: number) => Uint8Array;
  /** Explicit bind addresses (local.conf `bind`). */
  bind: InetAddress[];
  /** Logger. */
  log: Logger;
  /** Opens a transport (default: the FFI/dgram UDP transport). */
  open?: (
    port: number,
    onPacket: ReturnType<TransportMux["handler"]>,
  ) => Promise<UdpTransportApi>;
}

/** A random port in the reference's range 20000..65499. */
export function randomPortStart(random: (n: number) => Uint8Array): number {
  const b = random(4);
  const r = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  return 20000 + (r % 45500);
}

/**
 * Binds a secondary/tertiary port (fixed, or random counting up from a random start) and attaches
 * it to the mux at `index`. Returns the port, or 0 (logged) when nothing could be bound.
 */
export async function openExtraPort(o: ExtraPortOptions): Promise<number> {
  const open = o.open ??
    ((port, onPacket) => openUdpTransport({ port, bind: o.bind, log: o.log, onPacket }));
  const handler = o.mux.handler(o.index);
  let port = o.port === 0 ? randomPortStart(o.random) : o.port;
  const tries = o.port === 0 ? RANDOM_PORT_TRIES : 1;
  for (let i = 0; i < tries; i++) {
    try {
      const t = await open(port, handler);
      o.mux.attach(o.index, t);
      return port;
    } catch (e) {
      if (!(e instanceof PortInUseError)) {
        o.log.warn(`cannot bind UDP port ${port}: ${e instanceof Error ? e.message : e}`);
        return 0;
      }
    }
    port = port + 1 >= 65536 ? 20000 : port + 1;
  }
  o.log.warn(
    o.port === 0 ? `no free UDP port found for port #${o.index + 1}` : `UDP port ${o.port} in use`,
  );
  return 0;
}

/**
 * The secondary port's upkeep: with a random secondary port, after {@link
 * SECONDARY_REBIND_OFFLINE_MS} offline a new random one replaces it.
 */
export class SecondaryPortKeeper {
  /** The port bound now (0 = none). */
  port: number;
  readonly #o: ExtraPortOptions;
  #lastOnline: number;
  #busy = false;

  /** @param port the port bound at start; @param o how to bind another; @param now start time. */
  constructor(port: number, o: ExtraPortOptions, now: number) {
    this.port = port;
    this.#o = o;
    this.#lastOnline = now;
  }

  /**
   * Called periodically. Rebinds when the port is random and the node has been offline too long;
   * resolves true when it did.
   */
  async check(now: number, online: boolean): Promise<boolean> {
    if (this.#o.port !== 0 || this.#busy) return false;
    if (online) {
      this.#lastOnline = now;
      return false;
    }
    if (now - this.#lastOnline <= SECONDARY_REBIND_OFFLINE_MS) return false;
    this.#lastOnline = now; // give the new port time before changing it again
    this.#busy = true;
    try {
      const old = this.port;
      await this.#o.mux.detach(this.#o.index);
      this.port = await openExtraPort(this.#o);
      this.#o.log.info(`offline for a while: secondary port ${old} \u2192 ${this.port || "none"}`);
      return true;
    } finally {
      this.#busy = false;
    }
  }
}
