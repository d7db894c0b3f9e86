// Tests for atomic file writes: content, mode, unchanged-content skip, no temporary files left, failures.
import assert from "node:assert/strict";
import { writeFileAtomicSync } from "../../src/service/atomic_write.ts";

Deno.test("writeFileAtomicSync: writes, skips identical content when asked, leaves no temp files", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const p = `${dir}/f`;
    assert.equal(
      writeFileAtomicSync(p, new Uint8Array([1, 2, 3]), { mode: 0o600, skipUnchanged: true }),
      true,
    );
    assert.deepEqual(Deno.readFileSync(p), new Uint8Array([1, 2, 3]));
    assert.equal(Deno.statSync(p).mode! & 0o777, 0o600);
    const ino = Deno.statSync(p).ino;
    assert.equal(writeFileAtomicSync(p, new Uint8Array([1, 2, 3]), { skipUnchanged: true }), false);
    assert.equal(Deno.statSync(p).ino, ino); // untouched: same inode
    assert.equal(writeFileAtomicSync(p, new Uint8Array([1, 2, 4]), { skipUnchanged: true }), true);
    assert.notEqual(Deno.statSync(p).ino, ino); // replaced by rename
    assert.deepEqual(Deno.readFileSync(p), new Uint8Array([1, 2, 4]));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomicSync: a failed write leaves the old file and no temp file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/d`);
    // renaming a file over a directory fails
    assert.throws(() => writeFileAtomicSync(`${dir}/d`, new Uint8Array([9])));
    assert.ok(Deno.statSync(`${dir}/d`).isDirectory);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["d"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomicSync: without skipUnchanged, identical content is rewritten", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const p = `${dir}/f`;
    assert.equal(writeFileAtomicSync(p, new Uint8Array([1])), true);
    const ino = Deno.statSync(p).ino;
    assert.equal(writeFileAtomicSync(p, new Uint8Array([1])), true);
    assert.notEqual(Deno.statSync(p).ino, ino);
    assert.equal(Deno.statSync(p).mode! & 0o777, 0o644);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
