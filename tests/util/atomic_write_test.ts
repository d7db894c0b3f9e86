// Atomic writes: the file is replaced whole, no temp file stays, and the start-up sweep removes only temp-file leftovers.
import assert from "node:assert/strict";
import {
  isAtomicTempName,
  parentDir,
  sweepAtomicTemps,
  syncDirSync,
  writeFileAtomicSync,
} from "../../src/service/atomic_write.ts";

Deno.test("writeFileAtomicSync replaces the file and leaves no temp file; sweep removes only leftovers", () => {
  const dir = Deno.makeTempDirSync({ prefix: "zt-atomic-" });
  try {
    const p = `${dir}/x.json`;
    writeFileAtomicSync(p, new TextEncoder().encode("one"), { mode: 0o600 });
    writeFileAtomicSync(p, new TextEncoder().encode("two"), { mode: 0o600 });
    assert.equal(Deno.readTextFileSync(p), "two");
    assert.equal(Deno.statSync(p).mode! & 0o777, 0o600);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["x.json"]);
    assert.throws(() =>
      writeFileAtomicSync(p, new Uint8Array([1]), {
        beforeRename: () => {
          throw new Error("crash");
        },
      }), /crash/);
    assert.equal(Deno.readTextFileSync(p), "two");

    for (const n of ["x.json.tmp-12-3", "planet.tmp-1-1", "keep.tmp", "tmp-1-2", "a.tmp-x-1"]) {
      Deno.writeTextFileSync(`${dir}/${n}`, "partial");
    }
    assert.equal(isAtomicTempName("x.json.tmp-12-3"), true);
    assert.equal(isAtomicTempName("keep.tmp"), false);
    assert.equal(sweepAtomicTemps(dir), 2);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["a.tmp-x-1", "keep.tmp", "tmp-1-2", "x.json"],
    );
    assert.equal(sweepAtomicTemps(`${dir}/missing`), 0);
    syncDirSync(dir);
    assert.equal(parentDir("/a/b/c"), "/a/b");
    assert.equal(parentDir("/c"), "/");
    assert.equal(parentDir("c"), ".");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
