// Resident-set trim: which mappings and pages it may drop, and that a trimmed process runs on.
import assert from "node:assert/strict";
import {
  droppableRuns,
  IdleTrimPolicy,
  processCpuMs,
  procStatCpuMs,
  ResidentSetKeeper,
  trimmableMappings,
  trimResidentSet,
  vmRssBytes,
} from "../../src/service/memory_trim.ts";
import { c25519Generate, c25519Sign, c25519Verify } from "../../src/crypto/c25519.ts";
import { identityHash, releasableIdentityScratch } from "../../src/vl1/identity_hash.ts";

/** How many pages of the identity hash's kernel scratch memory are resident (pagemap). */
function residentScratchPages(): number {
  const s = releasableIdentityScratch();
  if (s === undefined) return -1;
  const base = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(s.buffer)));
  const first = (base + BigInt(s.offset) + 4095n) / 4096n;
  const last = (base + BigInt(s.offset + s.length)) / 4096n;
  const n = Number(last - first);
  const buf = new Uint8Array(n * 8);
  const f = Deno.openSync("/proc/self/pagemap");
  try {
    f.seekSync(Number(first) * 8, Deno.SeekMode.Start);
    let got = 0;
    while (got < buf.length) got += f.readSync(buf.subarray(got)) ?? buf.length;
  } finally {
    f.close();
  }
  const e = new BigUint64Array(buf.buffer);
  let present = 0;
  for (const x of e) if (x & (1n << 63n)) present++;
  return present;
}

const MAPS = [
  "55d096657000-55d09a257000 r-xp 02a00000 08:01 1234 /usr/lib/node_modules/deno/deno",
  "55d094000000-55d096657000 r--p 00000000 08:01 1234 /usr/lib/node_modules/deno/deno",
  "55d09a257000-55d09a4a0000 rw-p 06600000 08:01 1234 /usr/lib/node_modules/deno/deno",
  "55d0c9ba3000-55d0ca4c3000 rw-p 00000000 00:00 0                          [heap]",
  "7fd865200000-7fd8657b0000 r--s 00000000 08:01 99 /root/.cache/deno/v8_code_cache_v2",
  "7fd865000000-7fd865001000 r--s 00000000 00:05 7 /dev/zero",
  "7fd864000000-7fd864001000 r--p 00000000 00:01 8 /memfd:wasm (deleted)",
  "7fd863000000-7fd863001000 r--p 00000000 08:01 9 /tmp/gone (deleted)",
  "7fd862000000-7fd862001000 ---p 00000000 08:01 10 /usr/lib/libx.so",
  "7ffe30edd000-7ffe30f44000 rw-p 00000000 00:00 0                          [stack]",
  "7ffe30f88000-7ffe30f8a000 r-xp 00000000 00:00 0                          [vdso]",
  "garbage line",
  "7fd861000000-7fd860000000 r--p 00000000 08:01 11 /usr/lib/backwards.so",
  "",
].join("\n");

Deno.test("trimmableMappings: read-only mappings of regular files only", () => {
  const got = trimmableMappings(MAPS).map((m) => [m.start.toString(16), m.private]);
  assert.deepEqual(got, [
    ["55d096657000", true],
    ["55d094000000", true],
    ["7fd865200000", false],
  ]);
});

Deno.test("droppableRuns: present file pages only; anonymous or absent pages split runs", () => {
  const P = 1n << 63n;
  const F = 1n << 61n;
  const entries = new BigUint64Array([P | F, P | F, P, P | F, 0n, F, P | F | 5n, P | F]);
  const runs = droppableRuns(0x1000n, entries).map((r) => [Number(r.start), Number(r.end)]);
  assert.deepEqual(runs, [
    [0x1000, 0x3000],
    [0x4000, 0x5000],
    [0x7000, 0x9000],
  ]);
  assert.deepEqual(droppableRuns(0n, new BigUint64Array(0)), []);
  assert.deepEqual(droppableRuns(0n, new BigUint64Array([P, 0n])), []);
});

Deno.test("vmRssBytes reads VmRSS in bytes, undefined without it", () => {
  assert.equal(vmRssBytes("Name:\tdeno\nVmRSS:\t   1024 kB\nRssAnon: 5 kB\n"), 1024 * 1024);
  assert.equal(vmRssBytes("Name:\tdeno\n"), undefined);
});

