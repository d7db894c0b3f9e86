// NetworkId: the 64-bit ZeroTier network ID value type (controller address ‖ 24-bit number).

const MASK64 = 0xffff_ffff_ffff_ffffn;

/** A 64-bit network ID (spec §0, §5.4). Immutable. */
export class NetworkId {
  /** Numeric value, 0 .. 2^64-1. */
  readonly value: bigint;

  /** @throws RangeError when `value` is outside 0 .. 2^64-1 (a programming error). */
  constructor(value: bigint) {
    if (typeof value !== "bigint" || value < 0n || value > MASK64) {
      throw new RangeError(`network id out of range: ${value}`);
    }
    this.value = value;
  }

  /** Parses exactly 16 hex digits (either case); undefined for anything else. */
  static parse(s: string): NetworkId | undefined {
    if (typeof s !== "string" || !/^[0-9a-fA-F]{16}$/.test(s)) return undefined;
    return new NetworkId(BigInt("0x" + s));
  }

  /** Builds `controller << 24 | number` from a 40-bit controller address and a 24-bit number. */
  static fromParts(controllerAddress: number, networkNumber: number): NetworkId {
    return new NetworkId(
      (BigInt(controllerAddress) & 0xff_ffff_ffffn) << 24n | BigInt(networkNumber & 0xffffff),
    );
  }

  /** Reads 8 big-endian bytes at `off`; undefined if the buffer is too short. */
  static fromBytes(b: Uint8Array, off = 0): NetworkId | undefined {
    if (off < 0 || off + 8 > b.length) return undefined;
    const dv = new DataView(b.buffer, b.byteOffset + off, 8);
    return new NetworkId(dv.getBigUint64(0, false));
  }

  /** The 8-byte big-endian encoding. */
  toBytes(): Uint8Array {
    const b = new Uint8Array(8);
    this.writeTo(b, 0);
    return b;
  }

  /** Writes the 8 big-endian bytes at `off`; the caller guarantees room. */
  writeTo(b: Uint8Array, off: number): void {
    new DataView(b.buffer, b.byteOffset + off, 8).setBigUint64(0, this.value, false);
  }

  /** The 40-bit address of the controller that owns this network (`nwid >> 24`). */
  get controllerAddress(): number {
    return Number(this.value >> 24n);
  }

  /** The low 24 bits: the network's number on its controller. */
  get networkNumber(): number {
    return Number(this.value & 0xffffffn);
  }

  /** True for the locally synthesized "ad-hoc" IDs (top byte 0xff, spec §5.4). */
  isAdhoc(): boolean {
    return this.value >> 56n === 0xffn;
  }

  /** Same value. */
  equals(o: NetworkId): boolean {
    return this.value === o.value;
  }

  /** 16 lowercase hex digits, zero padded. */
  toString(): string {
    return this.value.toString(16).padStart(16, "0");
  }
}
