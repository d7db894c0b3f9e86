// Tests for AES-GMAC-SIV on the system's libcrypto (ffi/libcrypto.ts): byte-exact against the
// TypeScript cipher on the spec vectors, the 1.14.1 capture and fuzzed lengths and offsets.
import assert from "node:assert/strict";
import { loadLibcryptoSiv } from "../../ffi/libcrypto.ts";
import {
  armor,
  dearmor,
  setArmorBackend,
  setSivEngine,
  sivEngine,
  sivEngineSelfTest,
} from "../../src/vl1/armor.ts";
import { PeerKeys } from "../../src/vl1/peer_keys.ts";
import { getCipher, getDest, getSource, incrementHops } from "../../src/vl1/packet.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { dissect, Keyring } from "../../src/vl1/dissect.ts";
import { parseCaptureJsonl } from "../../src/vl1/capture_jsonl.ts";
import { fixtureText } from "../fixtures.ts";
import { seededRandom } from "../helpers/seeded_random.ts";
import {
  BURST_MAX_WASM_KEYS,
  BURST_QUIET_MS,
  BURST_WASM_PACKETS,
  BurstSiv,
  installPacketCrypto,
} from "../../src/service/packet_crypto.ts";
import { loadWasmKernel } from "../../src/crypto/wasm_kernel.ts";

const engine = loadLibcryptoSiv();
const missing = engine === undefined;
if (missing && Deno.env.get("CI") === "true") {
  throw new Error("libcrypto.so.3 must load in CI (Debian's libssl3)");
}
if (missing) console.log("libcrypto_test: SKIPPED — libcrypto.so.3 not found");

/** Runs fn with the armor layer on the TypeScript cipher (no engine, no WASM). */
function onTypeScript<T>(fn: () => T): T {
  const saved = sivEngine();
  setSivEngine(undefined);
  setArmorBackend("ts");
  try {
    return fn();
  } finally {
    setArmorBackend("wasm");
    setSivEngine(saved);
  }
}

// §12.3 of the spec: peer key 40 41 ... 6f, FRAME with payload 00..27, cipher 3.
const KEY_123 = new Uint8Array(48).map((_, i) => 0x40 + i);
const PLAIN_123 =
  "deadbeef01020304112233445566778899aa00000000000000000006000102030405060708090a0b0c0d0e0f10111213" +
  "1415161718191a1b1c1d1e1f2021222324252627";
const WIRE_123 =
  "4674f1700842923b112233445566778899aa18ed4600ee8ccf0597c2220371954c3cb76c5e87178d3e58a17cf9486453" +
  "e1b69855d7935689fd0f8741a4864b1ff3329000";

Deno.test({
  name: "libcrypto AES-GMAC-SIV: passes its self-test and is byte-exact on the §12.3 vector",
  ignore: missing,
  fn() {
    assert.ok(sivEngineSelfTest(engine!));
    setSivEngine(engine);
    try {
      const keys = new PeerKeys(KEY_123);
      const p = fromHex(PLAIN_123);
      armor(p, p.length, keys, 3);
      assert.equal(toHex(p), WIRE_123);
      assert.ok(dearmor(p, p.length, keys));
      assert.equal(toHex(p.subarray(27)), PLAIN_123.slice(54));
    } finally {
      setSivEngine(undefined);
    }
  },
});

Deno.test({
  name: "libcrypto AES-GMAC-SIV: every cipher 3 packet of the 1.14.1 capture dearmors as in TS",
  ignore: missing,
  fn() {
    const ids = ["r", "c", "a", "b"].map((h) =>
      Identity.fromString(fixtureText(`identities/${h}.secret`))!
    );
    const keyring = new Keyring(ids);
    const capture = parseCaptureJsonl(fixtureText("captures/session.jsonl"));
    assert.ok(capture.ok);
    const records = dissect(capture.datagrams, keyring);
    let n = 0;
    for (const r of records) {
      if (r.wire === undefined || getCipher(r.wire) !== 3) continue;
      const keys = keyring.keysFor(getSource(r.wire), getDest(r.wire));
      assert.ok(keys);
      const a = r.wire.slice(), b = r.wire.slice();
      setSivEngine(engine);
      const okA = dearmor(a, a.length, keys);
      setSivEngine(undefined);
      const okB = onTypeScript(() => dearmor(b, b.length, keys));
      assert.ok(okA && okB, `packet ${n} authenticates`);
      assert.deepEqual(a, b);
      n++;
    }
    assert.ok(n >= 20, `capture has cipher 3 packets (${n})`);
  },
});

