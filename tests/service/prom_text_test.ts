// src/service/prom_text.ts against prom-client: the same operations give the same exposition text.
import assert from "node:assert/strict";
import promClient from "prom-client";
import * as ours from "../../src/service/prom_text.ts";

type Lib = typeof ours;

/** Deterministic pseudo-random numbers (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

const VALUES = ["rx", "tx", "a\\b", 'q"uote', "new\nline", "", "é", "0", "1"];

/** Runs one random sequence of `n` operations on `lib` and returns its text. */
async function run(lib: Lib, seed: number, n: number): Promise<string> {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const r = new lib.Registry();
  const registers = [r];
  const c0 = new lib.Counter({ name: "c_plain", help: "plain counter", registers });
  const c2 = new lib.Counter({
    name: "c_two",
    help: "two labels \\ and\nnewline",
    labelNames: ["direction", "kind"],
    registers,
  });
  const g0 = new lib.Gauge({ name: "g_plain", help: "plain gauge", registers });
  const g1 = new lib.Gauge({ name: "g_one", help: "one label", labelNames: ["id"], registers });
  const h1 = new lib.Histogram({
    name: "h_one",
    help: "histogram",
    labelNames: ["node_id"],
    buckets: [1, 3, 6, 10, 30, 60, 100, 300, 600, 1000],
    registers,
  });
  const h0 = new lib.Histogram({ name: "h_plain", help: "plain histogram", registers });
  const nums = [0, 1, 2, 0.5, 1e21, 12345.678, -3, 1000, 1001, 0.001];
  for (let i = 0; i < n; i++) {
    const op = Math.floor(rand() * 9);
    const v = Math.abs(pick(nums));
    switch (op) {
      case 0:
        c0.inc(v);
        break;
      case 1:
        // label order varies: the first order seen is the one printed
        if (rand() < 0.5) c2.inc({ direction: pick(VALUES), kind: pick(VALUES) }, v);
        else c2.inc({ kind: pick(VALUES), direction: pick(VALUES) }, v);
        break;
      case 2:
        g0.set(pick(nums));
        break;
      case 3:
        g1.set({ id: pick(VALUES) }, pick(nums));
        break;
      case 4:
        h1.observe({ node_id: pick(VALUES) }, pick(nums));
        break;
      case 5:
        h0.observe(pick(nums));
        break;
      case 6:
        if (rand() < 0.3) g1.reset();
        break;
      case 7:
        c2.inc({ direction: pick(VALUES) }, 0);
        break;
      case 8:
        c0.inc();
        break;
    }
  }
  return await r.metrics();
}

Deno.test("prom_text: same text as prom-client over random operation sequences", async () => {
  for (let seed = 1; seed <= 200; seed++) {
    const n = seed % 40;
    const want = await run(promClient as unknown as Lib, seed, n);
    const got = await run(ours, seed, n);
    assert.equal(got, want, `seed ${seed}`);
  }
});

Deno.test("prom_text: errors as prom-client (unknown label, negative counter, reserved le, duplicate)", () => {
  const r = new ours.Registry();
  const c = new ours.Counter({ name: "x", help: "x", labelNames: ["a"], registers: [r] });
  assert.throws(() => c.inc({ b: "1" }), /not included/);
  assert.throws(() => c.inc({ a: "1" }, -1), /decrease/);
  assert.throws(() => new ours.Counter({ name: "x", help: "y", registers: [r] }), /already/);
  assert.throws(() => new ours.Histogram({ name: "h", help: "h", labelNames: ["le"] }), /reserved/);
  assert.throws(() => new ours.Gauge({ name: "1bad", help: "h" }), /Invalid metric name/);
});
