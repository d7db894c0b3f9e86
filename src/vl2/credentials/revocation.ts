// Revocation credential: build, sign, serialize/parse, verify, and its threshold semantics (spec §7.8).
import { Identity } from "../../vl1/identity.ts";
import { Writer } from "../../vl1/verbs/wire.ts";
import {
  ControllerSigned,
  CredentialType,
  readSignedTrailer,
  safeWindow,
  signByController,
  signedForm,
  signedSerialize,
  verifyControllerSigned,
} from "./signature.ts";

/** Revocation flag: receivers re-send a new revocation to every other known member. */
export const REVOCATION_FLAG_FAST_PROPAGATE = 0x01n;

/** A revocation of one member's credentials of one type (and ID) up to a threshold. */
export interface Revocation extends ControllerSigned {
  /** Revocation ID (random u32). */
  id: number;
  /** Network ID. */
  networkId: bigint;
  /** ID of the revoked credential (0 for COM / all). */
  credentialId: number;
  /** Credentials with timestamp <= this (ms) are revoked (i64). */
  threshold: bigint;
  /** Flags (0x01 fast propagate). */
  flags: bigint;
  /** Member whose credential is revoked. */
  target: number;
  /** Signer (the controller), 0 while unsigned. */
  signedBy: number;
  /** Type of the revoked credential. */
  credentialType: CredentialType;
  /** 96-byte signature, when signed. */
  signature?: Uint8Array;
}

function writeBody(w: Writer, r: Revocation): void {
  w.u32(0).u32(r.id).u64(r.networkId).u32(0).u32(r.credentialId).u64(r.threshold).u64(r.flags);
  w.u40(r.target).u40(r.signedBy).u8(r.credentialType);
}

/** Signed form: `7f×8 | reserved ... credential type | 0000 | 7f×8`. */
export function revocationSignedBytes(r: Revocation): Uint8Array {
  return signedForm(69, (w) => writeBody(w, r));
}

/** A copy of `r` with `signedBy` = signer and its signature. */
export function revocationSign(r: Revocation, signer: Identity): Revocation {
  return signByController(r, signer, revocationSignedBytes);
}

/** Binary form (spec §7.8), 152 bytes. */
export function revocationSerialize(r: Revocation): Uint8Array {
  return signedSerialize(152, (w) => writeBody(w, r), r.signature);
}

/** Parses a Revocation at `b[off..end)`; the revocation and its byte length, or undefined. */
export function revocationDeserialize(
  b: Uint8Array,
  off = 0,
  end = b.length,
): { revocation: Revocation; length: number } | undefined {
  const r = safeWindow(b, off, end);
  if (!r) return undefined;
  r.skip(4);
  const id = r.u32();
  const networkId = r.u64();
  r.skip(4);
  const rev: Revocation = {
    id,
    networkId,
    credentialId: r.u32(),
    threshold: BigInt.asIntN(64, r.u64()),
    flags: r.u64(),
    target: r.u40(),
    signedBy: r.u40(),
    credentialType: r.u8(),
  };
  return readSignedTrailer(r, rev) ? { revocation: rev, length: r.pos - off } : undefined;
}

/** True if signed by `signer`, which is the network's controller, with a valid signature. */
export function revocationVerify(r: Revocation, signer: Identity): boolean {
  return verifyControllerSigned(r, signer, revocationSignedBytes);
}

/** True if the fast-propagate flag is set. */
export function revocationFastPropagate(r: Revocation): boolean {
  return (r.flags & REVOCATION_FLAG_FAST_PROPAGATE) !== 0n;
}

/**
 * Per-member revocation state (spec §7.8): the COM threshold and one threshold per
 * (credential type, credential ID). Treat as immutable; {@link revocationApply} returns a copy.
 */
export interface RevocationState {
  /** COMs with timestamp <= this are no longer accepted / allowed. */
  comThreshold: bigint;
  /** Thresholds keyed by {@link revocationKey}. */
  thresholds: ReadonlyMap<string, bigint>;
}

/** An empty state (nothing revoked). */
export function emptyRevocationState(): RevocationState {
  return { comThreshold: 0n, thresholds: new Map() };
}

/** Map key of a (credential type, credential ID) threshold. */
export function revocationKey(type: CredentialType, credentialId: number): string {
  return `${type}:${credentialId >>> 0}`;
}

/** Result of considering a revocation: new (verify it, then apply), redundant, or rejected. */
export type RevocationDecision = "new" | "redundant" | "reject";

/**
 * Whether a received revocation changes anything (spec §7.8): COM revocations are new if their
 * threshold exceeds the COM threshold; CAP/TAG/COO ones if it exceeds that credential's
 * threshold; other credential types are rejected. The caller verifies the signature only for
 * "new" revocations, then calls {@link revocationApply}.
 */
export function revocationDecision(state: RevocationState, r: Revocation): RevocationDecision {
  switch (r.credentialType) {
    case CredentialType.COM:
      return state.comThreshold < r.threshold ? "new" : "redundant";
    case CredentialType.CAPABILITY:
    case CredentialType.TAG:
    case CredentialType.COO: {
      const cur = state.thresholds.get(revocationKey(r.credentialType, r.credentialId));
      return (cur ?? 0n) < r.threshold ? "new" : "redundant";
    }
    default:
      return "reject";
  }
}

/**
 * The state after applying a (new, verified) revocation. QUIRK (spec §7.8): a CAP/TAG/COO
 * revocation also overwrites the COM threshold with its threshold.
 */
export function revocationApply(state: RevocationState, r: Revocation): RevocationState {
  switch (r.credentialType) {
    case CredentialType.COM:
      return {
        comThreshold: r.threshold > state.comThreshold ? r.threshold : state.comThreshold,
        thresholds: state.thresholds,
      };
    case CredentialType.CAPABILITY:
    case CredentialType.TAG:
    case CredentialType.COO: {
      const m = new Map(state.thresholds);
      m.set(revocationKey(r.credentialType, r.credentialId), r.threshold);
      return { comThreshold: r.threshold, thresholds: m };
    }
    default:
      return state;
  }
}

/** The revocation threshold for a CAP/TAG/COO ID (undefined = never revoked). */
export function revocationThreshold(
  state: RevocationState,
  type: CredentialType,
  credentialId: number,
): bigint | undefined {
  return state.thresholds.get(revocationKey(type, credentialId));
}