Deno.test({
  name: "libcrypto AES-GMAC-SIV: fuzzed lengths, keys and buffer offsets match TS both ways",
  ignore: missing,
  fn() {
    const bytes = seededRandom(0x5eed);
    const rnd = {
      bytes,
      int: (n: number) => {
        const b = bytes(4);
        return ((b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0) % n;
      },
    };
    for (let round = 0; round < 300; round++) {
      const key = rnd.bytes(48);
      const keys = new PeerKeys(key);
      const len = round < 40 ? 28 + round : 28 + rnd.int(10024 - 28 + 1);
      const off = rnd.int(17);
      const tail = rnd.int(9);
      const backing = rnd.bytes(off + len + tail);
      const pkt = backing.subarray(off, off + len + tail);
      pkt[18] &= 0x07; // flags: cipher bits set by armor, keep hops/fragmented random
      const ts = pkt.slice();
      setSivEngine(engine);
      armor(pkt, len, keys, 3);
      setSivEngine(undefined);
      onTypeScript(() => armor(ts, len, keys, 3));
      assert.deepEqual(pkt, ts, `armor round ${round} len ${len} off ${off}`);
      assert.deepEqual(backing.subarray(0, off), backing.slice(0, off));
      // Hop increments are not authenticated; any other bit is.
      incrementHops(pkt);
      const tampered = pkt.slice();
      tampered[27 + rnd.int(len - 27)] ^= 1 << rnd.int(8);
      setSivEngine(engine);
      assert.ok(dearmor(pkt, len, keys), `dearmor round ${round}`);
      assert.equal(dearmor(tampered, len, keys), false, `tampered round ${round}`);
      setSivEngine(undefined);
      assert.deepEqual(
        pkt.subarray(27, len),
        onTypeScript(() => {
          const c = ts.slice();
          incrementHops(c);
          assert.ok(dearmor(c, len, keys));
          return c.subarray(27, len);
        }),
      );
    }
  },
});

Deno.test({
  name: "libcrypto AES-GMAC-SIV: bad keys throw, a freed key throws, bad lengths are refused",
  ignore: missing,
  fn() {
    assert.throws(() => engine!.key(new Uint8Array(31), new Uint8Array(32)), RangeError);
    const k = engine!.key(new Uint8Array(32), new Uint8Array(32));
    engine!.free(k);
    engine!.free(k);
    assert.throws(() => engine!.armorC3(new Uint8Array(64), 64, k), /freed/);
    setSivEngine(engine);
    try {
      const keys = new PeerKeys(new Uint8Array(48).fill(3));
      assert.throws(() => armor(new Uint8Array(20), 20, keys, 3), RangeError);
      assert.equal(dearmor(new Uint8Array(64), 65, keys), false);
      assert.equal(dearmor(new Uint8Array(64), 64, keys), false); // zero tag: fails to verify
    } finally {
      setSivEngine(undefined);
    }
  },
});

Deno.test({
  name:
    "packet crypto choice: libcrypto + cipher 3 by default; ZT_LIBCRYPTO=0 keeps WASM + cipher 1",
  ignore: missing,
  fn() {
    try {
      assert.deepEqual(installPacketCrypto(() => undefined), {
        aes: "libcrypto",
        defaultCipher: "aes",
      });
      assert.equal(sivEngine()?.name, "libcrypto+wasm", "lone packets on the WASM kernel");
      setSivEngine(undefined);
      installPacketCrypto((n) => (n === "ZT_SIV_BURST" ? "0" : undefined));
      assert.equal(sivEngine()?.name, "libcrypto", "ZT_SIV_BURST=0: every packet on libcrypto");
      const off = installPacketCrypto((n) => (n === "ZT_LIBCRYPTO" ? "0" : undefined));
      assert.equal(off.aes, "wasm");
      assert.equal(off.defaultCipher, "salsa2012");
      assert.equal(sivEngine(), undefined);
    } finally {
      setSivEngine(undefined);
    }
  },
});

Deno.test({
  name:
    "BurstSiv: the first packets after a quiet spell on the WASM kernel, a steady stream on libcrypto",
  ignore: missing || loadWasmKernel() === undefined,
  fn() {
    let now = 1000;
    const burst = new BurstSiv(engine!, loadWasmKernel()!, () => now);
    assert.equal(burst.name, "libcrypto+wasm");
    assert.ok(sivEngineSelfTest(burst));
    now += BURST_QUIET_MS; // a quiet spell after the self-test's packets
    const rnd = seededRandom(7);
    const keys = new PeerKeys(rnd(48));
    const wire = (len: number, seed: number) => {
      const p = new Uint8Array(len).map((_, i) => (i * 13 + seed) & 0xff);
      p[18] = 0;
      return p;
    };
    /** armors on `a`, checks the bytes against `b` and that each dearmors the other's packet */
    const agree = (a: "burst" | "plain", len: number, seed: number) => {
      const x = wire(len, seed), y = x.slice();
      setSivEngine(a === "burst" ? burst : engine);
      armor(x, len, keys, 3);
      setSivEngine(a === "burst" ? engine : burst);
      armor(y, len, keys, 3);
      assert.deepEqual(x, y, `same bytes (len ${len})`);
      assert.ok(dearmor(y, len, keys));
      setSivEngine(a === "burst" ? burst : engine);
      assert.ok(dearmor(x, len, keys));
      assert.deepEqual(x, y);
    };
    try {
      const before = { ...burst.counters };
      // one burst: BURST_WASM_PACKETS packets through the kernel, the rest native
      for (let i = 0; i < 10; i++) agree("burst", 28 + i * 150, i);
      const used = burst.counters.wasm - before.wasm + burst.counters.native - before.native;
      assert.equal(used, 20, "two calls per agree() on the burst engine");
      assert.equal(burst.counters.wasm - before.wasm, BURST_WASM_PACKETS);
      // a steady stream (each packet less than the quiet spell after the last) stays native,
      // however long it lasts
      const w0 = burst.counters.wasm;
      for (let i = 0; i < 40; i++) {
        now += BURST_QUIET_MS / 2;
        agree("burst", 1400, i);
      }
      assert.equal(burst.counters.wasm, w0, "no kernel packet inside a steady stream");
      // a pause: the next burst starts, its first packets go through the kernel again
      now += BURST_QUIET_MS;
      const w = burst.counters.wasm;
      agree("plain", 120, 99);
      assert.equal(burst.counters.wasm, w + 2, "a lone exchange stays on the kernel");
      // a tampered packet fails on both paths
      for (const bump of [0, BURST_QUIET_MS]) {
        now += bump;
        const x = wire(200, 5);
        setSivEngine(burst);
        armor(x, 200, keys, 3);
        x[150] ^= 1;
        assert.equal(dearmor(x, 200, keys), false);
      }
    } finally {
      setSivEngine(undefined);
    }
  },
});

Deno.test({
  name: "BurstSiv: beyond the kernel key cap a peer's packets all go through libcrypto",
  ignore: missing || loadWasmKernel() === undefined,
  fn() {
    const burst = new BurstSiv(engine!, loadWasmKernel()!, () => 0);
    const k0 = new Uint8Array(32).fill(1), k1 = new Uint8Array(32).fill(2);
    const keys = [];
    for (let i = 0; i < BURST_MAX_WASM_KEYS; i++) keys.push(burst.key(k0, k1));
    const extra = burst.key(k0, k1);
    const p = new Uint8Array(100);
    burst.armorC3(p, 100, extra);
    assert.deepEqual(burst.counters, { wasm: 0, native: 1 }, "no kernel key: native");
    assert.ok(burst.dearmorC3(p, 100, extra));
    burst.free(keys.pop()!);
    const again = burst.key(k0, k1);
    burst.armorC3(p, 100, again);
    assert.equal(burst.counters.wasm, 1, "a freed kernel key makes room");
    for (const k of [...keys, extra, again]) burst.free(k);
  },
});
