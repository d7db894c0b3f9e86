// Tests for the WASM crypto kernel against published vectors, WebCrypto and the TypeScript code.
//
// This file also re-runs the armor suites (§12.3/§12.4 vectors and the 1.14.1 capture) with the
// TypeScript backend selected: every test file runs in its own isolate, so the original files
// exercise the WASM backend (the default) and the imported copies below exercise the fallback.
import assert from "node:assert/strict";
import { poly1305 as noblePoly1305 } from "@noble/ciphers/_poly1305.js";
import { AesGmacSiv } from "../../src/crypto/aes_gmac_siv.ts";
import { Salsa20 } from "../../src/crypto/salsa20.ts";
import {
  ZT_CRYPTO_WASM_BASE64,
  ZT_CRYPTO_WASM_COMPILER,
} from "../../src/crypto/wasm/zt_crypto_wasm.ts";
import { loadWasmKernel, WASM_MAX_PACKET, WasmKernel } from "../../src/crypto/wasm_kernel.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";
import { armor, armorBackend, dearmor, setArmorBackend } from "../../src/vl1/armor.ts";
import { PeerKeys } from "../../src/vl1/peer_keys.ts";
import "../vl1/armor_test.ts";
import "../interop/capture_armor_test.ts";
import { seededBytes as bytes } from "../helpers/seeded_random.ts";

assert.equal(setArmorBackend("ts"), "ts");

const K = loadWasmKernel();
if (K === undefined) throw new Error("the WASM kernel must load under Deno");
const kernel: WasmKernel = K;

const LENGTHS = [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1373, 1400, 10024];

Deno.test("wasm salsa20/12 and /20 match the selftest vectors and the TS keystream", () => {
  const key = fromHex("0f62b5085bae0154a7fa4da0f34699ec3f92e5388bde3184d72a7dd02376c91c");
  const iv = fromHex("288ff65dc42b92f9");
  const b12 = new Uint8Array(64), b20 = new Uint8Array(64);
  kernel.salsa20Xor(key, iv, b12, 0, 64, 12);
  kernel.salsa20Xor(key, iv, b20, 0, 64, 20);
  assert.equal(
    toHex(b12),
    "99db33ad11ce0ccb3bfdbf8d0c18160452d014cde989b4c411a559ff7c20a169" +
      "e6dc9909d816becedc4063ce07cea828f44bf9b6c9a0a0b200e1b52af41859c5",
  );
  assert.equal(
    toHex(b20),
    "5e5e71f90199340304abb22a37b6625bf883fb89ce3b21f54a10b81066ef87da" +
      "30b77699aa7379da595c77dd59542da208e5954f89e40eb7aa80a84a6176663f",
  );
  for (const n of LENGTHS) {
    const data = bytes(n + 10, n + 1);
    const a = data.slice(), b = data.slice();
    new Salsa20(key, iv, 12).xor(a, 5, 5 + n);
    kernel.salsa20Xor(key, iv, b, 5, 5 + n);
    assert.equal(toHex(b), toHex(a), `length ${n}`);
  }
});

Deno.test("wasm poly1305 matches RFC 8439 §2.5.2 and @noble/ciphers, incl. h >= p edge", () => {
  const key = fromHex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
  const msg = new TextEncoder().encode("Cryptographic Forum Research Group");
  assert.equal(toHex(kernel.poly1305(key, msg)), "a8061dc1305136c6c22b8baf0c0127a9");
  for (const n of LENGTHS) {
    const k = bytes(32, 1000 + n), m = bytes(n, 2000 + n);
    assert.equal(toHex(kernel.poly1305(k, m)), toHex(noblePoly1305(m, k)), `length ${n}`);
    const ones = new Uint8Array(n).fill(0xff), kOnes = new Uint8Array(32).fill(0xff);
    assert.equal(toHex(kernel.poly1305(kOnes, ones)), toHex(noblePoly1305(ones, kOnes)));
  }
});

const FIPS_KEY = fromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

Deno.test("wasm AES-256 block encrypt/decrypt: FIPS-197 appendix C.3", () => {
  const k = kernel.sivKey(FIPS_KEY, FIPS_KEY);
  const pt = fromHex("00112233445566778899aabbccddeeff");
  const ct = "8ea2b7ca516745bfeafc49904b496089";
  assert.equal(toHex(kernel.aesBlock(k, "encrypt-k0", pt)), ct);
  assert.equal(toHex(kernel.aesBlock(k, "encrypt-k1", pt)), ct);
  assert.equal(toHex(kernel.aesBlock(k, "decrypt-k1", fromHex(ct))), toHex(pt));
  kernel.freeSivKey(k);
  assert.throws(() => kernel.aesBlock(k, "encrypt-k0", pt), /freed/);
});

