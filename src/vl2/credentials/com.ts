// Certificate of Membership: build, sign, serialize/parse, verify, agreement and acceptance (spec §7.4, §7.9).
import { Identity } from "../../vl1/identity.ts";
import { Writer } from "../../vl1/verbs/wire.ts";
import { safeWindow, Verdict, verifyByController } from "./signature.ts";

/** Most qualifiers a reader accepts. */
export const COM_MAX_QUALIFIERS = 8;
/** Qualifier ID: timestamp (value = ms, maxDelta = ctmd). */
export const COM_QUALIFIER_TIMESTAMP = 0n;
/** Qualifier ID: network ID (maxDelta 0). */
export const COM_QUALIFIER_NETWORK_ID = 1n;
/** Qualifier ID: issued-to address (maxDelta = all ones). */
export const COM_QUALIFIER_ISSUED_TO = 2n;
/** First of the four qualifier IDs (3..6) carrying the member's public key hash words. */
export const COM_QUALIFIER_KEY_HASH_0 = 3n;
const ALL_ONES = 0xffff_ffff_ffff_ffffn;

/** One COM qualifier (three u64s). */
export interface ComQualifier {
  /** Qualifier ID. */
  id: bigint;
  /** Value. */
  value: bigint;
  /** Largest difference from another COM's value that still agrees. */
  maxDelta: bigint;
}

/** A Certificate of Membership. */
export interface CertificateOfMembership {
  /** Qualifiers, IDs non-decreasing. */
  qualifiers: ComQualifier[];
  /** Signer address (0 = unsigned). */
  signedBy: number;
  /** 96-byte signature (present iff signedBy != 0). */
  signature?: Uint8Array;
}

// Key hash words per identity (identities are immutable; the hash costs a SHA-384).
const KEY_HASH_WORDS = new WeakMap<Identity, readonly bigint[]>();

function keyHashWords(identity: Identity): readonly bigint[] {
  let w = KEY_HASH_WORDS.get(identity);
  if (w === undefined) {
    const h = identity.publicKeyHash();
    const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
    w = Object.freeze([0, 1, 2, 3].map((i) => dv.getBigUint64(i * 8, false)));
    KEY_HASH_WORDS.set(identity, w);
  }
  return w;
}

/** Reads the 4 big-endian u64 words of SHA-384(address || publicKey) that COM IDs 3..6 carry. */
export function comKeyHashWords(identity: Identity): bigint[] {
  return [...keyHashWords(identity)];
}

/** One remembered {@link comAgrees} result for a peer COM object. */
interface Agreement {
  ours: CertificateOfMembership;
  identity: Identity;
  result: boolean;
}

// comAgrees results keyed by the peer's COM object, valid while our COM object and their identity
// stay the same objects (COMs are replaced, never edited, when credentials change).
const AGREEMENTS = new WeakMap<CertificateOfMembership, Agreement>();

/**
 * The unsigned COM a controller issues (spec §7.4): the 7 qualifiers timestamp/ctmd, network
 * ID, issued-to address, and the member's key hash words.
 */
export function comCreate(
  timestamp: bigint,
  credentialTimeMaxDelta: bigint,
  networkId: bigint,
  member: Identity,
): CertificateOfMembership {
  const q: ComQualifier[] = [
    { id: COM_QUALIFIER_TIMESTAMP, value: timestamp, maxDelta: credentialTimeMaxDelta },
    { id: COM_QUALIFIER_NETWORK_ID, value: networkId, maxDelta: 0n },
    { id: COM_QUALIFIER_ISSUED_TO, value: BigInt(member.address.value), maxDelta: ALL_ONES },
  ];
  comKeyHashWords(member).forEach((w, i) =>
    q.push({ id: COM_QUALIFIER_KEY_HASH_0 + BigInt(i), value: w, maxDelta: ALL_ONES })
  );
  return { qualifiers: q, signedBy: 0 };
}

/** The value of qualifier `id`, or undefined. */
export function comQualifier(com: CertificateOfMembership, id: bigint): bigint | undefined {
  return com.qualifiers.find((q) => q.id === id)?.value;
}

/** The COM timestamp (qualifier 0), or undefined. */
export function comTimestamp(com: CertificateOfMembership): bigint | undefined {
  return comQualifier(com, COM_QUALIFIER_TIMESTAMP);
}

/** The network ID (qualifier 1), or undefined. */
export function comNetworkId(com: CertificateOfMembership): bigint | undefined {
  return comQualifier(com, COM_QUALIFIER_NETWORK_ID);
}

/** The issued-to address (qualifier 2), or undefined. */
export function comIssuedTo(com: CertificateOfMembership): number | undefined {
  const v = comQualifier(com, COM_QUALIFIER_ISSUED_TO);
  return v === undefined ? undefined : Number(v & 0xff_ffff_ffffn);
}

/** What a COM signature covers: every qualifier as three big-endian u64s, nothing else. */
export function comSignedBytes(com: CertificateOfMembership): Uint8Array {
  const w = new Writer(com.qualifiers.length * 24);
  for (const q of com.qualifiers) w.u64(q.id).u64(q.value).u64(q.maxDelta);
  return w.finish();
}

/** A copy of `com` signed by `signer` (needs its private key). */
export function comSign(com: CertificateOfMembership, signer: Identity): CertificateOfMembership {
  return {
    qualifiers: com.qualifiers.map((q) => ({ ...q })),
    signedBy: signer.address.value,
    signature: signer.sign(comSignedBytes(com)),
  };
}

