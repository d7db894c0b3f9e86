// Tests for the node state store: reference layout, unchanged-content skip, delete, list, bad ids.
import assert from "node:assert/strict";
import { NodeStateStore } from "../../src/service/node_state_store.ts";

Deno.test("NodeStateStore: reference layout, unchanged skip, delete, list, bad ids", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const errors: string[] = [];
    const s = new NodeStateStore(dir, (m) => errors.push(m));
    const data = new TextEncoder().encode("peer bytes");
    s.put("peer", "89e92ceee5", data);
    s.put("moon", "8fc24dde94", new Uint8Array([127]));
    s.put("planet", "", new Uint8Array([1]));
    s.put("networkConfig", "5b1c20a311309832", new Uint8Array([10]));
    assert.deepEqual(Deno.readFileSync(`${dir}/peers.d/89e92ceee5.peer`), data);
    assert.deepEqual(
      Deno.readFileSync(`${dir}/moons.d/0000008fc24dde94.moon`),
      new Uint8Array([127]),
    );
    assert.deepEqual(Deno.readFileSync(`${dir}/planet`), new Uint8Array([1]));
    assert.ok(Deno.statSync(`${dir}/networks.d/5b1c20a311309832.conf`).isFile);
    assert.equal(s.writes, 4);
    s.put("peer", "89e92ceee5", data.slice());
    assert.equal(s.writes, 4); // same content: skipped
    assert.deepEqual(s.get("peer", "89e92ceee5"), data);
    assert.equal(s.get("peer", "0000000001"), undefined);
    assert.deepEqual(s.list("peer"), ["89e92ceee5"]);
    assert.deepEqual(s.list("moon"), ["0000008fc24dde94"]);
    s.put("peer", "89e92ceee5", undefined);
    assert.equal(s.get("peer", "89e92ceee5"), undefined);
    s.put("peer", "89e92ceee5", undefined); // deleting twice is fine
    s.put("peer", "../../etc/passwd", data);
    assert.equal(s.get("peer", "../x"), undefined);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /bad id/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
