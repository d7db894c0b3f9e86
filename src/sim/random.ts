// Seeded PRNG for the simulator (xoshiro128** seeded by splitmix32): same seed, same run.

/** Mixes a 32-bit state word (splitmix32 step); used to expand seeds. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Hashes a seed (number or text) to 32 bits (FNV-1a over its text for strings and non-integers). */
function seedWord(seed: number | string): number {
  if (typeof seed === "number" && Number.isSafeInteger(seed)) {
    return (seed ^ Math.floor(seed / 0x100000000)) >>> 0;
  }
  const text = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Deterministic pseudo-random generator (not cryptographic). Every draw advances one stream;
 * `fork()` derives an independent stream so consumers don't perturb each other.
 */
export class Random {
  #s = new Uint32Array(4);

  /** Seeds the generator; equal seeds give equal sequences. */
  constructor(seed: number | string = 1) {
    const st = { s: seedWord(seed) };
    for (let i = 0; i < 4; i++) this.#s[i] = splitmix32(st);
    if ((this.#s[0] | this.#s[1] | this.#s[2] | this.#s[3]) === 0) this.#s[0] = 1;
  }

  /** A generator with the given raw xoshiro128** state (four 32-bit words, not all zero). */
  static fromState(words: ArrayLike<number>): Random {
    const r = new Random(0);
    r.#s.set([words[0], words[1], words[2], words[3]]);
    if ((r.#s[0] | r.#s[1] | r.#s[2] | r.#s[3]) === 0) throw new RangeError("all-zero state");
    return r;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.#s;
    const x = Math.imul(s[1], 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 11) | (s[3] >>> 21);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of precision. */
  next(): number {
    return this.nextU32() / 0x100000000;
  }

  /** Uniform integer in [0, n) for 1 <= n <= 2^32 (rejection sampling, no modulo bias). */
  int(n: number): number {
    if (!(n >= 1 && n <= 0x100000000) || !Number.isInteger(n)) {
      throw new RangeError(`Random.int: bad bound ${n}`);
    }
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const v = this.nextU32();
      if (v < limit) return v % n;
    }
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p (p <= 0 never draws and is always false; p >= 1 always true). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.next() < p;
  }

  /** n pseudo-random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let v = this.nextU32();
      for (let j = i; j < i + 4 && j < n; j++) {
        out[j] = v & 0xff;
        v >>>= 8;
      }
    }
    return out;
  }

  /** A new generator seeded from this one's stream (advances this one by four draws). */
  fork(): Random {
    const words = [this.nextU32(), this.nextU32(), this.nextU32(), this.nextU32()];
    if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1;
    return Random.fromState(words);
  }

  /** `bytes` bound as a plain function, the shape the protocol core takes as its random source. */
  source(): (n: number) => Uint8Array {
    return (n) => this.bytes(n);
  }
}
