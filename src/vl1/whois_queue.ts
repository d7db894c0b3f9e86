// Packets waiting for an unknown peer's identity (TX and RX queues) and the WHOIS request gate (spec §9.1, §9.4).
import type { InetAddress } from "./inet_address.ts";
import { QUEUE_SIZE, QUEUE_TIMEOUT, WHOIS_RETRY_DELAY } from "./node_settings.ts";
import type { Verb } from "./packet.ts";

/** An outbound packet waiting for its destination's identity. */
export interface TxEntry {
  /** Destination address (40-bit number). */
  dest: number;
  /** Verb. */
  verb: Verb;
  /** Verb payload (owned by the queue). */
  payload: Uint8Array;
  /** Encrypt (cipher 1/3) or only MAC (cipher 0). */
  encrypt: boolean;
  /** Try LZ4 compression. */
  compress: boolean;
  /** Queued at. */
  created: number;
}

/** An inbound packet whose source we do not know yet. */
export interface RxEntry {
  /** Source address (40-bit number). */
  source: number;
  /** Whole (reassembled) packet, still armored. */
  packet: Uint8Array;
  /** Arrival socket. */
  localSocket: number;
  /** Arrival address. */
  remote: InetAddress;
  /** Queued at. */
  created: number;
}

/** Most addresses whose last WHOIS time is remembered. */
export const WHOIS_GATE_MAX = 4096;

/** TX/RX queues (32 entries each, 5 s timeout) and per-address WHOIS send times (500 ms gate). */
export class WhoisQueue {
  tx: TxEntry[] = [];
  rx: RxEntry[] = [];
  readonly #lastWhois = new Map<number, number>();
  #gateEvicted = 0;
  #dropped = 0;

  /** Queues an outbound packet (the oldest is dropped when full). */
  queueTx(e: TxEntry): void {
    if (this.tx.length >= QUEUE_SIZE) {
      this.tx.shift();
      this.#dropped++;
    }
    this.tx.push(e);
  }

  /** Queues an inbound packet (the oldest is dropped when full). */
  queueRx(e: RxEntry): void {
    if (this.rx.length >= QUEUE_SIZE) {
      this.rx.shift();
      this.#dropped++;
    }
    this.rx.push(e);
  }

  /** True (and records) if a WHOIS for `addr` may be sent now. */
  shouldSendWhois(now: number, addr: number): boolean {
    const t = this.#lastWhois.get(addr);
    if (t !== undefined && now - t < WHOIS_RETRY_DELAY && now >= t) return false;
    if (t === undefined && this.#lastWhois.size >= WHOIS_GATE_MAX) this.#clean(now);
    if (t === undefined && this.#lastWhois.size >= WHOIS_GATE_MAX) {
      // still full: forget the oldest request (it may be re-asked sooner; never refuse a new one)
      const first = this.#lastWhois.keys().next();
      if (!first.done) this.#lastWhois.delete(first.value);
      this.#gateEvicted++;
    }
    this.#lastWhois.delete(addr);
    this.#lastWhois.set(addr, now);
    return true;
  }

  /** Addresses with a recent WHOIS send time remembered (the 500 ms gate). */
  get gateSize(): number {
    return this.#lastWhois.size;
  }

  /** Gate entries forgotten early because the gate was full. */
  get gateEvicted(): number {
    return this.#gateEvicted;
  }

  /** Queued entries dropped because a queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Removes and returns the TX entries for `addr`. */
  takeTx(addr: number): TxEntry[] {
    const out = this.tx.filter((e) => e.dest === addr);
    if (out.length) this.tx = this.tx.filter((e) => e.dest !== addr);
    this.#lastWhois.delete(addr);
    return out;
  }

  /** Removes and returns the RX entries from `addr`. */
  takeRx(addr: number): RxEntry[] {
    const out = this.rx.filter((e) => e.source === addr);
    if (out.length) this.rx = this.rx.filter((e) => e.source !== addr);
    return out;
  }

  /** Drops expired entries; returns the addresses still waiting (to re-WHOIS). */
  expire(now: number): number[] {
    this.tx = this.tx.filter((e) => now - e.created <= QUEUE_TIMEOUT);
    this.rx = this.rx.filter((e) => now - e.created <= QUEUE_TIMEOUT);
    const waiting = new Set<number>();
    for (const e of this.tx) waiting.add(e.dest);
    for (const e of this.rx) waiting.add(e.source);
    this.#clean(now);
    return [...waiting];
  }

  /** Total queued entries. */
  get size(): number {
    return this.tx.length + this.rx.length;
  }

  #clean(now: number): void {
    for (const [a, t] of this.#lastWhois) {
      if (now - t > QUEUE_TIMEOUT * 2 || now < t) this.#lastWhois.delete(a);
    }
  }
}
