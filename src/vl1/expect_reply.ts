// Remembers post-armor packet IDs we sent so that only OKs answering them are processed (spec §9.8).

/** Buckets (bits 32..39 of the packet ID select one). */
const BUCKETS = 256;
/** Entries per bucket (ring). */
const BUCKET_SIZE = 32;

/**
 * The reference's reply expectation table: 256 buckets × 32-entry rings holding the upper 32
 * bits of each sent packet's wire ID. Fixed memory; old entries fall out of the rings.
 */
export class ExpectingReplies {
  readonly #ids = new Uint32Array(BUCKETS * BUCKET_SIZE);
  readonly #used = new Uint8Array(BUCKETS * BUCKET_SIZE);
  readonly #next = new Uint8Array(BUCKETS);

  /** Records the wire packet ID (bytes 0..7 of the armored packet) at `pkt[off..off+8)`. */
  expect(pkt: Uint8Array, off = 0): void {
    const hi = ((pkt[off] << 24) | (pkt[off + 1] << 16) | (pkt[off + 2] << 8) | pkt[off + 3]) >>> 0;
    const b = pkt[off + 3];
    const slot = b * BUCKET_SIZE + this.#next[b];
    this.#ids[slot] = hi;
    this.#used[slot] = 1;
    this.#next[b] = (this.#next[b] + 1) % BUCKET_SIZE;
  }

  /** Records a packet ID given as a bigint. */
  expectId(id: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, id));
    this.expect(b);
  }

  /** True if an OK/ERROR with this in-re packet ID answers something we sent recently. */
  isExpected(id: bigint): boolean {
    const hi = Number((BigInt.asUintN(64, id) >> 32n) & 0xffff_ffffn);
    const b = hi & 0xff;
    const base = b * BUCKET_SIZE;
    for (let i = 0; i < BUCKET_SIZE; i++) {
      if (this.#used[base + i] === 1 && this.#ids[base + i] === hi) return true;
    }
    return false;
  }
}
