// The Dictionary codec: ordered key=value entries with the 5 value escapes and typed helpers (spec §7.1).

/** Netconf dictionary capacity on x86-64 Linux, NUL included (spec §7.1). */
export const NETCONF_DICT_CAPACITY = 484_520;
/** NETWORK_CONFIG_REQUEST metadata dictionary capacity, NUL included (spec §7.1). */
export const METADATA_DICT_CAPACITY = 1024;

const BACKSLASH = 0x5c;
const MASK64 = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: false });

/** Keys are compared byte-exact; they are held as latin1 strings (one char per byte). */
function keyToString(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** One `key=value` entry; `value` holds the unescaped bytes. */
export interface DictionaryEntry {
  /** Entry key (latin1: one char per key byte). */
  key: string;
  /** Unescaped value bytes. */
  value: Uint8Array;
}

/**
 * Escapes a value: 0x00->`\0`, CR->`\r`, LF->`\n`, `\`->`\\`, `=`->`\e`; every other byte raw.
 */
export function escapeDictionaryValue(v: Uint8Array): Uint8Array {
  let extra = 0;
  for (const c of v) {
    if (c === 0 || c === 0x0d || c === 0x0a || c === BACKSLASH || c === 0x3d) extra++;
  }
  const out = new Uint8Array(v.length + extra);
  let p = 0;
  for (const c of v) {
    switch (c) {
      case 0:
        out[p++] = BACKSLASH;
        out[p++] = 0x30; // '0'
        break;
      case 0x0d:
        out[p++] = BACKSLASH;
        out[p++] = 0x72; // 'r'
        break;
      case 0x0a:
        out[p++] = BACKSLASH;
        out[p++] = 0x6e; // 'n'
        break;
      case BACKSLASH:
        out[p++] = BACKSLASH;
        out[p++] = BACKSLASH;
        break;
      case 0x3d:
        out[p++] = BACKSLASH;
        out[p++] = 0x65; // 'e'
        break;
      default:
        out[p++] = c;
    }
  }
  return out;
}

/**
 * Parses a hex integer like C `strtoull(s, 0, 16)`: optional leading whitespace, optional sign,
 * optional `0x`, then hex digits up to the first non-hex byte (none -> 0). Overflow saturates to
 * 2^64-1; a `-` sign negates modulo 2^64.
 */
export function parseHexU64(s: Uint8Array): bigint {
  const { neg, mag, overflow } = scanHex(s);
  if (overflow) return MASK64;
  return neg ? BigInt.asUintN(64, -mag) : mag;
}

/** Like C `strtoll(s, 0, 16)`: as {@link parseHexU64} but signed, saturating to the i64 range. */
export function parseHexI64(s: Uint8Array): bigint {
  const { neg, mag, overflow } = scanHex(s);
  const v = neg ? -mag : mag;
  if (overflow || v > I64_MAX) return neg ? I64_MIN : I64_MAX;
  if (v < I64_MIN) return I64_MIN;
  return v;
}

function scanHex(s: Uint8Array): { neg: boolean; mag: bigint; overflow: boolean } {
  let i = 0;
  while (i < s.length && (s[i] === 0x20 || (s[i] >= 0x09 && s[i] <= 0x0d))) i++;
  let neg = false;
  if (s[i] === 0x2b || s[i] === 0x2d) neg = s[i++] === 0x2d;
  if (s[i] === 0x30 && (s[i + 1] === 0x78 || s[i + 1] === 0x58) && hexVal(s[i + 2]) >= 0) i += 2;
  let mag = 0n;
  let overflow = false;
  for (; i < s.length; i++) {
    const d = hexVal(s[i]);
    if (d < 0) break;
    if (!overflow) {
      mag = (mag << 4n) | BigInt(d);
      if (mag > MASK64) overflow = true;
    }
  }
  return { neg, mag, overflow };
}

function hexVal(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** 16 lowercase hex digits of `v` mod 2^64, zero padded (the dictionary u64 form). */
export function formatHexU64(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, "0");
}

/** The dictionary i64 form: 16 hex digits, negative values as `-` + 16 digits of the magnitude. */
export function formatHexI64(v: bigint): string {
  const x = BigInt.asIntN(64, v);
  return x < 0n ? "-" + (-x).toString(16).padStart(16, "0") : x.toString(16).padStart(16, "0");
}

/**
 * An ordered ZeroTier dictionary (spec §7.1). Duplicate keys may exist; lookups return the
 * first. Parsing then encoding a dictionary written by the reference reproduces its bytes.
 */
export class Dictionary {
  /** Entries in order. */
  readonly entries: DictionaryEntry[] = [];

  /**
   * Parses dictionary bytes (without or with a NUL terminator: parsing stops at the first
   * unescaped NUL). Entries end at an unescaped CR or LF; text without `=` before the end of its
   * entry is ignored, as are empty lines. Never fails: every byte string is some dictionary.
   */
  static parse(b: Uint8Array, start = 0, end = b.length): Dictionary {
    const d = new Dictionary();
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > b.length) {
      return d;
    }
    let i = start;
    while (i < end) {
      // key
      const ks = i;
      while (i < end && b[i] !== 0x3d && b[i] !== 0x0a && b[i] !== 0x0d && b[i] !== 0) i++;
      if (i >= end || b[i] === 0) break;
      if (b[i] !== 0x3d) {
        i++; // an entry with no '=': skip it
        continue;
      }
      const key = keyToString(b, ks, i);
      i++;
      // value: count, then unescape
      const vs = i;
      let n = 0;
      while (i < end) {
        const c = b[i];
        if (c === 0x0a || c === 0x0d || c === 0) break;
        if (c === BACKSLASH && i + 1 < end && b[i + 1] !== 0) i += 2;
        else i++;
        n++;
      }
      const ve = i;
      const value = new Uint8Array(n);
      let p = 0;
      for (let j = vs; j < ve;) {
        const c = b[j++];
        if (c !== BACKSLASH) {
          value[p++] = c;
          continue;
        }
        if (j >= ve) break; // a dangling escape at the end of the value is dropped
        const e = b[j++];
        value[p++] = e === 0x72 ? 0x0d : e === 0x6e ? 0x0a : e === 0x30 ? 0 : e === 0x65 ? 0x3d : e;
      }
      d.entries.push({ key, value: value.subarray(0, p) });
      if (i < end && b[i] === 0) break;
      if (i < end) i++; // the CR / LF
    }
    return d;
  }

  /** The encoded bytes: `key=escaped value` joined with LF, no trailing NUL. */
  encode(): Uint8Array {
    const parts: Uint8Array[] = [];
    let n = 0;
    for (const e of this.entries) {
      const k = new Uint8Array(e.key.length + 1);
      for (let i = 0; i < e.key.length; i++) k[i] = e.key.charCodeAt(i) & 0xff;
      k[e.key.length] = 0x3d;
      const v = escapeDictionaryValue(e.value);
      parts.push(k, v);
      n += k.length + v.length + (parts.length > 2 ? 1 : 0);
    }
    const out = new Uint8Array(n);
    let p = 0;
    for (let i = 0; i < parts.length; i += 2) {
      if (i > 0) out[p++] = 0x0a;
      out.set(parts[i], p);
      p += parts[i].length;
      out.set(parts[i + 1], p);
      p += parts[i + 1].length;
    }
    return out;
  }

  /** True if the encoded form plus its NUL fits a buffer of `capacity` bytes. */
  fits(capacity: number): boolean {
    return this.encode().length + 1 <= capacity;
  }

  /** True if some entry has this key. */
  has(key: string): boolean {
    return this.entries.some((e) => e.key === key);
  }

  /** The first value for `key` (unescaped bytes, a view of the stored value), or undefined. */
  get(key: string): Uint8Array | undefined {
    for (const e of this.entries) if (e.key === key) return e.value;
    return undefined;
  }

  /** The first value as UTF-8 text (invalid sequences replaced), or undefined. */
  getString(key: string): string | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : utf8Decoder.decode(v);
  }

  /** The first value read as hex u64 (strtoull), or `dflt` when the key is absent or empty. */
  getU64(key: string, dflt: bigint): bigint;
  /** The first value read as hex u64 (strtoull), or undefined when absent or empty. */
  getU64(key: string): bigint | undefined;
  getU64(key: string, dflt?: bigint): bigint | undefined {
    const v = this.get(key);
    return v === undefined || v.length === 0 ? dflt : parseHexU64(v);
  }

  /** The first value read as hex i64 (strtoll), or `dflt` when absent or empty. */
  getI64(key: string, dflt: bigint): bigint;
  /** The first value read as hex i64 (strtoll), or undefined when absent or empty. */
  getI64(key: string): bigint | undefined;
  getI64(key: string, dflt?: bigint): bigint | undefined {
    const v = this.get(key);
    return v === undefined || v.length === 0 ? dflt : parseHexI64(v);
  }

  /** True if the first value starts with `1`, `t` or `T`; `dflt` when absent or empty. */
  getBool(key: string, dflt = false): boolean {
    const v = this.get(key);
    if (v === undefined || v.length === 0) return dflt;
    return v[0] === 0x31 || v[0] === 0x74 || v[0] === 0x54;
  }

  /** Appends an entry with raw value bytes (escaped when encoded). Returns this. */
  add(key: string, value: Uint8Array): this {
    this.entries.push({ key, value });
    return this;
  }

  /** Appends a UTF-8 string value. */
  addString(key: string, value: string): this {
    return this.add(key, utf8Encoder.encode(value));
  }

  /** Appends a u64 as 16 lowercase hex digits. */
  addU64(key: string, value: bigint | number): this {
    return this.addString(key, formatHexU64(BigInt(value)));
  }

  /** Appends an i64 (16 hex digits, negative as `-` + magnitude). */
  addI64(key: string, value: bigint | number): this {
    return this.addString(key, formatHexI64(BigInt(value)));
  }

  /** Appends `1` or `0`. */
  addBool(key: string, value: boolean): this {
    return this.addString(key, value ? "1" : "0");
  }

  /** Appends a 40-bit address as 10 lowercase hex digits. */
  addAddress(key: string, address: number): this {
    return this.addString(key, address.toString(16).padStart(10, "0"));
  }
}