async function webAesKey(raw: Uint8Array, name: "AES-CTR" | "AES-GCM"): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", raw.slice(), { name }, false, ["encrypt"]);
}

Deno.test("wasm bitsliced AES-256-CTR matches WebCrypto (32-bit counter, wrapping)", async () => {
  const k1 = bytes(32, 77);
  const k = kernel.sivKey(bytes(32, 78), k1);
  const web = await webAesKey(k1, "AES-CTR");
  for (const [i, n] of LENGTHS.entries()) {
    const counter = bytes(16, 300 + i);
    if (i % 2 === 0) counter.set([0xff, 0xff, 0xff, 0xfa], 12); // wraps inside the message
    const data = bytes(n, 400 + i);
    const want = new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-CTR", counter, length: 32 }, web, data),
    );
    const got = data.slice();
    kernel.aesCtr(k, counter, got, 0, n);
    assert.equal(toHex(got), toHex(want), `length ${n}`);
  }
  kernel.freeSivKey(k);
});

Deno.test("wasm GHASH + AES(J0) reproduce WebCrypto AES-GCM tags over AAD", async () => {
  const k0 = bytes(32, 91);
  const k = kernel.sivKey(k0, bytes(32, 92));
  const web = await webAesKey(k0, "AES-GCM");
  for (const n of [0, 1, 16, 27, 100, 1400]) {
    const aad = bytes(n, 500 + n), iv = bytes(12, 600 + n);
    const want = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: aad },
        web,
        new Uint8Array(),
      ),
    );
    // GHASH(aad ‖ pad ‖ [bitlen(aad)]64 ‖ [0]64) XOR AES_K0(iv ‖ 00000001).
    const padded = Math.ceil(n / 16) * 16;
    const input = new Uint8Array(padded + 16);
    input.set(aad);
    new DataView(input.buffer).setBigUint64(padded, BigInt(n * 8));
    const y = kernel.ghash(k, input);
    const j0 = new Uint8Array(16);
    j0.set(iv);
    j0[15] = 1;
    const e = kernel.aesBlock(k, "encrypt-k0", j0);
    assert.equal(toHex(y.map((b, i) => b ^ e[i])), toHex(want), `aad length ${n}`);
  }
  kernel.freeSivKey(k);
});

Deno.test("wasm cipher 1/3 packet armor matches the TS primitives; tampering is caught", () => {
  const key48 = bytes(48, 4242);
  const k0 = bytes(32, 1), k1 = bytes(32, 2);
  const directSiv = new AesGmacSiv(k0, k1);
  const wk = kernel.sivKey(k0, k1);
  for (const n of [28, 29, 43, 44, 91, 1400, 10024]) {
    const plain = bytes(n, 7000 + n);
    plain[18] = (plain[18] & 0x40) | (3 << 3);
    // Cipher 3 through the TS class, then the same packet through the kernel.
    const want = plain.slice(), tag = new Uint8Array(16);
    const aad = want.slice(8, 19);
    aad[10] &= 0xf8;
    directSiv.encrypt(want.slice(0, 8), aad, want, 27, n, tag, 0);
    want.set(tag.subarray(0, 8), 0);
    want.set(tag.subarray(8), 19);
    const got = plain.slice();
    kernel.armorC3(got, n, wk);
    assert.equal(toHex(got), toHex(want), `cipher 3 length ${n}`);
    const bad = got.slice();
    bad[n - 1] ^= 0x10;
    const badBefore = toHex(bad);
    assert.equal(kernel.dearmorC3(bad, n, wk), false);
    assert.equal(toHex(bad), badBefore, "a rejected packet is left untouched");
    assert.equal(kernel.dearmorC3(got, n, wk), true);
    assert.equal(toHex(got, 27), toHex(plain, 27));

    // Cipher 1: same bytes with the salsa key from the peer key; round trip both ways.
    const p1 = plain.slice();
    p1[18] = (p1[18] & 0x47) | 0x80 | (1 << 3);
    const viaWasm = p1.slice();
    kernel.armorC1(viaWasm, n, key48, true);
    setArmorBackend("ts");
    const keys = new PeerKeys(key48);
    const viaTs = p1.slice();
    armor(viaTs, n, keys, 1);
    assert.equal(toHex(viaWasm), toHex(viaTs), `cipher 1 length ${n}`);
    assert.equal(kernel.dearmorC1(viaTs, n, key48, true), true);
    assert.equal(toHex(viaTs, 27), toHex(p1, 27));
    // And cipher 3 via the peer key's KBKDF keys: TS armor, kernel-backed dearmor.
    const p3 = plain.slice();
    armor(p3, n, keys, 3);
    setArmorBackend("wasm");
    assert.equal(dearmor(p3, n, keys), true);
    assert.equal(toHex(p3, 27), toHex(plain, 27));
    setArmorBackend("ts");
  }
  kernel.freeSivKey(wk);
});