Deno.test({
  name: "trimResidentSet drops file pages of this process, which then keeps running",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const fileKiB = () =>
      Number(/^RssFile:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/self/status"))![1]);
    const before = fileKiB();
    const pub = new Uint8Array(64).map((_, i) => i * 7 + 1);
    const digest = identityHash(pub); // fills the identity hash's scratch memory
    const scratchBefore = residentScratchPages();
    const t = trimResidentSet();
    assert.ok(t !== undefined, "trim ran");
    assert.ok(t.ranges > 0, "some page runs advised");
    assert.ok(t.after > 0 && t.before > 0);
    assert.ok(fileKiB() < before, `RssFile ${before} kB -> ${fileKiB()} kB`);
    // the process runs on: code, relocated read-only data, a fresh import, crypto, I/O
    const k = c25519Generate((n) => crypto.getRandomValues(new Uint8Array(n)));
    const msg = new TextEncoder().encode("after the trim");
    assert.ok(c25519Verify(k.publicKey, msg, c25519Sign(k.privateKey, k.publicKey, msg)));
    const { sha384 } = await import("../../src/crypto/sha.ts");
    assert.equal(sha384(msg).length, 48);
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/x`, "ok");
    assert.equal(await Deno.readTextFile(`${dir}/x`), "ok");
    await Deno.remove(dir, { recursive: true });
    // the identity hash's scratch pages were given back: the next hash rewrites them
    if (scratchBefore >= 0) {
      assert.ok(scratchBefore > 400, `${scratchBefore} scratch pages resident after a hash`);
      assert.equal(residentScratchPages(), 0, "scratch pages resident after the trim");
    }
    assert.deepEqual(identityHash(pub), digest);
    // twice is fine
    assert.ok(trimResidentSet() !== undefined);
  },
});

Deno.test("IdleTrimPolicy: trims once after work followed by a quiet window, never while busy or idle", () => {
  const p = new IdleTrimPolicy({ quietMs: 20_000, quietCpuShare: 0.01, minWorkMs: 1000 });
  p.trimmed(0, 5000); // the start-up trim
  // idle from the start: 0.2% of a core for a minute, nothing worth trimming
  let cpu = 5000;
  for (let t = 5000; t <= 60_000; t += 5000) {
    cpu += 10;
    assert.equal(p.sample(t, cpu), false, `idle at ${t}`);
  }
  // busy: 80% of a core for 30 s; never due while busy
  for (let t = 65_000; t <= 95_000; t += 5000) {
    cpu += 4000;
    assert.equal(p.sample(t, cpu), false, `busy at ${t}`);
  }
  // quiet again: due only once the whole 20 s window is quiet
  const due: number[] = [];
  for (let t = 100_000; t <= 140_000; t += 5000) {
    cpu += 10;
    if (p.sample(t, cpu)) {
      due.push(t);
      cpu += 30; // the trim's own cost
      p.trimmed(t, cpu);
    }
  }
  assert.deepEqual(due, [115_000]);
  // quiet after the trim: no second trim
  for (let t = 145_000; t <= 300_000; t += 5000) {
    cpu += 10;
    assert.equal(p.sample(t, cpu), false, `after the trim at ${t}`);
  }
});

Deno.test("IdleTrimPolicy: a window with more than the quiet share is not quiet; odd samples reset", () => {
  const p = new IdleTrimPolicy({ quietMs: 10_000, quietCpuShare: 0.01, minWorkMs: 500 });
  p.trimmed(0, 0);
  assert.equal(p.sample(1000, 2000), false); // worked
  // 1.5% of a core: not quiet
  let cpu = 2000;
  for (let t = 2000; t <= 30_000; t += 1000) {
    cpu += 15;
    assert.equal(p.sample(t, cpu), false, `1.5% at ${t}`);
  }
  // the counter going backwards starts the window again (no trim on the first sample)
  assert.equal(p.sample(31_000, 10), false);
  assert.equal(p.sample(32_000, Number.NaN), false);
  // counted from there: 600 ms of work, then 0.5%: due once the window is covered again
  assert.equal(p.sample(33_000, 610), false);
  cpu = 610;
  let at = -1;
  for (let t = 34_000; t <= 50_000 && at < 0; t += 1000) {
    cpu += 5;
    if (p.sample(t, cpu)) at = t;
  }
  assert.equal(at, 43_000);
});

Deno.test("procStatCpuMs: utime + stime after the command name, undefined on malformed text", () => {
  const stat =
    "4242 (deno a) b) S 1 4242 4242 0 -1 4194560 9000 0 12 0 345 67 0 0 20 0 12 0 100 1000 500";
  assert.equal(procStatCpuMs(stat), (345 + 67) * 10);
  assert.equal(procStatCpuMs("garbage"), undefined);
  assert.equal(procStatCpuMs("1 (x) S 1 2"), undefined);
  assert.equal(procStatCpuMs("1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 3"), undefined);
  if (Deno.build.os === "linux") {
    const c = processCpuMs();
    assert.ok(c !== undefined && c >= 0, `process CPU ${c}`);
  }
});

Deno.test("ResidentSetKeeper: the start-up trim, then an idle trim after work and quiet; stop ends it", async () => {
  const trims: string[] = [];
  let cpu = 0;
  const keeper = new ResidentSetKeeper(
    10,
    { quietMs: 400 },
    (t, why) => trims.push(`${why}:${t.before}`),
    () => ({ before: trims.length, after: 0, ranges: 1 }),
    () => cpu,
  );
  try {
    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(ok(), what);
    };
    await until("the start-up trim", () => trims.length === 1);
    cpu += 5000; // work, then quiet
    await until("the idle trim", () => trims.length === 2);
    assert.deepEqual(trims, ["start:0", "idle:1"]);
    await new Promise((r) => setTimeout(r, 600)); // quiet, no new work: no third trim
    assert.equal(trims.length, 2);
  } finally {
    keeper.stop();
  }
});
