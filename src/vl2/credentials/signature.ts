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

/** Appends the 8-byte `7f…7f` marker used around credential signed forms. */
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
