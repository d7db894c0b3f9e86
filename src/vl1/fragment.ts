// Splitting armored packets into head + fragments for an MTU, and reassembling them (spec §3.5).
import { FLAG_FRAGMENTED, IDX_FLAGS, MAX_PACKET_LENGTH, MIN_PACKET_LENGTH } from "./packet.ts";

/** Length of a fragment datagram's header. */
export const FRAGMENT_HEADER_LENGTH = 16;
/** Byte 13 of a fragment is this (a real source address never starts with 0xFF). */
export const FRAGMENT_INDICATOR = 0xff;
/** Offset of the fragment indicator byte. */
export const FRAG_IDX_INDICATOR = 13;
/** Offset of the `total << 4 | number` byte. */
export const FRAG_IDX_COUNTS = 14;
/** Offset of the fragment hop count byte. */
export const FRAG_IDX_HOPS = 15;
/** Most pieces (head + fragments) a receiver accepts for one packet. */
export const MAX_PACKET_FRAGMENTS = 7;
/** Number of reassembly slots (ring). */
export const RX_QUEUE_SIZE = 32;
/** A reassembly slot older than this (ms) is considered stale and is reused. */
export const RECEIVE_QUEUE_TIMEOUT = 5000;

/** True if a received datagram `d[0..len)` is a fragment (not a packet head or whole packet). */
export function isFragment(d: Uint8Array, len: number = d.length): boolean {
  return len > FRAGMENT_HEADER_LENGTH && len <= d.length &&
    d[FRAG_IDX_INDICATOR] === FRAGMENT_INDICATOR;
}

/** Total piece count (head included) from a fragment header. */
export function fragmentTotal(frag: Uint8Array): number {
  return frag[FRAG_IDX_COUNTS] >>> 4;
}

/** Fragment number (1..) from a fragment header; the head is number 0. */
export function fragmentNumber(frag: Uint8Array): number {
  return frag[FRAG_IDX_COUNTS] & 0x0f;
}

/** Hop count of a fragment (low 3 bits of byte 15). */
export function getFragmentHops(frag: Uint8Array): number {
  return frag[FRAG_IDX_HOPS] & 0x07;
}

/** Increments a fragment's hop count as a relay does; returns the new count. */
export function incrementFragmentHops(frag: Uint8Array): number {
  const h = (frag[FRAG_IDX_HOPS] + 1) & 0x07;
  frag[FRAG_IDX_HOPS] = h;
  return h;
}

/** Number of datagrams (head included) an armored packet of `len` bytes needs at `mtu`. */
export function pieceCount(len: number, mtu: number): number {
  if (len <= mtu) return 1;
  return 1 + Math.ceil((len - mtu) / (mtu - FRAGMENT_HEADER_LENGTH));
}

/**
 * The piece size that splits a packet of `len` bytes into the same number of datagrams as `mtu`
 * needs ({@link pieceCount}) but with every datagram the same size (the last one up to a few
 * bytes shorter): `ceil((len + 16 × (pieces - 1)) / pieces)`, never above `mtu`. Passing it as
 * the `mtu` of {@link splitPacket} / {@link writeFragment} keeps the piece count and makes
 * consecutive datagrams equal, which lets the kernel batch them (UDP GSO). Receivers reassemble
 * any split (they append fragment payloads whatever their sizes). Returns `mtu` for a packet
 * that fits in one datagram or would need more than {@link MAX_PACKET_FRAGMENTS} pieces.
 */
export function evenPieceSize(len: number, mtu: number): number {
  const pieces = pieceCount(len, mtu);
  if (pieces <= 1 || pieces > MAX_PACKET_FRAGMENTS) return mtu;
  return Math.min(mtu, Math.ceil((len + FRAGMENT_HEADER_LENGTH * (pieces - 1)) / pieces));
}

/**
 * Splits an armored packet `pkt[0..len)` into datagrams for `mtu`. If it fits, returns
 * `[pkt.subarray(0, len)]`. Otherwise the packet must have been armored with the FRAGMENTED flag
 * set (see `pieceCount`); returns the head `pkt.subarray(0, mtu)` followed by fresh fragment
 * datagrams of at most `mtu` bytes each (header: wire packet ID, dest, 0xFF, total|number, hops
 * 0). Returns undefined if the FRAGMENTED flag is missing, `mtu` < 28, or more than 7 pieces would
 * be needed (receivers would drop such a packet).
 */
