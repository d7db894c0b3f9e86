// PendingRendezvous: introductions wait for an identity at most 5 s, 16 at a time, one per peer.
import assert from "node:assert/strict";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import {
  PENDING_RENDEZVOUS_MAX,
  PENDING_RENDEZVOUS_TIMEOUT,
  PendingRendezvous,
} from "../../src/vl1/pending_rendezvous.ts";

const ep = (i: number) => InetAddress.parse(`203.0.113.${i}/9993`)!;

Deno.test("pending rendezvous: take by peer, replace per peer, expiry and bound", () => {
  const q = new PendingRendezvous();
  q.add({ peer: 0x11, endpoint: ep(1), created: 1000 });
  q.add({ peer: 0x11, endpoint: ep(2), created: 1100 });
  q.add({ peer: 0x22, endpoint: ep(3), created: 1200 });
  assert.equal(q.size, 2, "one entry per peer (the newest)");
  assert.deepEqual(q.expire(2000), [0x11, 0x22]);
  const got = q.take(2000, 0x11);
  assert.deepEqual(got.map((e) => e.endpoint.toString()), ["203.0.113.2/9993"]);
  assert.deepEqual(q.take(2000, 0x11), []);
  assert.deepEqual(q.take(1200 + PENDING_RENDEZVOUS_TIMEOUT + 1, 0x22), [], "expired on take");
  assert.equal(q.size, 0);
  for (let i = 0; i < 40; i++) q.add({ peer: 0x100 + i, endpoint: ep(i), created: 5000 });
  assert.equal(q.size, PENDING_RENDEZVOUS_MAX);
  assert.equal(q.take(5000, 0x100).length, 0, "the oldest were dropped");
  assert.equal(q.take(5000, 0x100 + 39).length, 1);
  assert.deepEqual(q.expire(5000 + PENDING_RENDEZVOUS_TIMEOUT + 1), []);
  assert.equal(q.size, 0);
});
