// When to tunnel through the TCP fallback relay: the reference's rules as a clock-driven state machine (no I/O).
//
// Facts (the reference's service, read as behaviour): only datagrams of 16+ bytes to IPv4
// global-scope addresses are tunneled. The tunnel is used once nothing of 16+ bytes has come over
// UDP from a global address for 60 s and the service has run for 60 s; it is opened on a send
// to such an address that follows the previous one by more than half the ping check interval
// (2.5 s) and less than 60 s; UDP keeps being sent alongside; the tunnel is closed once UDP from
// a global address arrived within the last 30 s. With `forceTcpRelay` the tunnel is always used
// and no UDP is sent or accepted.
import { type InetAddress, IpScope } from "../vl1/inet_address.ts";
import { MIN_DATAGRAM_BYTES } from "./tcp_relay_frame.ts";

/** The reference's fallback delay (ms without UDP from a global address). */
export const TCP_FALLBACK_AFTER_MS = 60_000;
/** Half the reference's ping check interval (5 s): the least gap between sends that opens a tunnel. */
const OPEN_MIN_GAP_MS = 2_500;

/** Settings of {@link TcpFallbackPolicy}. */
export interface TcpFallbackSettings {
  /** Tunneling allowed at all (`allowTcpFallbackRelay` with a relay address known). */
  allowed: boolean;
  /** `forceTcpRelay`: always tunnel, never UDP. */
  force: boolean;
  /**
   * Fallback delay, ms (the reference's 60 s; shorter only in tests). It shortens when the
   * fallback engages and when the tunnel closes, not the 2.5..60 s window of sends that opens it.
   */
  afterMs?: number;
}

/** What to do with one outgoing datagram. */
export interface SendDecision {
  /** Send it through the tunnel (when one is up). */
  tunnel: boolean;
  /** Open a tunnel now (none is up or opening). */
  open: boolean;
  /** Send it over UDP as well. */
  udp: boolean;
}

/** Whether a datagram to/from `a` of `len` bytes is one the fallback is about. */
export function tunnelable(a: InetAddress, len: number): boolean {
  return a.family === 4 && len >= MIN_DATAGRAM_BYTES && a.scope() === IpScope.GLOBAL;
}

/** The fallback's clocked state (one per service). */
export class TcpFallbackPolicy {
  /** Settings. */
  readonly allowed: boolean;
  /** forceTcpRelay. */
  readonly force: boolean;
  /** Fallback delay, ms. */
  readonly afterMs: number;
  #started: number;
  #lastDirectReceiveFromGlobal = 0;
  #lastSendToGlobalV4 = 0;

  /** @param startedAt when the service started (ms). */
  constructor(s: TcpFallbackSettings, startedAt: number) {
    this.allowed = s.allowed;
    this.force = s.allowed && s.force;
    this.afterMs = s.afterMs ?? TCP_FALLBACK_AFTER_MS;
    this.#started = startedAt;
  }

  /** Restart the start-up grace period (e.g. after the clock jumped). */
  restarted(now: number): void {
    this.#started = now;
  }

  /** Last UDP datagram of 16+ bytes from a global address (ms, 0 = never). */
  get lastDirectReceiveFromGlobal(): number {
    return this.#lastDirectReceiveFromGlobal;
  }

  /**
   * A UDP datagram arrived. Returns false if it must be ignored (forceTcpRelay accepts no UDP).
   */
  udpReceived(now: number, from: InetAddress, len: number): boolean {
    if (this.force) return false;
    if (len >= MIN_DATAGRAM_BYTES && from.scope() === IpScope.GLOBAL) {
      this.#lastDirectReceiveFromGlobal = now;
    }
    return true;
  }

  /** Whether the fallback is engaged now (datagrams to global IPv4 go through the tunnel). */
  engaged(now: number): boolean {
    if (!this.allowed) return false;
    return this.force || (now - this.#lastDirectReceiveFromGlobal > this.afterMs &&
      now - this.#started > this.afterMs);
  }

  /** Decides for one datagram to `to` of `len` bytes; `tunnelUp` = a tunnel exists or is opening. */
  send(now: number, to: InetAddress, len: number, tunnelUp: boolean): SendDecision {
    let tunnel = false;
    let open = false;
    if (this.allowed && tunnelable(to, len)) {
      if (this.engaged(now)) {
        if (tunnelUp) tunnel = true;
        else {
          const gap = now - this.#lastSendToGlobalV4;
          open = this.force || (gap < TCP_FALLBACK_AFTER_MS && gap > OPEN_MIN_GAP_MS);
        }
      }
      this.#lastSendToGlobalV4 = now;
    }
    return { tunnel, open, udp: !this.force };
  }

  /** Whether an open tunnel should be closed now (UDP from a global address works again). */
  shouldClose(now: number): boolean {
    return !this.force && now - this.#lastDirectReceiveFromGlobal < this.afterMs / 2;
  }
}
