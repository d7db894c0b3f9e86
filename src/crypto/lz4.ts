// LZ4 block-format codec (no frame, no size prefix) for compressed ZeroTier packet payloads (§3.6).

/** Minimum match length encoded by a sequence token. */
const MIN_MATCH = 4;
/** The final this-many bytes of a block are always literals. */
const LAST_LITERALS = 5;
/** A match may not start within this many bytes of the end of the input. */
const MF_LIMIT = 12;
/** Largest back-reference distance the 16-bit offset field can express. */
const MAX_DISTANCE = 65535;
/** log2 of the compressor's hash table size. */
const HASH_LOG = 13;
/** After 2^SKIP_TRIGGER failed probes the search step grows (fast-mode acceleration). */
const SKIP_TRIGGER = 6;

/**
 * Compressor hash table, reused across calls. Entries hold `base + position`; anything below the
 * current call's `base` belongs to an earlier call and is ignored, so the table never needs
 * clearing except when `base` would overflow.
 */
const table = new Int32Array(1 << HASH_LOG);
let base = 1;
/** Reused compressor output scratch space (grown on demand). */
let scratch = new Uint8Array(1024);

/** Little-endian 32-bit read (as a signed int32, fine for equality and hashing). */
function read32(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
}

/** Multiplicative hash of the 4 bytes at p into a table slot. */
function hash4(b: Uint8Array, p: number): number {
  return Math.imul(read32(b, p), -1640531535) >>> (32 - HASH_LOG); // 2654435761 as int32
}

/** Writes the 255-byte continuation of a length whose nibble was 15; returns the new offset. */
function writeLengthTail(out: Uint8Array, op: number, rest: number): number {
  while (rest >= 255) {
    out[op++] = 255;
    rest -= 255;
  }
  out[op++] = rest;
  return op;
}

/** Emits a final literal-only sequence of src[anchor,end) at op; returns the new offset. */
function emitLastLiterals(
  src: Uint8Array,
  anchor: number,
  end: number,
  out: Uint8Array,
  op: number,
): number {
  const lit = end - anchor;
  if (lit >= 15) {
    out[op++] = 0xf0;
    op = writeLengthTail(out, op, lit - 15);
  } else {
    out[op++] = lit << 4;
  }
  out.set(src.subarray(anchor, end), op);
  return op + lit;
}

/**
 * LZ4 block-compresses src[start,end). Returns the compressed bytes (may be larger than the
 * input; caller decides whether to use it).
 */
export function lz4Compress(src: Uint8Array, start = 0, end: number = src.length): Uint8Array {
  start = Math.max(0, Math.min(start | 0, src.length));
  end = Math.max(start, Math.min(end | 0, src.length));
  const len = end - start;
  const bound = len + ((len / 255) | 0) + 16;
  if (scratch.length < bound) scratch = new Uint8Array(Math.max(bound, scratch.length * 2));
  const out = scratch;
  let op = 0;

  if (len < MF_LIMIT + 1) {
    op = emitLastLiterals(src, start, end, out, op);
    return out.slice(0, op);
  }

  if (base + len + 1 >= 0x7fffffff) {
    table.fill(0);
    base = 1;
  }
  // Table entry e means position e - off; previous calls' entries map below `start`.
  const off = base - start;
  base += len + 1;

  const mfLimit = end - MF_LIMIT; // last position a match may start at
  const matchLimit = end - LAST_LITERALS; // matches must end at or before this
  let anchor = start;
  let ip = start;

  table[hash4(src, ip)] = ip + off;
  ip++;
  let forwardH = hash4(src, ip);

  outer: for (;;) {
    // Find a match starting at or after ip, probing with a growing step.
    let ref = 0;
    let forwardIp = ip;
    let step = 1;
    let searchNb = 1 << SKIP_TRIGGER;
    do {
      const h = forwardH;
      ip = forwardIp;
      forwardIp += step;
      step = searchNb++ >> SKIP_TRIGGER;
      if (forwardIp > mfLimit + 1) break outer;
      ref = table[h] - off;
      forwardH = hash4(src, forwardIp);
      table[h] = ip + off;
    } while (ref < start || ip - ref > MAX_DISTANCE || read32(src, ref) !== read32(src, ip));
    // Extend the match backwards over pending literals.
    while (ip > anchor && ref > start && src[ip - 1] === src[ref - 1]) {
      ip--;
      ref--;
    }
    // Literal run.
    let token = op++;
    const lit = ip - anchor;
    if (lit >= 15) {
      out[token] = 0xf0;
      op = writeLengthTail(out, op, lit - 15);
    } else {
      out[token] = lit << 4;
    }
    if (lit > 16) {
      out.set(src.subarray(anchor, ip), op);
      op += lit;
    } else {
      for (let i = anchor; i < ip; i++) out[op++] = src[i];
    }

    for (;;) {
      // Match: offset, then extend forward up to matchLimit.
      const dist = ip - ref;
      out[op++] = dist & 0xff;
      out[op++] = dist >>> 8;
      const mStart = ip;
      ip += MIN_MATCH;
      ref += MIN_MATCH;
      while (ip < matchLimit && src[ip] === src[ref]) {
        ip++;
        ref++;
      }
      const ml = ip - mStart - MIN_MATCH;
      if (ml >= 15) {
        out[token] |= 15;
        op = writeLengthTail(out, op, ml - 15);
      } else {
        out[token] |= ml;
      }
      anchor = ip;
      if (ip > mfLimit) break outer;

      table[hash4(src, ip - 2)] = ip - 2 + off;
      // Try an immediate follow-on match (zero literals).
      const h = hash4(src, ip);
      ref = table[h] - off;
      table[h] = ip + off;
      if (ref >= start && ip - ref <= MAX_DISTANCE && read32(src, ref) === read32(src, ip)) {
        token = op++;
        out[token] = 0;
        continue;
      }
      break;
    }
    ip++;
    forwardH = hash4(src, ip);
  }

  op = emitLastLiterals(src, anchor, end, out, op);
  return out.slice(0, op);
}