Deno.test("wasm kernel rejects bad ranges and lengths without touching memory outside", () => {
  const key = new Uint8Array(32);
  assert.throws(() => kernel.poly1305(key, new Uint8Array(10), 5, 11), RangeError);
  assert.throws(() => kernel.poly1305(key, new Uint8Array(WASM_MAX_PACKET + 1)), RangeError);
  assert.throws(() => kernel.armorC1(new Uint8Array(27), 27, key, true), RangeError);
  assert.equal(kernel.dearmorC1(new Uint8Array(27), 27, key, true), false);
  assert.throws(() => kernel.sivKey(new Uint8Array(16), key), RangeError);
});

Deno.test("many SIV contexts (memory growth) stay independent and reusable after free", () => {
  const ks = [];
  for (let i = 0; i < 40; i++) ks.push(kernel.sivKey(bytes(32, 10 + i), bytes(32, 90 + i)));
  const pt = fromHex("00112233445566778899aabbccddeeff");
  const first = kernel.aesBlock(ks[0], "encrypt-k1", pt);
  for (const k of ks.slice(1)) kernel.freeSivKey(k);
  const again = kernel.sivKey(FIPS_KEY, FIPS_KEY);
  assert.equal(toHex(kernel.aesBlock(again, "encrypt-k0", pt)), "8ea2b7ca516745bfeafc49904b496089");
  assert.equal(toHex(kernel.aesBlock(ks[0], "encrypt-k1", pt)), toHex(first));
  kernel.freeSivKey(again);
  kernel.freeSivKey(ks[0]);
});

Deno.test("backend switch: ts is selectable, wasm is the default when the kernel loads", () => {
  assert.equal(setArmorBackend("wasm"), "wasm");
  assert.equal(setArmorBackend("ts"), "ts");
  assert.equal(armorBackend(), "ts"); // the imported armor suites run on the fallback
});

const ROOT = new URL("../../", import.meta.url);

Deno.test("embedded base64 module is exactly wasm/zt_crypto.wasm", () => {
  const file = Deno.readFileSync(new URL("wasm/zt_crypto.wasm", ROOT));
  const embedded = Uint8Array.from(atob(ZT_CRYPTO_WASM_BASE64), (c) => c.charCodeAt(0));
  assert.equal(toHex(embedded), toHex(file));
  assert.ok(WebAssembly.validate(file));
});

function clangVersion(): string | undefined {
  try {
    const out = new Deno.Command("clang", { args: ["--version"], stdout: "piped", stderr: "null" })
      .outputSync();
    if (!out.success) return undefined;
    return new TextDecoder().decode(out.stdout).split("\n")[0].trim();
  } catch {
    return undefined;
  }
}

const CLANG = clangVersion();

Deno.test({
  name: "scripts/build_wasm.sh rebuilds the committed kernel (byte-identical with the same clang)",
  ignore: CLANG === undefined,
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "zt_wasm_" });
    try {
      const out = new Deno.Command("bash", {
        args: [new URL("scripts/build_wasm.sh", ROOT).pathname, dir],
        stdout: "piped",
        stderr: "piped",
      }).outputSync();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const built = Deno.readFileSync(`${dir}/zt_crypto.wasm`);
      assert.ok(WebAssembly.validate(built));
      if (CLANG === ZT_CRYPTO_WASM_COMPILER) {
        assert.equal(toHex(built), toHex(Deno.readFileSync(new URL("wasm/zt_crypto.wasm", ROOT))));
        assert.equal(
          Deno.readTextFileSync(`${dir}/zt_crypto_wasm.ts`),
          Deno.readTextFileSync(new URL("src/crypto/wasm/zt_crypto_wasm.ts", ROOT)),
        );
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
