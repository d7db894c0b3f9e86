// Throughput benchmark (MB/s, 1400-byte buffers) of the packet-path crypto primitives.
import { AesGmacSiv } from "../src/crypto/aes_gmac_siv.ts";
import { poly1305 } from "../src/crypto/poly1305.ts";
import { Salsa20 } from "../src/crypto/salsa20.ts";
import { loadWasmKernel } from "../src/crypto/wasm_kernel.ts";
import { armor, type ArmorBackend, dearmor, setArmorBackend } from "../src/vl1/armor.ts";
import { PeerKeys } from "../src/vl1/peer_keys.ts";

const SIZE = 1400;

/** Runs `fn` (one 1400-byte operation per call) for about `seconds` and returns MB/s. */
function measure(fn: () => void, seconds = 1): number {
  for (let i = 0; i < 200; i++) fn(); // warm up the JIT
  let ops = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < seconds * 1000) {
    for (let i = 0; i < 100; i++) fn();
    ops += 100;
    now = performance.now();
  }
  return (ops * SIZE) / ((now - t0) / 1000) / 1e6;
}

function line(name: string, mbps: number): void {
  console.log(`${name} ${SIZE}B: ${mbps.toFixed(1)} MB/s`);
}

/** Print MB/s for salsa20/12, poly1305 and AES-GMAC-SIV encrypt/decrypt on 1400-byte buffers. */
export async function run(): Promise<void> {
  const buf = new Uint8Array(SIZE).map((_, i) => (i * 31) & 255);
  const key32 = new Uint8Array(32).map((_, i) => i + 1);
  const nonce = new Uint8Array(8).map((_, i) => i);

  const s = new Salsa20(key32, nonce, 12);
  line(
    "salsa20/12",
    measure(() => {
      s.init(key32, nonce);
      s.xor(buf, 0, SIZE);
    }),
  );

  line(
    "poly1305",
    measure(() => {
      poly1305(key32, buf, 0, SIZE);
    }),
  );

  const siv = AesGmacSiv.fromPeerKey(new Uint8Array(48).map((_, i) => 0x40 + i));
  const aad = new Uint8Array(11).map((_, i) => 0xa0 + i);
  const tag = new Uint8Array(16);
  line("gmac-siv encrypt", measure(() => siv.encrypt(nonce, aad, buf, 0, SIZE, tag)));

  const ct = buf.slice();
  const ctTag = new Uint8Array(16);
  siv.encrypt(nonce, aad, ct, 0, SIZE, ctTag);
  const work = new Uint8Array(SIZE);
  let failures = 0;
  line(
    "gmac-siv decrypt",
    measure(() => {
      work.set(ct);
      if (!siv.decrypt(ctTag, 0, aad, work, 0, SIZE)) failures++;
    }),
  );
  if (failures !== 0) throw new Error(`gmac-siv decrypt failed ${failures} times`);

  const kernel = loadWasmKernel();
  if (kernel === undefined) {
    console.log("wasm kernel: unavailable (no WebAssembly SIMD here)");
  } else {
    line("wasm salsa20/12", measure(() => kernel.salsa20Xor(key32, nonce, buf, 0, SIZE)));
    line("wasm poly1305", measure(() => kernel.poly1305(key32, buf, 0, SIZE)));
    const wk = kernel.sivKey(key32, key32.map((x) => x ^ 0x5c));
    const ctr = new Uint8Array(16).map((_, i) => i);
    line("wasm aes-256-ctr", measure(() => kernel.aesCtr(wk, ctr, buf, 0, SIZE)));
    line("wasm ghash", measure(() => kernel.ghash(wk, buf)));
    kernel.freeSivKey(wk);
  }

  // Whole packets through armor then dearmor; MB/s counts each packet's bytes once.
  const keys = new PeerKeys(new Uint8Array(48).map((_, i) => 0x40 + i));
  const pkt = new Uint8Array(SIZE);
  const backends: ArmorBackend[] = kernel === undefined ? ["ts"] : ["ts", "wasm"];
  for (const backend of backends) {
    setArmorBackend(backend);
    for (const cipher of [1, 3] as const) {
      let bad = 0;
      const mbps = measure(() => {
        pkt.set(buf);
        armor(pkt, SIZE, keys, cipher);
        if (!dearmor(pkt, SIZE, keys)) bad++;
      });
      if (bad !== 0) throw new Error(`armor+dearmor cipher ${cipher} failed ${bad} times`);
      console.log(
        `armor+dearmor cipher ${cipher} (${SIZE} B, ${backend}): ${mbps.toFixed(1)} MB/s`,
      );
    }
  }
  setArmorBackend("wasm");
  await Promise.resolve();
}

if (import.meta.main) await run();