export function splitPacket(pkt: Uint8Array, len: number, mtu: number): Uint8Array[] | undefined {
  if (!(len >= MIN_PACKET_LENGTH && len <= pkt.length && mtu >= MIN_PACKET_LENGTH)) {
    return undefined;
  }
  if (len <= mtu) return [pkt.subarray(0, len)];
  if ((pkt[IDX_FLAGS] & FLAG_FRAGMENTED) === 0) return undefined;
  const total = pieceCount(len, mtu);
  if (total > MAX_PACKET_FRAGMENTS) return undefined;
  const out: Uint8Array[] = [pkt.subarray(0, mtu)];
  const chunk = mtu - FRAGMENT_HEADER_LENGTH;
  let p = mtu;
  for (let no = 1; no < total; no++) {
    const n = Math.min(chunk, len - p);
    const f = new Uint8Array(FRAGMENT_HEADER_LENGTH + n);
    f.set(pkt.subarray(0, 13)); // packet ID + destination
    f[FRAG_IDX_INDICATOR] = FRAGMENT_INDICATOR;
    f[FRAG_IDX_COUNTS] = (total << 4) | no;
    f[FRAG_IDX_HOPS] = 0;
    f.set(pkt.subarray(p, p + n), FRAGMENT_HEADER_LENGTH);
    out.push(f);
    p += n;
  }
  return out;
}

/**
 * Writes fragment `no` (1..total-1) of `pkt[0..len)` split for `mtu` (as {@link splitPacket}
 * would make it) into `out` from byte 0; returns its length, or 0 if `no` is out of range or
 * `out` is too small. The head (piece 0) is simply `pkt[0..mtu)`.
 */
export function writeFragment(
  pkt: Uint8Array,
  len: number,
  mtu: number,
  no: number,
  out: Uint8Array,
): number {
  const total = pieceCount(len, mtu);
  if (!(no >= 1 && no < total && len <= pkt.length)) return 0;
  const chunk = mtu - FRAGMENT_HEADER_LENGTH;
  const p = mtu + (no - 1) * chunk;
  const n = Math.min(chunk, len - p);
  if (out.length < FRAGMENT_HEADER_LENGTH + n) return 0;
  for (let i = 0; i < 13; i++) out[i] = pkt[i]; // packet ID + destination (no view to make)
  out[FRAG_IDX_INDICATOR] = FRAGMENT_INDICATOR;
  out[FRAG_IDX_COUNTS] = (total << 4) | no;
  out[FRAG_IDX_HOPS] = 0;
  out.set(pkt.subarray(p, p + n), FRAGMENT_HEADER_LENGTH);
  return FRAGMENT_HEADER_LENGTH + n;
}

/** Bytes of piece data a slot holds (a whole packet's worth; more means a malformed packet). */
const SLOT_BYTES = MAX_PACKET_LENGTH;
/**
 * A slot's region in the shared buffer of a `reuseOutput` reassembler: its pieces plus room for
 * one fragment header, so a fragment datagram is copied whole and its data moved down in place.
 */
const REGION_BYTES = SLOT_BYTES + FRAGMENT_HEADER_LENGTH;

/**
 * One reassembly slot. Pieces are copied into the slot's own buffer (allocated on first use and
 * kept) in arrival order; `offs[i]` / `lens[i]` locate piece i (index 0 is the head).
 */
interface Slot {
  idHi: number;
  idLo: number;
  used: boolean;
  timestamp: number;
  total: number; // 0 until a fragment tells us
  have: number; // bit i set = piece i present
  fill: number; // bytes of `buf` in use
  buf: Uint8Array | undefined;
  base: number; // where the slot's region starts in the shared buffer (reuseOutput)
  offs: Int32Array;
  lens: Int32Array;
}

/**
 * Reassembles fragmented packets: a 32-slot ring keyed by packet ID, slots older than 5 s are
 * reused, at most 7 pieces per packet, fragment numbers 1..6, duplicates ignored. Pure state:
 * the caller passes `now` (ms). Pieces are copied, so the caller may reuse its receive buffer.
 * Whole packets are new arrays, or with `reuseOutput` views into one buffer of the reassembler,
 * valid (and modifiable) until the next `addHead` / `addFragment` call (the node's receive path).
 * With `reuseOutput` nothing is allocated per packet: the slots and the output live in one
 * buffer, pieces are copied with `set`/`copyWithin`, and a packet whose pieces arrived in order is
 * returned in place.
 */
export class Reassembler {
  readonly #slots: Slot[] = [];
  #next = 0;
  /**
   * With `reuseOutput`: the output region `[0, SLOT_BYTES)` then one region of REGION_BYTES per
   * slot; whole packets are returned as views into it.
   */
  readonly #big: Uint8Array | undefined;

