// Shared pieces of the signed credentials: 7f markers, signature trailer codec, verdicts (spec §7.4-7.8).
import { Identity } from "../../vl1/identity.ts";
import { Reader, Writer } from "../../vl1/verbs/wire.ts";

/** Length of every credential signature (spec §2.2). */
export const CREDENTIAL_SIGNATURE_LENGTH = 96;
/** Signature type byte for a C25519/Ed25519 signature. */
export const SIGNATURE_TYPE_C25519 = 1;

/** Outcome of verifying a credential. */
export type Verdict =
  /** Signature(s) valid and signer(s) acceptable. */
  | "ok"
  /** Malformed, wrong signer or bad signature. */
  | "bad"
  /** A needed signer identity is not known yet (WHOIS it, then retry). */
  | "need-identity";

/** Looks up a known identity by 40-bit address (undefined when unknown). */
export type IdentityLookup = (address: number) => Identity | undefined;

/** Credential type numbers, as used by revocations (spec §7.8). */
export enum CredentialType {
  NULL = 0,
  COM = 1,
  CAPABILITY = 2,
  TAG = 3,
  COO = 4,
  REVOCATION = 6,
}

/** Appends the 8-byte `7f...7f` marker used around credential signed forms. */
export function writeMarker(w: Writer): void {
  for (let i = 0; i < 8; i++) w.u8(0x7f);
}

/**
 * Reads `sigType(1) | sigLen(2) | signature`. Type 1 requires length 96 and yields the
 * signature (a copy); other types are skipped (their length-prefixed bytes) and yield
 * undefined. Clears `r.ok` on truncation or a type-1 length other than 96.
 */
export function readSignature(r: Reader): Uint8Array | undefined {
  const type = r.u8();
  const len = r.u16();
  if (!r.ok) return undefined;
  if (type === SIGNATURE_TYPE_C25519) {
    if (len !== CREDENTIAL_SIGNATURE_LENGTH) {
      r.ok = false;
      return undefined;
    }
    const s = r.copy(len);
    return r.ok ? s : undefined;
  }
  r.skip(len);
  return undefined;
}

/** Writes `01 | 0060 | signature`, or `01 | 0060 | 96 zero bytes` when unsigned. */
export function writeSignature(w: Writer, sig: Uint8Array | undefined): void {
  w.u8(SIGNATURE_TYPE_C25519).u16(CREDENTIAL_SIGNATURE_LENGTH);
  w.bytes(sig ?? new Uint8Array(CREDENTIAL_SIGNATURE_LENGTH));
}

/** Skips `additional fields length(2) | bytes`. */
export function skipAdditionalFields(r: Reader): void {
  r.skip(r.u16());
}

/** True when `signer` has address `signedBy`, that is the controller of `networkId`, and `sig` verifies. */
export function verifyByController(
  networkId: bigint,
  signedBy: number,
  signer: Identity,
  signedBytes: Uint8Array,
  sig: Uint8Array | undefined,
): boolean {
  if (sig === undefined || signedBy === 0) return false;
  if (BigInt(signedBy) !== networkId >> 24n) return false;
  if (signer.address.value !== signedBy) return false;
  return signer.verify(signedBytes, sig);
}

/** Runs a decoder over `b[off..end)` without ever throwing; undefined on any failure. */
export function safeWindow(b: Uint8Array, off: number, end: number): Reader | undefined {
  if (
    !Number.isInteger(off) || !Number.isInteger(end) || off < 0 || off > end || end > b.length
  ) return undefined;
  return new Reader(b, off, end);
}

/** The fields every controller-signed credential (COO, tag, revocation) carries. */
export interface ControllerSigned {
  /** Network ID; its top 40 bits are the controller address. */
  networkId: bigint;
  /** Signer (the controller), 0 while unsigned. */
  signedBy: number;
  /** 96-byte signature, when signed. */
  signature?: Uint8Array;
}

/** Builds a credential's signed form `7f×8 | body | 0000 | 7f×8` (`capacity` is a size hint). */
export function signedForm(capacity: number, body: (w: Writer) => void): Uint8Array {
  const w = new Writer(capacity);
  writeMarker(w);
  body(w);
  w.u16(0);
  writeMarker(w);
  return w.finish();
}

/** Builds a credential's binary form `body | 01 | 0060 | signature | 0000` (no additional fields). */
export function signedSerialize(
  capacity: number,
  body: (w: Writer) => void,
  sig: Uint8Array | undefined,
): Uint8Array {
  const w = new Writer(capacity);
  body(w);
  writeSignature(w, sig);
  w.u16(0);
  return w.finish();
}

/**
 * Reads the trailer `signature | additional fields` into `c` (its signature set only for a
 * C25519 one). True when everything read so far is intact (`r.ok`).
 */
export function readSignedTrailer(r: Reader, c: { signature?: Uint8Array }): boolean {
  const sig = readSignature(r);
  if (sig) c.signature = sig;
  skipAdditionalFields(r);
  return r.ok;
}

/** A copy of `c` with `signedBy` = signer and its signature over `signedBytes` of that copy. */
export function signByController<T extends ControllerSigned>(
  c: T,
  signer: Identity,
  signedBytes: (c: T) => Uint8Array,
): T {
  const u: T = { ...c, signedBy: signer.address.value, signature: undefined };
  u.signature = signer.sign(signedBytes(u));
  return u;
}

/** True if `c` is signed by `signer`, which is the network's controller, with a valid signature. */
export function verifyControllerSigned<T extends ControllerSigned>(
  c: T,
  signer: Identity,
  signedBytes: (c: T) => Uint8Array,
): boolean {
  return verifyByController(c.networkId, c.signedBy, signer, signedBytes(c), c.signature);
}
