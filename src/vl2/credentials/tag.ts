// Tag credential: build, sign, serialize/parse, verify against the controller (spec §7.7).
import { Identity } from "../../vl1/identity.ts";
import { Writer } from "../../vl1/verbs/wire.ts";
import {
  ControllerSigned,
  readSignedTrailer,
  safeWindow,
  signByController,
  signedForm,
  signedSerialize,
  verifyControllerSigned,
} from "./signature.ts";

/** A network tag: a (u32 id, u32 value) pair issued to one member. */
export interface Tag extends ControllerSigned {
  /** Network ID. */
  networkId: bigint;
  /** Timestamp (controller ms). */
  timestamp: bigint;
  /** Tag ID (u32). */
  id: number;
  /** Tag value (u32). */
  value: number;
  /** Member the tag is issued to. */
  issuedTo: number;
  /** Signer (the controller), 0 while unsigned. */
  signedBy: number;
  /** 96-byte signature, when signed. */
  signature?: Uint8Array;
}

function writeBody(w: Writer, t: Tag): void {
  w.u64(t.networkId).u64(t.timestamp).u32(t.id).u32(t.value).u40(t.issuedTo).u40(t.signedBy);
}

/** The signed form `7f×8 | nwid | ts | id | value | issuedTo | signedBy | 0000 | 7f×8`. */
export function tagSignedBytes(t: Tag): Uint8Array {
  return signedForm(68, (w) => writeBody(w, t));
}

/** A copy of `t` with `signedBy` = signer and its signature. */
export function tagSign(t: Tag, signer: Identity): Tag {
  return signByController(t, signer, tagSignedBytes);
}

/** Binary form (spec §7.7), 133 bytes. */
export function tagSerialize(t: Tag): Uint8Array {
  return signedSerialize(133, (w) => writeBody(w, t), t.signature);
}

/** Parses a Tag at `b[off..end)`; the tag and its byte length, or undefined. */
export function tagDeserialize(
  b: Uint8Array,
  off = 0,
  end = b.length,
): { tag: Tag; length: number } | undefined {
  const r = safeWindow(b, off, end);
  if (!r) return undefined;
  const tag: Tag = {
    networkId: r.u64(),
    timestamp: r.u64(),
    id: r.u32(),
    value: r.u32(),
    issuedTo: r.u40(),
    signedBy: r.u40(),
  };
  return readSignedTrailer(r, tag) ? { tag, length: r.pos - off } : undefined;
}

/** True if signed by `signer`, which is the network's controller, with a valid signature. */
export function tagVerify(t: Tag, signer: Identity): boolean {
  return verifyControllerSigned(t, signer, tagSignedBytes);
}
