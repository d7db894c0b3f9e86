// NodeCounters per-peer byte counts next to the packet counts.
import assert from "node:assert/strict";
import { NodeCounters } from "../../src/vl1/node_counters.ts";
import { Verb } from "../../src/vl1/packet.ts";

Deno.test("node counters: per-peer rx/tx bytes add up with packets", () => {
  const n = new NodeCounters();
  n.received(Verb.FRAME, 0x1234567890, undefined, 120);
  n.received(Verb.FRAME, 0x1234567890, undefined, 80);
  n.sent(Verb.FRAME, 0x1234567890, new Uint8Array(10), 66);
  n.received(Verb.HELLO, 0x0a0b0c0d0e);
  const s = n.snapshot();
  assert.deepEqual(s.peers.get("1234567890"), {
    rx: 2,
    tx: 1,
    errors: 0,
    rxBytes: 200,
    txBytes: 66,
  });
  assert.deepEqual(s.peers.get("0a0b0c0d0e"), { rx: 1, tx: 0, errors: 0, rxBytes: 0, txBytes: 0 });
});
