// Per-peer replay filter: the last N authenticated packet IDs, as numbers (no per-packet allocation).

/** Packet IDs remembered per peer by the replay filter. */
export const DUPLICATE_FILTER_SIZE = 1024;

/** Hash-table slots (a power of two, twice the ring: load factor <= 1/2). */
const TABLE_BITS = 11;
const TABLE = 1 << TABLE_BITS;
const MASK = TABLE - 1;

/** Home slot of an ID given as two u32 halves. */
function home(hi: number, lo: number): number {
  return Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) >>> (32 - TABLE_BITS);
}

/**
 * Replay filter: remembers the last {@link DUPLICATE_FILTER_SIZE} 64-bit packet IDs (a ring of
 * u32 halves in typed arrays) with an open-addressing set over the ring (linear probing,
 * backward-shift deletion when the oldest ID falls out). A packet whose ID was seen is dropped
 * (relays and links can duplicate; attackers can replay).
 */
export class DuplicateFilter {
  readonly #hi = new Uint32Array(DUPLICATE_FILTER_SIZE);
  readonly #lo = new Uint32Array(DUPLICATE_FILTER_SIZE);
  /** Ring index + 1 per table slot; 0 = empty. */
  readonly #table = new Uint16Array(TABLE);
  #next = 0;
  #count = 0;

  /** True if the ID at `pkt[off..off+8)` was seen before; otherwise records it and returns false. */
  seen(pkt: Uint8Array, off = 0): boolean {
    const hi = ((pkt[off] << 24) | (pkt[off + 1] << 16) | (pkt[off + 2] << 8) | pkt[off + 3]) >>> 0;
    const lo =
      ((pkt[off + 4] << 24) | (pkt[off + 5] << 16) | (pkt[off + 6] << 8) | pkt[off + 7]) >>>
      0;
    const table = this.#table, his = this.#hi, los = this.#lo;
    const h = home(hi, lo);
    for (let i = h;; i = (i + 1) & MASK) {
      const e = table[i];
      if (e === 0) break;
      if (his[e - 1] === hi && los[e - 1] === lo) return true;
    }
    const slot = this.#next;
    if (this.#count === DUPLICATE_FILTER_SIZE) this.#remove(slot);
    else this.#count++;
    his[slot] = hi;
    los[slot] = lo;
    let i = h;
    while (table[i] !== 0) i = (i + 1) & MASK;
    table[i] = slot + 1;
    this.#next = slot + 1 === DUPLICATE_FILTER_SIZE ? 0 : slot + 1;
    return false;
  }

  /** Removes ring entry `slot` from the table, shifting later probe-chain entries back. */
  #remove(slot: number): void {
    const table = this.#table, his = this.#hi, los = this.#lo;
    let p = home(his[slot], los[slot]);
    while (table[p] !== slot + 1) p = (p + 1) & MASK; // present: every ring entry is in the table
    for (let q = (p + 1) & MASK;; q = (q + 1) & MASK) {
      const e = table[q];
      if (e === 0) break;
      const h = home(his[e - 1], los[e - 1]);
      // the entry at q may fill the hole at p unless its home lies cyclically in (p, q]
      const stays = p <= q ? h > p && h <= q : h > p || h <= q;
      if (!stays) {
        table[p] = e;
        p = q;
      }
    }
    table[p] = 0;
  }
}
