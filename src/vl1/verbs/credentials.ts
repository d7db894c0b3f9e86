// NETWORK_CREDENTIALS (0x0a) container codec and byte-length walkers for the five credential kinds.
import { Reader, windowOf, Writer } from "./wire.ts";

/** Most COM qualifiers a reader accepts (spec §7.4). */
export const COM_MAX_QUALIFIERS = 8;
/** Most rules a capability may carry (spec §7.6). */
export const CAPABILITY_MAX_RULES = 64;
/** Longest capability custody chain (spec §7.6). */
export const CAPABILITY_MAX_CUSTODY_CHAIN = 7;
/** Most COO things a reader consumes (spec §7.5); further declared things are not read. */
export const COO_MAX_THINGS = 16;
/** Signature length of every credential signature (spec §2.2). */
const SIGNATURE_LENGTH = 96;

/**
 * Skips `sigType | sigLen | signature`: type 1 requires length 96; any other type is followed
 * by a u16 length and that many skipped bytes (spec §7.5-7.8).
 */
function skipSignature(r: Reader): void {
  if (r.u8() === 1) {
    if (r.u16() !== SIGNATURE_LENGTH) r.ok = false;
    else r.skip(SIGNATURE_LENGTH);
  } else {
    r.skip(r.u16());
  }
}

/** Skips the trailing `additional fields length (2) | bytes`. */
function skipAdditional(r: Reader): void {
  r.skip(r.u16());
}

function finish(r: Reader, off: number): number | undefined {
  return r.ok ? r.pos - off : undefined;
}

/**
 * Byte length of the Certificate of Membership at `b[off..)`, not reading at or past `end`
 * (spec §7.4: format 0x01, <= 8 qualifiers with non-decreasing ids, signer, signature if signed).
 * Undefined when malformed or truncated.
 */
export function comLength(b: Uint8Array, off: number, end = b.length): number | undefined {
  const r = new Reader(b, off, end);
  if (r.u8() !== 1) return undefined;
  const n = r.u16();
  if (n > COM_MAX_QUALIFIERS) return undefined;
  let last = 0n;
  for (let i = 0; i < n && r.ok; i++) {
    const id = r.u64();
    if (id < last) return undefined;
    last = id;
    r.skip(16);
  }
  if (r.u40() !== 0) r.skip(SIGNATURE_LENGTH);
  return finish(r, off);
}

/**
 * Byte length of the Capability at `b[off..)` (spec §7.6, rules per §8.2 as `t | L | L bytes`).
 * Enforces <= 64 rules, custody chain limit 1..7, signature type/length rules. Undefined when
 * malformed or truncated.
 */
export function capabilityLength(b: Uint8Array, off: number, end = b.length): number | undefined {
  const r = new Reader(b, off, end);
  r.skip(20); // nwid, timestamp, id
  const ruleCount = r.u16();
  if (ruleCount > CAPABILITY_MAX_RULES) return undefined;
  for (let i = 0; i < ruleCount && r.ok; i++) {
    r.skip(1);
    r.skip(r.u8());
  }
  const maxChain = r.u8();
  if (!r.ok || maxChain < 1 || maxChain > CAPABILITY_MAX_CUSTODY_CHAIN) return undefined;
  for (let i = 0; r.ok; i++) {
    if (r.u40() === 0) break;
    if (i >= maxChain) return undefined;
    r.skip(5); // from
    skipSignature(r);
  }
  skipAdditional(r);
  return finish(r, off);
}

/** Byte length of the Tag at `b[off..)` (spec §7.7). Undefined when malformed or truncated. */
export function tagLength(b: Uint8Array, off: number, end = b.length): number | undefined {
  const r = new Reader(b, off, end);
  r.skip(34); // nwid, ts, id, value, issuedTo, signedBy
  skipSignature(r);
  skipAdditional(r);
  return finish(r, off);
}

