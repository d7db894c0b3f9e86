// RuleCounters byte counts: accepted frames add their length per direction, drops add none.
import assert from "node:assert/strict";
import { RuleCounters } from "../../../src/vl2/rules/counters.ts";

Deno.test("rule counters: bytes of accepted frames per network and direction", () => {
  const c = new RuleCounters();
  assert.deepEqual(c.bytes(7n), { rxBytes: 0, txBytes: 0 });
  c.record(7n, true, true, 100);
  c.record(7n, true, false, 1000);
  c.record(7n, false, true, 60);
  c.record(7n, false, true, 40);
  c.record(8n, false, true, 5);
  assert.deepEqual(c.bytes(7n), { rxBytes: 100, txBytes: 100 });
  assert.deepEqual(c.bytes(8n), { rxBytes: 0, txBytes: 5 });
  assert.deepEqual(c.get(7n), { rxAccepted: 1, rxDropped: 1, txAccepted: 2, txDropped: 0 });
  c.forget(7n);
  assert.deepEqual(c.bytes(7n), { rxBytes: 0, txBytes: 0 });
});

Deno.test("rule counters: forgetting the network counted last starts it afresh; others keep theirs", () => {
  const c = new RuleCounters();
  c.record(7n, false, false); // a drop first: no byte entry yet
  c.record(7n, false, true, 10); // then bytes for the same network
  c.record(7n, true, true, 1);
  assert.deepEqual(c.bytes(7n), { rxBytes: 1, txBytes: 10 });
  c.record(8n, true, true, 3);
  c.record(7n, true, true, 2); // back to 7 after 8
  assert.deepEqual(c.bytes(7n), { rxBytes: 3, txBytes: 10 });
  c.forget(7n); // 7 was the last one counted
  c.record(7n, true, true, 4);
  assert.deepEqual(c.bytes(7n), { rxBytes: 4, txBytes: 0 });
  assert.deepEqual(c.get(7n), { rxAccepted: 1, rxDropped: 0, txAccepted: 0, txDropped: 0 });
  assert.deepEqual(c.networks(), [7n, 8n]);
  assert.deepEqual(c.bytes(8n), { rxBytes: 3, txBytes: 0 });
});
