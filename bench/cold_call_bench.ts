// `deno task bench cold_call`: what one call costs on a cold start (after a pause) against the
// same call at once again (warm), for the pieces a lone packet (a ping) runs through: the clock,
// a trivial WebAssembly export, the WASM kernel's cipher 1 and cipher 3 armor of a 150-byte
// packet, and libcrypto's cipher 3 (when it loads). A diagnostic for the RTT goal of the data
// path: the gap between zt's and 1.14.1's ping RTT is cold-start cost per piece of code and data
// touched, not work (see docs/architecture.md, "Measured facts for the data path").
import { loadLibcryptoSiv } from "../ffi/libcrypto.ts";
import { compileWasmKernel, loadWasmKernel } from "../src/crypto/wasm_kernel.ts";
import { median } from "./stats.ts";

/** Options of {@link coldCalls}. */
export interface ColdCallOptions {
  /** Measured calls of each kind (each after its own pause). */
  rounds: number;
  /** The pause before each round, ms (the event loop sleeps: the vCPU may halt). */
  gapMs: number;
  /** Rounds dropped at the start (start-up compilation). */
  skip: number;
}

/** Median cold and warm cost of one kind of call, µs. */
export interface ColdCallResult {
  label: string;
  coldUs: number;
  warmUs: number;
}

/** Runs the probes; each round sleeps `gapMs`, then times one call cold and one warm of each. */
export async function coldCalls(o: ColdCallOptions): Promise<ColdCallResult[]> {
  const k = loadWasmKernel();
  if (!k) throw new Error("cold_call: the WASM kernel did not load");
  const native = loadLibcryptoSiv();
  const k0 = new Uint8Array(32).fill(7);
  const k1 = new Uint8Array(32).fill(9);
  const wasmKey = k.sivKey(k0, k1);
  const nativeKey = native?.key(k0, k1);
  const key32 = new Uint8Array(32).fill(5);
  const pkt = new Uint8Array(150);
  crypto.getRandomValues(pkt);
  // a second instance of the kernel module, for a bare call into WebAssembly
  const bare = new WebAssembly.Instance(compileWasmKernel(), {}).exports as {
    zt_io(): number;
  };
  const probes: [string, () => void][] = [
    ["performance.now()", () => void performance.now()],
    ["WASM export returning a constant", () => void bare.zt_io()],
    ["WASM cipher 1 armor, 150 B", () => k.armorC1(pkt, pkt.length, key32, true)],
    ["WASM cipher 3 armor, 150 B", () => k.armorC3(pkt, pkt.length, wasmKey)],
  ];
  if (native && nativeKey) {
    probes.push([
      `${native.name} cipher 3 armor, 150 B`,
      () => native.armorC3(pkt, pkt.length, nativeKey),
    ]);
  }
  const cold = probes.map(() => [] as number[]);
  const warm = probes.map(() => [] as number[]);
  for (let r = 0; r < o.skip + o.rounds; r++) {
    // one probe a round, in turn, so that each one's "cold" follows a pause, not another probe
    for (let i = 0; i < probes.length; i++) {
      await new Promise((res) => setTimeout(res, o.gapMs));
      const f = probes[i][1];
      const t0 = performance.now();
      f();
      const t1 = performance.now();
      f();
      const t2 = performance.now();
      if (r >= o.skip) {
        cold[i].push((t1 - t0) * 1000);
        warm[i].push((t2 - t1) * 1000);
      }
    }
  }
  k.freeSivKey(wasmKey);
  if (native && nativeKey) native.free(nativeKey);
  return probes.map(([label], i) => ({
    label,
    coldUs: median(cold[i]),
    warmUs: median(warm[i]),
  }));
}

/** The table printed by {@link run}. */
export function formatColdCalls(rs: ColdCallResult[], o: ColdCallOptions): string {
  const lines = [
    `one call after a ${o.gapMs} ms pause (cold) and at once again (warm), medians of ${o.rounds}:`,
  ];
  for (const r of rs) {
    lines.push(
      `  ${r.label.padEnd(40)} cold ${r.coldUs.toFixed(1).padStart(6)} µs   warm ${
        r.warmUs.toFixed(1).padStart(5)
      } µs`,
    );
  }
  return lines.join("\n");
}

export async function run(): Promise<void> {
  const o: ColdCallOptions = { rounds: 40, gapMs: 50, skip: 10 };
  console.log(formatColdCalls(await coldCalls(o), o));
}
