// Tests of the per-peer replay filter (src/vl1/duplicate_filter.ts) against a Set-based model.
import assert from "node:assert/strict";
import { DUPLICATE_FILTER_SIZE, DuplicateFilter } from "../../src/vl1/duplicate_filter.ts";

/** 8 bytes of a packet ID from two u32 halves. */
function id(hi: number, lo: number): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, hi);
  dv.setUint32(4, lo);
  return b;
}

/** xorshift32 for reproducible pseudo-random IDs. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

Deno.test("duplicate filter: a repeated ID is caught; IDs differing in one byte are not", () => {
  const f = new DuplicateFilter();
  const a = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(f.seen(a), false);
  assert.equal(f.seen(a), true);
  assert.equal(f.seen(a.slice()), true);
  for (let i = 0; i < 8; i++) {
    const b = a.slice();
    b[i] ^= 0x80;
    assert.equal(f.seen(b), false, `byte ${i}`);
  }
  // the ID is read at an offset (the rest of the packet does not matter)
  const pkt = new Uint8Array(40).fill(0xee);
  pkt.set(a, 10);
  assert.equal(f.seen(pkt, 10), true);
  // the halves are kept apart: (hi, lo) and (lo, hi) are different IDs
  assert.equal(f.seen(id(0x01020304, 0x05060708)), true);
  assert.equal(f.seen(id(0x05060708, 0x01020304)), false);
});

Deno.test("duplicate filter: remembers exactly the last N IDs (oldest falls out first)", () => {
  const f = new DuplicateFilter();
  const n = DUPLICATE_FILTER_SIZE;
  for (let i = 0; i < n; i++) assert.equal(f.seen(id(0xabcd0000, i)), false);
  for (let i = 0; i < n; i++) assert.equal(f.seen(id(0xabcd0000, i)), true, `id ${i}`);
  assert.equal(f.seen(id(0xabcd0000, n)), false); // evicts id 0
  assert.equal(f.seen(id(0xabcd0000, 0)), false); // so 0 is new again (evicts 1)
  assert.equal(f.seen(id(0xabcd0000, 2)), true);
  assert.equal(f.seen(id(0xabcd0000, 1)), false);
});

Deno.test("duplicate filter: agrees with a Set + ring model over random and colliding IDs", () => {
  const f = new DuplicateFilter();
  const next = rng(12345);
  const ring: string[] = [];
  const set = new Set<string>();
  const pool: [number, number][] = [];
  let dups = 0;
  for (let step = 0; step < 60_000; step++) {
    // mix fresh IDs, replays of recent/older ones, and IDs sharing a high half (clustered hashes)
    let hi: number, lo: number;
    const r = next() % 10;
    if (r < 3 && pool.length > 0) [hi, lo] = pool[next() % pool.length];
    else if (r < 5) [hi, lo] = [0x11111111, next() % 4096];
    else [hi, lo] = [next(), next()];
    pool.push([hi, lo]);
    if (pool.length > 3000) pool.shift();
    const key = `${hi}:${lo}`;
    const want = set.has(key);
    if (!want) {
      ring.push(key);
      set.add(key);
      if (ring.length > DUPLICATE_FILTER_SIZE) set.delete(ring.shift()!);
    } else dups++;
    assert.equal(f.seen(id(hi, lo)), want, `step ${step}`);
  }
  assert.ok(dups > 1000, `only ${dups} duplicates exercised`);
});
