// Deterministic xorshift32 byte sources for tests, so generated keys and inputs reproduce.

/**
 * A stream of pseudo-random bytes (xorshift32, one low byte per step) seeded with `seed`
 * (0 counts as 1): the `random` parameter the protocol core takes, made reproducible.
 */
export function seededRandom(seed = 1): (n: number) => Uint8Array<ArrayBuffer> {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

/** `n` pseudo-random bytes from a fresh xorshift32 stream seeded with `seed | 1`. */
export function seededBytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  return seededRandom(seed | 1)(n);
}
