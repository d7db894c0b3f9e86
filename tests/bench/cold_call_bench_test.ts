import assert from "node:assert/strict";
import { coldCalls, formatColdCalls } from "../../bench/cold_call_bench.ts";

Deno.test("cold_call bench: every probe runs and yields a cold and a warm median", async () => {
  const o = { rounds: 2, gapMs: 1, skip: 0 };
  const rs = await coldCalls(o);
  const labels = rs.map((r) => r.label);
  for (
    const l of [
      "performance.now()",
      "WASM export returning a constant",
      "WASM cipher 1 armor, 150 B",
      "WASM cipher 3 armor, 150 B",
    ]
  ) assert.ok(labels.includes(l), `${l} in ${labels.join(", ")}`);
  for (const r of rs) {
    assert.ok(Number.isFinite(r.coldUs) && r.coldUs >= 0, `${r.label} cold ${r.coldUs}`);
    assert.ok(Number.isFinite(r.warmUs) && r.warmUs >= 0, `${r.label} warm ${r.warmUs}`);
  }
  const text = formatColdCalls(rs, o);
  assert.match(text, /after a 1 ms pause .* medians of 2:/);
  assert.equal(text.split("\n").length, rs.length + 1);
});
