// RENDEZVOUS introductions naming a peer we do not know yet, kept (bounded, briefly) until its identity arrives.
import type { InetAddress } from "./inet_address.ts";

/** Most introductions kept waiting for an identity. */
export const PENDING_RENDEZVOUS_MAX = 16;
/** How long an introduction waits for the identity (ms). */
export const PENDING_RENDEZVOUS_TIMEOUT = 5_000;

/** One introduction waiting for the identity of the peer it names. */
export interface PendingRendezvousEntry {
  /** The peer to contact (40-bit address). */
  peer: number;
  /** Where the upstream says it can be reached. */
  endpoint: InetAddress;
  /** Received at. */
  created: number;
}

/**
 * Introductions (RENDEZVOUS from an upstream) naming peers we could not resolve yet. Dropping
 * them would leave a one-way flow relayed until the next introduction (30 s later); instead the
 * node WHOISes the peer and acts on the introduction once the identity arrives.
 */
export class PendingRendezvous {
  #entries: PendingRendezvousEntry[] = [];

  /** Remembers an introduction (replacing one for the same peer; the oldest goes when full). */
  add(e: PendingRendezvousEntry): void {
    this.#entries = this.#entries.filter((x) => x.peer !== e.peer);
    if (this.#entries.length >= PENDING_RENDEZVOUS_MAX) this.#entries.shift();
    this.#entries.push(e);
  }

  /** Removes and returns the unexpired introductions naming `peer`. */
  take(now: number, peer: number): PendingRendezvousEntry[] {
    if (this.#entries.length === 0) return [];
    const out = this.#entries.filter((e) => e.peer === peer);
    if (out.length === 0) return out;
    this.#entries = this.#entries.filter((e) => e.peer !== peer);
    return out.filter((e) => now - e.created <= PENDING_RENDEZVOUS_TIMEOUT && now >= e.created);
  }

  /** Drops expired introductions; returns the peers still waiting (to re-WHOIS). */
  expire(now: number): number[] {
    if (this.#entries.length === 0) return [];
    this.#entries = this.#entries.filter((e) =>
      now - e.created <= PENDING_RENDEZVOUS_TIMEOUT && now >= e.created
    );
    return this.#entries.map((e) => e.peer);
  }

  /** Introductions waiting. */
  get size(): number {
    return this.#entries.length;
  }
}