/** Byte length of the Revocation at `b[off..)` (spec §7.8). Undefined when malformed/truncated. */
export function revocationLength(b: Uint8Array, off: number, end = b.length): number | undefined {
  const r = new Reader(b, off, end);
  r.skip(51); // reserved, id, nwid, reserved, credential id, threshold, flags, target, signer, type
  skipSignature(r);
  skipAdditional(r);
  return finish(r, off);
}

/**
 * Byte length of the Certificate of Ownership at `b[off..)` (spec §7.5). Like the reference
 * reader, only the first 16 declared things are consumed (17 bytes each). Undefined when
 * malformed or truncated.
 */
export function cooLength(b: Uint8Array, off: number, end = b.length): number | undefined {
  const r = new Reader(b, off, end);
  r.skip(28); // nwid, ts, flags, id
  const things = r.u16();
  r.skip(Math.min(things, COO_MAX_THINGS) * 17);
  r.skip(10); // issuedTo, signedBy
  skipSignature(r);
  skipAdditional(r);
  return finish(r, off);
}

/**
 * Decoded NETWORK_CREDENTIALS payload: the raw serialized credentials of each kind, in order.
 * When decoding, every entry is a view (no copy) into the payload buffer.
 */
export interface NetworkCredentials {
  /** Certificates of Membership (spec §7.4). */
  coms: Uint8Array[];
  /** Capabilities (spec §7.6). */
  capabilities: Uint8Array[];
  /** Tags (spec §7.7). */
  tags: Uint8Array[];
  /** Revocations (spec §7.8). */
  revocations: Uint8Array[];
  /** Certificates of Ownership (spec §7.5). */
  coos: Uint8Array[];
}

/**
 * Encodes `COMs | 0x00 | u16 count + capabilities | u16 count + tags | u16 count + revocations |
 * u16 count + COOs` (spec §4.10). All four counted sections are always written. Credential bytes
 * are copied verbatim (each must already be a valid serialized credential).
 */
export function encodeNetworkCredentials(c: NetworkCredentials): Uint8Array {
  const w = new Writer(512);
  for (const x of c.coms) w.bytes(x);
  w.u8(0);
  for (const list of [c.capabilities, c.tags, c.revocations, c.coos]) {
    w.u16(list.length);
    for (const x of list) w.bytes(x);
  }
  return w.finish();
}

/**
 * Splits a NETWORK_CREDENTIALS payload `payload[start..end)` into its credentials (spec §4.10).
 * COMs run until a 0x00 byte (or the end); each later section (capabilities, tags,
 * revocations, COOs) is optional once the payload ends, as older senders omit them.
 * Undefined if any credential is malformed or a declared one is truncated.
 */
export function decodeNetworkCredentials(
  payload: Uint8Array,
  start?: number,
  end?: number,
): NetworkCredentials | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const [s, e] = w;
  const out: NetworkCredentials = {
    coms: [],
    capabilities: [],
    tags: [],
    revocations: [],
    coos: [],
  };
  let p = s;
  while (p < e && payload[p] !== 0) {
    const n = comLength(payload, p, e);
    if (n === undefined) return undefined;
    out.coms.push(payload.subarray(p, p + n));
    p += n;
  }
  p++; // the 0x00 terminator (if present)
  const sections: [Uint8Array[], typeof comLength][] = [
    [out.capabilities, capabilityLength],
    [out.tags, tagLength],
    [out.revocations, revocationLength],
    [out.coos, cooLength],
  ];
  for (const [list, lengthOf] of sections) {
    if (p >= e) break;
    if (p + 2 > e) return undefined;
    const count = (payload[p] << 8) | payload[p + 1];
    p += 2;
    for (let i = 0; i < count; i++) {
      const n = lengthOf(payload, p, e);
      if (n === undefined) return undefined;
      list.push(payload.subarray(p, p + n));
      p += n;
    }
  }
  return out;
}
