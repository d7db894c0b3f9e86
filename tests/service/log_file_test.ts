// The rotating log file: bounded size, rotation order, keep count, recovery after removal.
import assert from "node:assert/strict";
import { LogFile } from "../../src/service/log_file.ts";
import { Logger } from "../../src/service/logger.ts";

/** Files in `dir`, name → size, sorted by name. */
function listing(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    out[e.name] = Deno.statSync(`${dir}/${e.name}`).size;
  }
  return out;
}

Deno.test("log file: rotated at maxBytes, .1 newest, at most keep old files", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ztlog" });
  try {
    const f = new LogFile(`${dir}/zt.log`, { maxBytes: 1024, keep: 2 });
    const line = (i: number) => `line ${String(i).padStart(4, "0")} ${"x".repeat(90)}`; // 100 B
    for (let i = 0; i < 55; i++) f.write(line(i));
    f.close();
    const files = listing(dir);
    assert.deepEqual(Object.keys(files), ["zt.log", "zt.log.1", "zt.log.2"]);
    for (const size of Object.values(files)) assert.ok(size <= 1024, JSON.stringify(files));
    // 10 lines a file: 50..54 live, 40..49 in .1, 30..39 in .2, older ones dropped.
    const first = (name: string) => Deno.readTextFileSync(`${dir}/${name}`).split("\n")[0];
    assert.equal(first("zt.log"), line(50));
    assert.equal(first("zt.log.1"), line(40));
    assert.equal(first("zt.log.2"), line(30));
    const all = Object.keys(files).map((n) => Deno.readTextFileSync(`${dir}/${n}`)).join("");
    assert.ok(!all.includes(line(29)));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("log file: appends to an existing file, counts its size, keep 0 truncates", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ztlog" });
  try {
    Deno.writeTextFileSync(`${dir}/zt.log`, "x".repeat(1000) + "\n");
    const f = new LogFile(`${dir}/zt.log`, { maxBytes: 1024, keep: 0 });
    f.write("a".repeat(30)); // 1001 + 31 > 1024: rotated away (keep 0 drops it)
    f.write("b");
    f.close();
    assert.equal(Deno.readTextFileSync(`${dir}/zt.log`), "a".repeat(30) + "\nb\n");
    assert.deepEqual(Object.keys(listing(dir)), ["zt.log"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("log file: a file removed underneath is recreated; lines are timestamped", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ztlog" });
  try {
    const f = new LogFile(`${dir}/zt.log`, { now: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
    const log = new Logger("info", f.sink());
    log.info("one");
    log.warn("two");
    log.debug("hidden");
    assert.equal(
      Deno.readTextFileSync(`${dir}/zt.log`),
      "2026-01-02T03:04:05.000Z one\n2026-01-02T03:04:05.000Z warn: two\n",
    );
    f.close();
    Deno.removeSync(`${dir}/zt.log`);
    log.error("three");
    assert.equal(Deno.readTextFileSync(`${dir}/zt.log`), "2026-01-02T03:04:05.000Z error: three\n");
    f.close();
    assert.throws(() => new LogFile(`${dir}/missing/zt.log`), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