  /** @param opts.reuseOutput return whole packets as views into one reused buffer */
  constructor(opts?: { reuseOutput?: boolean }) {
    this.#big = opts?.reuseOutput
      ? new Uint8Array(SLOT_BYTES + RX_QUEUE_SIZE * REGION_BYTES)
      : undefined;
    for (let i = 0; i < RX_QUEUE_SIZE; i++) {
      this.#slots.push({
        idHi: 0,
        idLo: 0,
        used: false,
        timestamp: 0,
        total: 0,
        have: 0,
        fill: 0,
        buf: undefined,
        base: SLOT_BYTES + i * REGION_BYTES,
        offs: new Int32Array(MAX_PACKET_FRAGMENTS),
        lens: new Int32Array(MAX_PACKET_FRAGMENTS),
      });
    }
  }

  /**
   * Offers a packet head `head[0..len)` (a packet with the FRAGMENTED flag). Returns the whole
   * packet once all pieces are present, else undefined (also for malformed or duplicate heads).
   */
  addHead(now: number, head: Uint8Array, len: number = head.length): Uint8Array | undefined {
    if (!(len >= MIN_PACKET_LENGTH && len <= head.length)) return undefined;
    if ((head[IDX_FLAGS] & FLAG_FRAGMENTED) === 0) return undefined;
    const s = this.#slotFor(now, head);
    if ((s.have & 1) !== 0) return undefined; // duplicate
    if (!this.#store(s, 0, head, 0, len)) return undefined;
    return this.#tryComplete(s);
  }

  /**
   * Offers a fragment datagram `frag[0..len)` (see `isFragment`). Returns the whole packet once
   * all pieces are present, else undefined (also for out-of-range counts or duplicates).
   */
  addFragment(now: number, frag: Uint8Array, len: number = frag.length): Uint8Array | undefined {
    if (!isFragment(frag, len)) return undefined;
    const total = frag[FRAG_IDX_COUNTS] >>> 4;
    const no = frag[FRAG_IDX_COUNTS] & 0x0f;
    if (total > MAX_PACKET_FRAGMENTS || total < 2 || no < 1 || no >= total) return undefined;
    const s = this.#slotFor(now, frag);
    if (s.total !== 0 && s.total !== total) return undefined; // inconsistent with earlier pieces
    if ((s.have & (1 << no)) !== 0) return undefined; // duplicate
    s.total = total;
    if (!this.#store(s, no, frag, FRAGMENT_HEADER_LENGTH, len)) return undefined;
    return this.#tryComplete(s);
  }

  /** Number of slots currently holding an incomplete packet younger than the timeout. */
  pending(now: number): number {
    let n = 0;
    for (const s of this.#slots) if (s.used && now - s.timestamp <= RECEIVE_QUEUE_TIMEOUT) n++;
    return n;
  }

  /** Finds the live slot for this packet ID, or claims (and resets) the next ring slot. */
  #slotFor(now: number, d: Uint8Array): Slot {
    const hi = ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
    const lo = ((d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7]) >>> 0;
    for (const s of this.#slots) {
      if (s.used && s.idHi === hi && s.idLo === lo) {
        if (now - s.timestamp <= RECEIVE_QUEUE_TIMEOUT) return s;
        this.#reset(s, now, hi, lo); // stale: start over in place
        return s;
      }
    }
    const s = this.#slots[this.#next];
    this.#next = (this.#next + 1) % RX_QUEUE_SIZE;
    this.#reset(s, now, hi, lo);
    return s;
  }

  #reset(s: Slot, now: number, hi: number, lo: number): void {
    s.idHi = hi;
    s.idLo = lo;
    s.used = true;
    s.timestamp = now;
    s.total = 0;
    s.have = 0;
    s.fill = 0;
  }

  /** Copies `d[start..end)` in as piece `no`; false (slot dropped) if it would not fit. */
  #store(s: Slot, no: number, d: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    if (s.fill + n > SLOT_BYTES) {
      s.used = false;
      s.have = 0;
      s.total = 0;
      s.fill = 0;
      return false;
    }
    const big = this.#big;
    if (big) {
      const at = s.base + s.fill;
      if (end === d.length && start <= FRAGMENT_HEADER_LENGTH) {
        // the whole datagram fits (its header in the region's slack): no view to make
        big.set(d, at);
        if (start > 0) big.copyWithin(at, at + start, at + end);
      } else {
        big.set(d.subarray(start, end), at);
      }
    } else {
      const buf = (s.buf ??= new Uint8Array(SLOT_BYTES));
      buf.set(d.subarray(start, end), s.fill);
    }
    s.offs[no] = s.fill;
    s.lens[no] = n;
    s.fill += n;
    s.have |= 1 << no;
    return true;
  }

  #tryComplete(s: Slot): Uint8Array | undefined {
    if (s.total === 0 || s.have !== (1 << s.total) - 1) return undefined;
    let n = 0;
    let inOrder = true;
    for (let i = 0; i < s.total; i++) {
      if (s.offs[i] !== n) inOrder = false;
      n += s.lens[i];
    }
    const big = this.#big;
    if (big) {
      const total = s.total;
      s.used = false;
      s.have = 0;
      s.total = 0;
      s.fill = 0;
      // the region keeps its bytes until the ring claims this slot again
      if (inOrder) return big.subarray(s.base, s.base + n);
      let q = 0;
      for (let i = 0; i < total; i++) {
        const o = s.base + s.offs[i];
        big.copyWithin(q, o, o + s.lens[i]);
        q += s.lens[i];
      }
      return big.subarray(0, q);
    }
    const out = new Uint8Array(n);
    const buf = s.buf!;
    let p = 0;
    for (let i = 0; i < s.total; i++) {
      const o = s.offs[i];
      out.set(buf.subarray(o, o + s.lens[i]), p);
      p += s.lens[i];
    }
    s.used = false;
    s.have = 0;
    s.total = 0;
    s.fill = 0;
    return out.subarray(0, p);
  }
}
