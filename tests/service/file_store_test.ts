// Tests for the state file store: layout, atomic write, unchanged-content skip, delete, bad ids.
import assert from "node:assert/strict";
import { atomicWriteFileSync, FileStore } from "../../src/service/file_store.ts";

Deno.test("atomicWriteFileSync: writes, skips identical content, leaves no temp files", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const p = `${dir}/f`;
    assert.equal(atomicWriteFileSync(p, new Uint8Array([1, 2, 3]), 0o600), true);
    assert.deepEqual(Deno.readFileSync(p), new Uint8Array([1, 2, 3]));
    assert.equal(Deno.statSync(p).mode! & 0o777, 0o600);
    const ino = Deno.statSync(p).ino;
    assert.equal(atomicWriteFileSync(p, new Uint8Array([1, 2, 3])), false);
    assert.equal(Deno.statSync(p).ino, ino); // untouched: same inode
    assert.equal(atomicWriteFileSync(p, new Uint8Array([1, 2, 4])), true);
    assert.notEqual(Deno.statSync(p).ino, ino); // replaced by rename
    assert.deepEqual(Deno.readFileSync(p), new Uint8Array([1, 2, 4]));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("atomicWriteFileSync: a failed write leaves the old file and no temp file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/d`);
    // renaming a file over a directory fails
    assert.throws(() => atomicWriteFileSync(`${dir}/d`, new Uint8Array([9])));
    assert.ok(Deno.statSync(`${dir}/d`).isDirectory);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["d"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("FileStore: reference layout, unchanged skip, delete, list, bad ids", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const errors: string[] = [];
    const s = new FileStore(dir, (m) => errors.push(m));
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
