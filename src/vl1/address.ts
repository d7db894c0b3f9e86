// The 40-bit ZeroTier node address: value type with binary (5 bytes big-endian) and hex forms.

/** Largest valid address value (2^40 - 1). */
const MAX_ADDRESS = 0xff_ffff_ffff;

/** A 40-bit ZeroTier node address (spec §0, §1.3). Immutable. */
export class Address {
  /** Numeric value, 0 .. 2^40-1. */
  readonly value: number;

  /** @throws RangeError when `value` is not an integer in 0 .. 2^40-1 (a programming error). */
  constructor(value: number) {
    if (!Number.isInteger(value) || value < 0 || value > MAX_ADDRESS) {
      throw new RangeError(`address out of range: ${value}`);
    }
    this.value = value;
  }

  /** Reads 5 big-endian bytes at `off`; the caller guarantees `off + 5 <= b.length`. */
  static fromBytes(b: Uint8Array, off: number): Address {
    const hi = b[off];
    const lo = ((b[off + 1] << 24) | (b[off + 2] << 16) | (b[off + 3] << 8) | b[off + 4]) >>> 0;
    return new Address(hi * 0x1_0000_0000 + lo);
  }

  /** Parses 1 to 10 hex digits (either case); undefined for anything else. */
  static parse(s: string): Address | undefined {
    if (!/^[0-9a-fA-F]{1,10}$/.test(s)) return undefined;
    return new Address(parseInt(s, 16));
  }

  /** Writes the 5 big-endian bytes at `off`; the caller guarantees room. */
  writeTo(b: Uint8Array, off: number): void {
    const v = this.value;
    const lo = v % 0x1_0000_0000;
    b[off] = (v - lo) / 0x1_0000_0000;
    b[off + 1] = lo >>> 24;
    b[off + 2] = (lo >>> 16) & 0xff;
    b[off + 3] = (lo >>> 8) & 0xff;
    b[off + 4] = lo & 0xff;
  }

  /** The 5-byte big-endian encoding. */
  toBytes(): Uint8Array {
    const b = new Uint8Array(5);
    this.writeTo(b, 0);
    return b;
  }

  /** True for address 0 and for any address whose first byte is 0xff (never valid for a node). */
  isReserved(): boolean {
    return this.value === 0 || this.value >= 0xff_0000_0000;
  }

  /** Same numeric value. */
  equals(o: Address): boolean {
    return this.value === o.value;
  }

  /** 10 lowercase hex digits, zero padded. */
  toString(): string {
    return this.value.toString(16).padStart(10, "0");
  }
}