/** Binary form: `01 | count(2) | qualifiers | signedBy(5) | [signature(96)]`. */
export function comSerialize(com: CertificateOfMembership): Uint8Array {
  const w = new Writer(8 + com.qualifiers.length * 24 + 101);
  w.u8(1).u16(com.qualifiers.length);
  for (const q of com.qualifiers) w.u64(q.id).u64(q.value).u64(q.maxDelta);
  w.u40(com.signedBy);
  if (com.signedBy !== 0) w.bytes(com.signature ?? new Uint8Array(96));
  return w.finish();
}

/**
 * Parses a COM at `b[off..end)`: format 1, <= 8 qualifiers with non-decreasing IDs, signer and
 * (if signed) signature. Returns the COM and its byte length, or undefined.
 */
export function comDeserialize(
  b: Uint8Array,
  off = 0,
  end = b.length,
): { com: CertificateOfMembership; length: number } | undefined {
  const r = safeWindow(b, off, end);
  if (!r || r.u8() !== 1) return undefined;
  const n = r.u16();
  if (!r.ok || n > COM_MAX_QUALIFIERS) return undefined;
  const qualifiers: ComQualifier[] = [];
  let last = 0n;
  for (let i = 0; i < n; i++) {
    const id = r.u64();
    if (id < last) return undefined;
    last = id;
    qualifiers.push({ id, value: r.u64(), maxDelta: r.u64() });
  }
  const signedBy = r.u40();
  const com: CertificateOfMembership = { qualifiers, signedBy };
  if (signedBy !== 0) com.signature = r.copy(96);
  return r.ok ? { com, length: r.pos - off } : undefined;
}

/**
 * Verifies a COM: signed, signer is the controller of its network (qualifier 1 `>> 24`) and is
 * `signer`, signature valid.
 */
export function comVerify(com: CertificateOfMembership, signer: Identity): boolean {
  const nwid = comNetworkId(com);
  if (nwid === undefined) return false;
  return verifyByController(nwid, com.signedBy, signer, comSignedBytes(com), com.signature);
}

/** As {@link comVerify} with an identity lookup: "need-identity" if the signer is unknown. */
export function comVerifyWith(
  com: CertificateOfMembership,
  lookup: (address: number) => Identity | undefined,
): Verdict {
  if (com.signedBy === 0) return "bad";
  const id = lookup(com.signedBy);
  if (!id) return "need-identity";
  return comVerify(com, id) ? "ok" : "bad";
}

/**
 * Agreement (spec §7.4): both COMs have qualifiers; every qualifier of `ours` exists in
 * `theirs` with `|ours - theirs| <= our maxDelta`; and if `ours` has any of IDs 3..6, their IDs
 * 3..6 must equal the key hash words of `theirIdentity`.
 */
export function comAgrees(
  ours: CertificateOfMembership,
  theirs: CertificateOfMembership,
  theirIdentity: Identity,
): boolean {
  const a = AGREEMENTS.get(theirs);
  if (a !== undefined && a.ours === ours && a.identity === theirIdentity) return a.result;
  const result = agrees(ours, theirs, theirIdentity);
  AGREEMENTS.set(theirs, { ours, identity: theirIdentity, result });
  return result;
}

function agrees(
  ours: CertificateOfMembership,
  theirs: CertificateOfMembership,
  theirIdentity: Identity,
): boolean {
  if (ours.qualifiers.length === 0 || theirs.qualifiers.length === 0) return false;
  let checkKey = false;
  for (const q of ours.qualifiers) {
    const t = theirs.qualifiers.find((x) => x.id === q.id);
    if (!t) return false;
    const d = q.value > t.value ? q.value - t.value : t.value - q.value;
    if (d > q.maxDelta) return false;
    if (q.id >= COM_QUALIFIER_KEY_HASH_0 && q.id < COM_QUALIFIER_KEY_HASH_0 + 4n) checkKey = true;
  }
  if (checkKey) {
    const words = keyHashWords(theirIdentity);
    for (let i = 0; i < 4; i++) {
      const v = comQualifier(theirs, COM_QUALIFIER_KEY_HASH_0 + BigInt(i));
      if (v !== words[i]) return false;
    }
  }
  return true;
}

/**
 * Whether a peer is a member (spec §7.4): public network, or their COM's timestamp is above
 * the COM revocation threshold and our COM agrees with theirs.
 */
export function comMemberAllowed(
  isPublic: boolean,
  ours: CertificateOfMembership | undefined,
  theirs: CertificateOfMembership | undefined,
  theirIdentity: Identity,
  comRevocationThreshold: bigint,
): boolean {
  if (isPublic) return true;
  if (!ours || !theirs) return false;
  const ts = comTimestamp(theirs);
  if (ts === undefined || ts <= comRevocationThreshold) return false;
  return comAgrees(ours, theirs, theirIdentity);
}

/** Byte-exact equality of two COMs. */
export function comEquals(a: CertificateOfMembership, b: CertificateOfMembership): boolean {
  const x = comSerialize(a);
  const y = comSerialize(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Decision on receiving a COM (spec §7.9). "verify" = check the signature, then store it. */
export type ComAcceptance = "reject" | "redundant" | "verify";

/**
 * Receipt of a COM (spec §7.9): rejected if its timestamp is <= the COM revocation threshold or
 * older than the stored COM's; identical to the stored one -> redundant; otherwise verify.
 */
export function comAcceptance(
  stored: CertificateOfMembership | undefined,
  incoming: CertificateOfMembership,
  comRevocationThreshold: bigint,
): ComAcceptance {
  const ts = comTimestamp(incoming) ?? 0n;
  if (ts <= comRevocationThreshold) return "reject";
  if (stored) {
    if (ts < (comTimestamp(stored) ?? 0n)) return "reject";
    if (comEquals(stored, incoming)) return "redundant";
  }
  return "verify";
}
