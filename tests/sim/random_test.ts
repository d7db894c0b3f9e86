// Seeded PRNG: xoshiro128** reference outputs, determinism, ranges and rough uniformity.
import assert from "node:assert/strict";
import { Random } from "../../src/sim/random.ts";

Deno.test("xoshiro128** from state {1,2,3,4} gives the reference outputs", () => {
  // First outputs of the published xoshiro128** algorithm for state s = {1, 2, 3, 4}.
  const r = Random.fromState([1, 2, 3, 4]);
  const got = Array.from({ length: 3 }, () => r.nextU32());
  assert.deepEqual(got, [11520, 0, 5927040]);
});

Deno.test("same seed, same sequence; different seeds differ", () => {
  const a = new Random(42), b = new Random(42), c = new Random(43), s = new Random("42x");
  const seq = (r: Random) => Array.from({ length: 16 }, () => r.nextU32());
  const sa = seq(a);
  assert.deepEqual(sa, seq(b));
  assert.notDeepEqual(sa, seq(c));
  assert.notDeepEqual(sa, seq(s));
  assert.deepEqual(new Random("abc").bytes(9), new Random("abc").bytes(9));
});

Deno.test("bytes, int, range, chance stay in bounds", () => {
  const r = new Random(5);
  assert.equal(r.bytes(0).length, 0);
  assert.equal(r.bytes(13).length, 13);
  for (let i = 0; i < 1000; i++) {
    const f = r.next();
    assert.ok(f >= 0 && f < 1);
    const k = r.int(7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
    const g = r.range(-3, 3);
    assert.ok(g >= -3 && g <= 3);
  }
  assert.equal(r.chance(0), false);
  assert.equal(r.chance(1), true);
  assert.throws(() => r.int(0), RangeError);
});

Deno.test("rough uniformity: int(10) buckets and chance(0.25) frequency", () => {
  const r = new Random(2024);
  const n = 100_000;
  const buckets = new Array(10).fill(0);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    buckets[r.int(10)]++;
    if (r.chance(0.25)) hits++;
  }
  for (const b of buckets) assert.ok(Math.abs(b - n / 10) < 600, `bucket ${b}`); // sd ~95
  assert.ok(Math.abs(hits - n / 4) < 700, `hits ${hits}`); // sd ~137
  const byteSum = r.bytes(40_000).reduce((s, v) => s + v, 0) / 40_000;
  assert.ok(Math.abs(byteSum - 127.5) < 2, `byte mean ${byteSum}`);
});

Deno.test("fork gives an independent, reproducible stream", () => {
  const a = new Random(9);
  const fa = a.fork();
  const b = new Random(9);
  const fb = b.fork();
  assert.deepEqual(fa.bytes(32), fb.bytes(32));
  assert.notDeepEqual(new Random(9).bytes(32), fa.bytes(32));
  const src = new Random(1).source();
  assert.deepEqual(src(8), new Random(1).bytes(8));
});
