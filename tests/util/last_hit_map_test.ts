// LastHitMap: the remembered entry never outlives a set, delete or clear of its key.
import assert from "node:assert/strict";
import { LastHitMap } from "../../src/util/last_hit_map.ts";

Deno.test("last-hit map: repeated gets, overwrite, delete and clear answer as a Map would", () => {
  const m = new LastHitMap<bigint, string>();
  assert.equal(m.get(1n), undefined);
  m.set(1n, "a").set(2n, "b");
  assert.equal(m.get(1n), "a");
  assert.equal(m.get(1n), "a");
  m.set(1n, "a2"); // the remembered key, overwritten
  assert.equal(m.get(1n), "a2");
  assert.equal(m.get(2n), "b");
  m.set(3n, "c"); // another key does not disturb the remembered one
  assert.equal(m.get(2n), "b");
  assert.equal(m.delete(2n), true);
  assert.equal(m.get(2n), undefined);
  assert.equal(m.get(1n), "a2");
  m.clear();
  assert.equal(m.get(1n), undefined);
  assert.equal(m.size, 0);
  m.set(1n, "a3");
  assert.equal(m.get(1n), "a3");
  assert.deepEqual([...m.entries()], [[1n, "a3"]]);
  assert.ok(m instanceof Map);
});
