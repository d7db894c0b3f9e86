// Bounded big-endian reader and growable writer shared by the verb payload codecs.
import { Address } from "../address.ts";

const TWO32 = 0x1_0000_0000;

/**
 * Sequential big-endian reader over `b[start..end)`. Reads never throw and never go past
 * `end`: a read that would overrun clears `ok`, returns zero / an empty value and leaves `pos`
 * unchanged, so a decoder can read a whole structure and check `ok` once at the end.
 */
export class Reader {
  /** The underlying buffer. */
  readonly b: Uint8Array;
  /** Exclusive upper bound for reads. */
  readonly end: number;
  /** Next read position (absolute index into `b`). */
  pos: number;
  /** False once any read overran `end` (or the range itself was invalid). */
  ok: boolean;

  /** Reader over `b[start..end)`; an out-of-range window yields a reader that is already !ok. */
  constructor(b: Uint8Array, start = 0, end = b.length) {
    this.b = b;
    const valid = Number.isInteger(start) && Number.isInteger(end) && start >= 0 &&
      start <= end && end <= b.length;
    this.ok = valid;
    this.pos = valid ? start : 0;
    this.end = valid ? end : 0;
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** True if at least `n` more bytes can be read. */
  has(n: number): boolean {
    return this.ok && this.pos + n <= this.end;
  }

  private take(n: number): number {
    if (!this.ok || n < 0 || this.pos + n > this.end) {
      this.ok = false;
      return -1;
    }
    const p = this.pos;
    this.pos = p + n;
    return p;
  }

  /** Unsigned 8-bit value. */
  u8(): number {
    const p = this.take(1);
    return p < 0 ? 0 : this.b[p];
  }

  /** Unsigned 16-bit big-endian value. */
  u16(): number {
    const p = this.take(2);
    return p < 0 ? 0 : (this.b[p] << 8) | this.b[p + 1];
  }

  /** Unsigned 32-bit big-endian value. */
  u32(): number {
    const p = this.take(4);
    if (p < 0) return 0;
    const b = this.b;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  /** Unsigned 40-bit big-endian value as a number. */
  u40(): number {
    const p = this.take(5);
    if (p < 0) return 0;
    const b = this.b;
    return b[p] * TWO32 +
      (((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0);
  }

  /** Unsigned 48-bit big-endian value as a number (MAC addresses). */
  u48(): number {
    const p = this.take(6);
    if (p < 0) return 0;
    const b = this.b;
    return ((b[p] << 8) | b[p + 1]) * TWO32 +
      (((b[p + 2] << 24) | (b[p + 3] << 16) | (b[p + 4] << 8) | b[p + 5]) >>> 0);
  }

  /** Unsigned 64-bit big-endian value as a bigint. */
  u64(): bigint {
    const p = this.take(8);
    if (p < 0) return 0n;
    const b = this.b;
    const hi = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
    const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** 5-byte ZeroTier address. */
  address(): Address {
    return new Address(this.u40());
  }

  /** A view (no copy) of the next `n` bytes; empty on overrun. */
  view(n: number): Uint8Array {
    const p = this.take(n);
    return p < 0 ? new Uint8Array(0) : this.b.subarray(p, p + n);
  }

  /** A copy of the next `n` bytes; empty on overrun. */
  copy(n: number): Uint8Array {
    const p = this.take(n);
    return p < 0 ? new Uint8Array(0) : this.b.slice(p, p + n);
  }

  /** Advances `n` bytes. */
  skip(n: number): void {
    this.take(n);
  }
}

/** Growable big-endian byte writer. */
export class Writer {
  private buf: Uint8Array;
  /** Bytes written so far. */
  length = 0;

  /** Writer with an initial capacity hint. */
  constructor(capacity = 64) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  private room(n: number): number {
    const p = this.length;
    if (p + n > this.buf.length) {
      const nb = new Uint8Array(Math.max(this.buf.length * 2, p + n));
      nb.set(this.buf.subarray(0, p));
      this.buf = nb;
    }
    this.length = p + n;
    return p;
  }

  /** Appends an unsigned 8-bit value. */
  u8(v: number): this {
    const p = this.room(1);
    this.buf[p] = v & 0xff;
    return this;
  }

  /** Appends an unsigned 16-bit big-endian value. */
  u16(v: number): this {
    const p = this.room(2);
    this.buf[p] = (v >>> 8) & 0xff;
    this.buf[p + 1] = v & 0xff;
    return this;
  }

  /** Appends an unsigned 32-bit big-endian value. */
  u32(v: number): this {
    const p = this.room(4);
    const b = this.buf;
    b[p] = (v >>> 24) & 0xff;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    return this;
  }

  /** Appends a 40-bit big-endian value given as a number. */
  u40(v: number): this {
    const lo = v % TWO32;
    this.u8((v - lo) / TWO32);
    return this.u32(lo);
  }

  /** Appends a 48-bit big-endian value given as a number (MAC addresses). */
  u48(v: number): this {
    const lo = v % TWO32;
    this.u16((v - lo) / TWO32);
    return this.u32(lo);
  }

  /** Appends a 64-bit big-endian value (taken mod 2^64). */
  u64(v: bigint): this {
    const x = BigInt.asUintN(64, v);
    this.u32(Number(x >> 32n));
    return this.u32(Number(x & 0xffff_ffffn));
  }

  /** Appends a 5-byte ZeroTier address. */
  address(a: Address): this {
    return this.u40(a.value);
  }

  /** Appends raw bytes. */
  bytes(src: Uint8Array): this {
    const p = this.room(src.length);
    this.buf.set(src, p);
    return this;
  }

  /** Overwrites a 16-bit big-endian value at an earlier position. */
  setU16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }

  /** The bytes written (a fresh, exactly sized copy). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Reads a 48-bit big-endian MAC at `off` (caller guarantees 6 bytes). */
export function readMac(b: Uint8Array, off: number): number {
  return ((b[off] << 8) | b[off + 1]) * TWO32 +
    (((b[off + 2] << 24) | (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5]) >>> 0);
}

/** Writes a 48-bit MAC big-endian at `off` (caller guarantees room). */
export function writeMac(b: Uint8Array, off: number, mac: number): void {
  const lo = mac % TWO32;
  const hi = (mac - lo) / TWO32;
  b[off] = (hi >>> 8) & 0xff;
  b[off + 1] = hi & 0xff;
  b[off + 2] = lo >>> 24;
  b[off + 3] = (lo >>> 16) & 0xff;
  b[off + 4] = (lo >>> 8) & 0xff;
  b[off + 5] = lo & 0xff;
}

/** Reads a 64-bit big-endian value at `off` as a bigint (caller guarantees 8 bytes). */
export function readU64(b: Uint8Array, off: number): bigint {
  const hi = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
  const lo = ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Writes a 64-bit value big-endian at `off` (caller guarantees room). */
export function writeU64(b: Uint8Array, off: number, v: bigint): void {
  const x = BigInt.asUintN(64, v);
  const hi = Number(x >> 32n);
  const lo = Number(x & 0xffff_ffffn);
  b[off] = hi >>> 24;
  b[off + 1] = (hi >>> 16) & 0xff;
  b[off + 2] = (hi >>> 8) & 0xff;
  b[off + 3] = hi & 0xff;
  b[off + 4] = lo >>> 24;
  b[off + 5] = (lo >>> 16) & 0xff;
  b[off + 6] = (lo >>> 8) & 0xff;
  b[off + 7] = lo & 0xff;
}

/** Reads a 16-bit big-endian value at `off` (caller guarantees 2 bytes). */
export function readU16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

/** Writes a 16-bit big-endian value at `off` (caller guarantees room). */
export function writeU16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

/** Reads a 32-bit big-endian value at `off` (caller guarantees 4 bytes). */
export function readU32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** Writes a 32-bit big-endian value at `off` (caller guarantees room). */
export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** Normalizes a decoder's (start, end) window; undefined when it is not inside `b`. */
export function windowOf(
  b: Uint8Array,
  start: number | undefined,
  end: number | undefined,
): [number, number] | undefined {
  const s = start ?? 0;
  const e = end ?? b.length;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || s > e || e > b.length) {
    return undefined;
  }
  return [s, e];
}
