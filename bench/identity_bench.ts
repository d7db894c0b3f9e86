// Benchmark of identity work: memory-hard hash, generation, validation, agreement, signatures.
import { Identity } from "../src/vl1/identity.ts";
import { identityHash, setIdentityHashBackend } from "../src/vl1/identity_hash.ts";

const KNOWN_GOOD =
  "8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d7:bd8dd6e4ce7022d2f812797a80c6ee8ad180dc4ebf301dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171ff16e";

/** Mean milliseconds per call of `fn` over about `ms` milliseconds (after `warm` calls). */
function msPerOp(fn: () => void, ms: number, warm: number): number {
  for (let i = 0; i < warm; i++) fn();
  let ops = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    fn();
    ops++;
    now = performance.now();
  }
  return (now - t0) / ops;
}

function random(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** Prints ms/op for the identity hash, sign, verify, agree and the median generation time. */
export async function run(): Promise<void> {
  const id = Identity.fromString(KNOWN_GOOD)!;
  const pub = id.publicKey;
  for (const backend of ["ts", "wasm"] as const) {
    if (setIdentityHashBackend(backend) !== backend) continue;
    const ms = msPerOp(() => identityHash(pub), 2000, 3).toFixed(1);
    console.log(`identity hash (${backend}): ${ms} ms/op`);
  }
  setIdentityHashBackend("wasm");

  const msg = new Uint8Array(64).fill(7);
  const sig = id.sign(msg);
  const peer = Identity.fromString(id.toString())!;
  console.log(`c25519 sign: ${msPerOp(() => id.sign(msg), 1000, 50).toFixed(3)} ms/op`);
  console.log(`c25519 verify: ${msPerOp(() => peer.verify(msg, sig), 1000, 50).toFixed(3)} ms/op`);
  console.log(`c25519 agree: ${msPerOp(() => id.agree(peer), 1000, 50).toFixed(3)} ms/op`);

  const times: number[] = [];
  let attempts = 0;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    Identity.generate(random, () => attempts++);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = (times[9] + times[10]) / 2;
  console.log(
    `identity generate (median of 20): ${median.toFixed(0)} ms ` +
      `(min ${times[0].toFixed(0)}, max ${times[19].toFixed(0)}, ${
        (attempts / 20).toFixed(1)
      } hashes/identity)`,
  );
  await Promise.resolve();
}

if (import.meta.main) await run();
