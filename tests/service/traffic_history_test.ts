// TrafficHistory: bounded ring of cumulative samples, busiest peers kept, a fresh "now" sample on read.
import assert from "node:assert/strict";
import {
  TRAFFIC_MAX_PEERS,
  type TrafficCounts,
  TrafficHistory,
} from "../../src/service/traffic_history.ts";

Deno.test("traffic history: ring bound, fresh last sample, busiest peers only", () => {
  let t = 1000;
  let bytes = 0;
  const peers = (): Record<string, TrafficCounts> => {
    const out: Record<string, TrafficCounts> = {};
    for (let i = 0; i < TRAFFIC_MAX_PEERS + 10; i++) {
      out[i.toString(16).padStart(10, "0")] = [i, i, i * 100, 0];
    }
    return out;
  };
  const h = new TrafficHistory(
    {
      now: () => t,
      networks: () => ({ "0123456789abcdef": [1, 2, bytes, bytes] }),
      peers,
    },
    5000,
    3,
  );
  for (let i = 0; i < 5; i++) {
    h.sample();
    t += 5000;
    bytes += 100;
  }
  const j = h.json() as {
    intervalMs: number;
    samples: { t: number; networks: Record<string, number[]>; peers: Record<string, number[]> }[];
  };
  assert.equal(j.intervalMs, 5000);
  assert.equal(j.samples.length, 4, "3 stored + the fresh one");
  assert.deepEqual(j.samples.map((s) => s.t), [11000, 16000, 21000, 26000]);
  assert.deepEqual(j.samples[3].networks["0123456789abcdef"], [1, 2, 500, 500]);
  const kept = Object.keys(j.samples[0].peers);
  assert.equal(kept.length, TRAFFIC_MAX_PEERS);
  assert.ok(!kept.includes("0000000000"), "the quietest peers are dropped");
  assert.ok(kept.includes((TRAFFIC_MAX_PEERS + 9).toString(16).padStart(10, "0")));
});
