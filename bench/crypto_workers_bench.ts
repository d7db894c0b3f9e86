// Benchmark: cipher 3 (AES-GMAC-SIV on libcrypto via FFI) on 1400-byte packets on the main thread
// and on 1 and 2 Workers at once — what crypto worker threads could gain (issue 14, more cores).
import { loadLibcryptoSiv } from "../ffi/libcrypto.ts";

const PACKET = 1400;

/** armor + dearmor pairs of one PACKET-byte packet for `ms`: count and seconds. */
function pairs(ms: number): { n: number; secs: number } {
  const e = loadLibcryptoSiv();
  if (!e) throw new Error("libcrypto.so.3 not found");
  const k = e.key(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
  const pkt = new Uint8Array(PACKET);
  for (let i = 0; i < PACKET; i++) pkt[i] = i & 0xff;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let j = 0; j < 200; j++) {
      e.armorC3(pkt, PACKET, k);
      if (!e.dearmorC3(pkt, PACKET, k)) throw new Error("dearmor failed");
      n++;
    }
  }
  e.free(k);
  return { n, secs: (performance.now() - t0) / 1000 };
}

const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !==
  "undefined";
if (inWorker) {
  const scope = globalThis as unknown as {
    onmessage: (m: MessageEvent<number>) => void;
    postMessage: (v: unknown) => void;
  };
  scope.onmessage = (m) => scope.postMessage(pairs(m.data));
}

/** Pairs per second on `workers` Workers running at once (each its own engine and key). */
async function onWorkers(workers: number, ms: number): Promise<number[]> {
  const ws = Array.from(
    { length: workers },
    () => new Worker(import.meta.url, { type: "module" }),
  );
  try {
    const res = await Promise.all(
      ws.map((w) =>
        new Promise<{ n: number; secs: number }>((ok, fail) => {
          w.onmessage = (m) => ok(m.data);
          w.onerror = (e) => {
            e.preventDefault();
            fail(new Error(e.message));
          };
          w.postMessage(ms);
        })
      ),
    );
    return res.map((r) => r.n / r.secs);
  } finally {
    for (const w of ws) w.terminate();
  }
}

/** `deno task bench crypto_workers`. */
export async function run(): Promise<void> {
  if (!loadLibcryptoSiv()) {
    console.log("crypto_workers: libcrypto.so.3 not found — skipped");
    return;
  }
  const ms = 3000;
  pairs(300); // warm-up
  const main = pairs(ms);
  const perPair = 1e6 * main.secs / main.n;
  console.log(
    `cipher 3 (libcrypto), ${PACKET}-byte packets, armor + dearmor; ${navigator.hardwareConcurrency} CPUs`,
  );
  console.log(
    `  main thread: ${(main.n / main.secs / 1000).toFixed(0)}k pairs/s (${
      perPair.toFixed(2)
    } µs per pair)`,
  );
  for (const w of [1, 2]) {
    const rates = await onWorkers(w, ms);
    const total = rates.reduce((a, b) => a + b, 0);
    console.log(
      `  ${w} worker${w > 1 ? "s" : ""}: ${(total / 1000).toFixed(0)}k pairs/s in total (${
        rates.map((r) => `${(r / 1000).toFixed(0)}k`).join(", ")
      })`,
    );
  }
}

if (import.meta.main && !inWorker) await run();