/**
 * Decompresses an LZ4 block src[start,end) whose output must fit maxOutput bytes. Returns
 * undefined on any malformed input (bad offsets, over-long literal/match lengths, output over
 * maxOutput, truncated input) - never throws, never reads or writes out of bounds.
 */
export function lz4Decompress(
  src: Uint8Array,
  maxOutput: number,
  start = 0,
  end: number = src.length,
): Uint8Array | undefined {
  if (!(src instanceof Uint8Array)) return undefined;
  if (!Number.isInteger(start) || !Number.isInteger(end) || !(maxOutput >= 0)) return undefined;
  if (start < 0 || end > src.length || start >= end) return undefined;
  maxOutput = Math.min(Math.floor(maxOutput), 0x7fffffff);

  // Pass 1: validate every sequence and measure the output, without writing anything.
  let ip = start;
  let op = 0;
  for (;;) {
    const token = src[ip++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (ip >= end) return undefined;
        b = src[ip++];
        lit += b;
      } while (b === 255 && lit <= maxOutput);
    }
    if (lit > end - ip || lit > maxOutput - op) return undefined;
    ip += lit;
    op += lit;
    if (ip === end) break; // a block ends right after a literal run
    if (end - ip < 2) return undefined;
    const dist = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (dist === 0 || dist > op) return undefined;
    let ml = (token & 15) + MIN_MATCH;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (ip >= end) return undefined;
        b = src[ip++];
        ml += b;
      } while (b === 255 && ml <= maxOutput);
    }
    if (ml > maxOutput - op) return undefined;
    op += ml;
    if (ip >= end) return undefined; // a block may not end with a match
  }

  // Pass 2: the block is known good; decode into an exactly sized buffer.
  const out = new Uint8Array(op);
  ip = start;
  op = 0;
  for (;;) {
    const token = src[ip++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        b = src[ip++];
        lit += b;
      } while (b === 255);
    }
    if (lit > 16) {
      out.set(src.subarray(ip, ip + lit), op);
      op += lit;
      ip += lit;
    } else {
      for (let i = 0; i < lit; i++) out[op++] = src[ip++];
    }
    if (ip === end) break;
    const dist = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    let ml = (token & 15) + MIN_MATCH;
    if ((token & 15) === 15) {
      let b: number;
      do {
        b = src[ip++];
        ml += b;
      } while (b === 255);
    }
    let from = op - dist;
    if (dist >= ml && ml > 32) {
      out.copyWithin(op, from, from + ml);
      op += ml;
    } else if (dist === 1 && ml > 32) {
      out.fill(out[from], op, op + ml);
      op += ml;
    } else {
      const stop = op + ml; // overlapping copies replicate the pattern byte by byte
      while (op < stop) out[op++] = out[from++];
    }
  }
  return out;
}
