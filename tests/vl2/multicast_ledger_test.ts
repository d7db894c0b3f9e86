// SubscriptionLedger: per-member and total caps, eviction from the largest holder only.
import assert from "node:assert/strict";
import { SubscriptionLedger } from "../../src/vl2/multicast_ledger.ts";

/** Adds like the multicaster does: drop the named victim, then add. */
function add(
  l: SubscriptionLedger<string>,
  held: Map<number, Set<string>>,
  peer: number,
  g: string,
) {
  const v = l.victim(peer);
  if (v) {
    l.removed(v.peer, v.group);
    held.get(v.peer)!.delete(v.group);
  }
  l.added(peer, g);
  if (!held.has(peer)) held.set(peer, new Set());
  held.get(peer)!.add(g);
}

Deno.test("ledger: a member at its cap replaces its own least recently refreshed entry", () => {
  const l = new SubscriptionLedger<string>({ total: 100, perPeer: 3 });
  const held = new Map<number, Set<string>>();
  for (const g of ["a", "b", "c"]) add(l, held, 1, g);
  l.touch(1, "a"); // a refreshed: b is now the oldest
  add(l, held, 1, "d");
  assert.deepEqual([...held.get(1)!].sort(), ["a", "c", "d"]);
  assert.equal(l.count(1), 3);
  assert.equal(l.evicted, 1);
});

Deno.test("ledger: when full, only the largest holder loses entries; ties lose their own", () => {
  const l = new SubscriptionLedger<string>({ total: 10, perPeer: 8 });
  const held = new Map<number, Set<string>>();
  add(l, held, 1, "m1"); // the member: 2 entries
  add(l, held, 1, "m2");
  for (let i = 0; i < 8; i++) add(l, held, 2, `x${i}`); // the flooder: 8 (full: 10)
  for (let i = 0; i < 1000; i++) add(l, held, 3 + (i % 2), `y${i}`); // 2 more flooders
  assert.equal(l.size, 10);
  assert.deepEqual([...held.get(1)!].sort(), ["m1", "m2"], "the member kept its entries");
  assert.ok(l.largest <= 4, `largest ${l.largest}`);
  // a newcomer gets in, taking from a largest holder, never from the member
  add(l, held, 99, "n");
  assert.equal(l.count(99), 1);
  assert.equal(l.count(1), 2);
  assert.equal(l.size, 10);
});

Deno.test("ledger: removal keeps counts and the largest holder right", () => {
  const l = new SubscriptionLedger<string>({ total: 10, perPeer: 5 });
  l.added(1, "a");
  l.added(1, "b");
  l.added(2, "c");
  assert.equal(l.largest, 2);
  l.removed(1, "a");
  l.removed(1, "b");
  assert.equal(l.largest, 1);
  assert.equal(l.peers, 1);
  l.removed(2, "c");
  assert.equal(l.size, 0);
  assert.equal(l.largest, 0);
  assert.equal(l.victim(5), undefined);
});
