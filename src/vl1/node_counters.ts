// Traffic counters a Node keeps for metrics (packets per verb, ERROR codes, bytes, per peer); no I/O.
import { Verb } from "./packet.ts";

/** Offset of the error code inside an ERROR payload: in-re verb (1) + in-re packet id (8). */
const ERROR_CODE_OFFSET = 9;
/** Most peers tracked individually (oldest entries are dropped beyond this). */
const MAX_PEERS = 4096;

/** Per-peer counts. */
export interface PeerCounts {
  /** Packets received from the peer (authenticated). */
  rx: number;
  /** Packets sent to the peer. */
  tx: number;
  /** Packets from the peer that failed authentication or decoding. */
  errors: number;
  /** Bytes of the packets received from the peer (as they arrived, after reassembly). */
  rxBytes: number;
  /** Bytes of the packets sent to the peer (armored, before fragmentation). */
  txBytes: number;
}

/** A copy of the counters at one moment (all values cumulative since the node started). */
export interface NodeCountersSnapshot {
  /** Received packets by verb number (0..31). */
  rxVerbs: number[];
  /** Sent packets by verb number (0..31). */
  txVerbs: number[];
  /** Received ERROR packets by error code (0..255). */
  rxErrors: number[];
  /** Sent ERROR packets by error code (0..255). */
  txErrors: number[];
  /** UDP payload bytes received (everything handed to the node). */
  rxBytes: number;
  /** UDP payload bytes sent (including relayed packets). */
  txBytes: number;
  /** Per peer, by 10-hex-digit address. */
  peers: Map<string, PeerCounts>;
  /** Internal exceptions (bugs, never bad input) caught at a boundary, by where they were caught. */
  internalErrors: Map<string, number>;
}

/** Mutable counters; the node increments them, readers take {@link NodeCounters.snapshot}. */
export class NodeCounters {
  readonly #rxVerbs = new Array<number>(32).fill(0);
  readonly #txVerbs = new Array<number>(32).fill(0);
  readonly #rxErrors = new Array<number>(256).fill(0);
  readonly #txErrors = new Array<number>(256).fill(0);
  #rxBytes = 0;
  #txBytes = 0;
  readonly #peers = new Map<number, PeerCounts>();
  readonly #internal = new Map<string, number>();

  #peer(addr: number): PeerCounts {
    let p = this.#peers.get(addr);
    if (!p) {
      if (this.#peers.size >= MAX_PEERS) {
        const oldest = this.#peers.keys().next().value;
        if (oldest !== undefined) this.#peers.delete(oldest);
      }
      p = { rx: 0, tx: 0, errors: 0, rxBytes: 0, txBytes: 0 };
      this.#peers.set(addr, p);
    }
    return p;
  }

  /**
   * An internal exception was caught at boundary `where` (a small fixed set of names, so the
   * map stays bounded).
   */
  internalError(where: string): void {
    this.#internal.set(where, (this.#internal.get(where) ?? 0) + 1);
  }

  /** A datagram of `n` bytes arrived. */
  receivedBytes(n: number): void {
    this.#rxBytes += n;
  }

  /** A datagram of `n` bytes was sent. */
  sentBytes(n: number): void {
    this.#txBytes += n;
  }

  /**
   * An authenticated packet with `verb` from `source`; `payload` is the verb payload (for
   * ERROR codes), `bytes` the packet's length.
   */
  received(verb: number, source: number, payload?: Uint8Array, bytes = 0): void {
    this.#rxVerbs[verb & 0x1f]++;
    const p = this.#peer(source);
    p.rx++;
    p.rxBytes += bytes;
    if (verb === Verb.ERROR && payload && payload.length > ERROR_CODE_OFFSET) {
      this.#rxErrors[payload[ERROR_CODE_OFFSET]]++;
    }
  }

  /** `n` FRAME packets of `bytes` bytes in all arrived from `source` (the frame fast path). */
  receivedFrames(source: number, n: number, bytes: number): void {
    this.#rxVerbs[Verb.FRAME] += n;
    const p = this.#peer(source);
    p.rx += n;
    p.rxBytes += bytes;
  }

  /** A packet with `verb` was sent to `dest`; `payload` is the verb payload, `bytes` its length. */
  sent(verb: number, dest: number, payload: Uint8Array, bytes = 0): void {
    this.#txVerbs[verb & 0x1f]++;
    const p = this.#peer(dest);
    p.tx++;
    p.txBytes += bytes;
    if (verb === Verb.ERROR && payload.length > ERROR_CODE_OFFSET) {
      this.#txErrors[payload[ERROR_CODE_OFFSET]]++;
    }
  }

  /** A packet claiming to be from `source` (a known peer) failed authentication. */
  peerError(source: number): void {
    this.#peer(source).errors++;
  }

  /** A copy of all counters. */
  snapshot(): NodeCountersSnapshot {
    const peers = new Map<string, PeerCounts>();
    for (const [a, c] of this.#peers) peers.set(a.toString(16).padStart(10, "0"), { ...c });
    return {
      rxVerbs: this.#rxVerbs.slice(),
      txVerbs: this.#txVerbs.slice(),
      rxErrors: this.#rxErrors.slice(),
      txErrors: this.#txErrors.slice(),
      rxBytes: this.#rxBytes,
      txBytes: this.#txBytes,
      peers,
      internalErrors: new Map(this.#internal),
    };
  }
}
