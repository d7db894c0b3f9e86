// Certificate of Ownership: things (MAC/IPv4/IPv6) a member owns; build, sign, serialize/parse, verify (spec §7.5).
import { Identity } from "../../vl1/identity.ts";
import { InetAddress } from "../../vl1/inet_address.ts";
import { Writer } from "../../vl1/verbs/wire.ts";
import { macToBytes } from "../mac.ts";
import {
  ControllerSigned,
  readSignedTrailer,
  safeWindow,
  signByController,
  signedForm,
  signedSerialize,
  verifyControllerSigned,
} from "./signature.ts";

/** Most things a reader consumes per COO. */
export const COO_MAX_THINGS = 16;
/** Thing type: MAC address (6 bytes). */
export const COO_THING_MAC = 1;
/** Thing type: IPv4 address (4 bytes). */
export const COO_THING_IPV4 = 2;
/** Thing type: IPv6 address (16 bytes). */
export const COO_THING_IPV6 = 3;

/** One owned thing: a type and its 16-byte zero-padded value. */
export interface CooThing {
  /** 1 MAC, 2 IPv4, 3 IPv6 (other values kept as-is). */
  type: number;
  /** 16 bytes, the value zero-padded. */
  value: Uint8Array;
}

/** A Certificate of Ownership. */
export interface CertificateOfOwnership extends ControllerSigned {
  /** Network ID. */
  networkId: bigint;
  /** Timestamp (controller ms). */
  timestamp: bigint;
  /** Flags (0). */
  flags: bigint;
  /** COO ID (u32; the controller uses 1). */
  id: number;
  /** Owned things (<= 16). */
  things: CooThing[];
  /** Member the COO is issued to. */
  issuedTo: number;
  /** Signer (the controller), 0 while unsigned. */
  signedBy: number;
  /** 96-byte signature, when signed. */
  signature?: Uint8Array;
}

function thing(type: number, bytes: Uint8Array): CooThing {
  const value = new Uint8Array(16);
  value.set(bytes.subarray(0, 16));
  return { type, value };
}

/** The thing for an IP (type 2 or 3 by family; the port is ignored). */
export function cooIpThing(ip: InetAddress): CooThing {
  return thing(ip.family === 4 ? COO_THING_IPV4 : COO_THING_IPV6, ip.ip);
}

/** The thing for a 48-bit MAC. */
export function cooMacThing(mac: number): CooThing {
  return thing(COO_THING_MAC, macToBytes(mac));
}

function owns(c: CertificateOfOwnership, type: number, x: Uint8Array): boolean {
  return c.things.some((t) => t.type === type && x.every((v, i) => t.value[i] === v));
}

/** True if `c` lists this IP (family and address; port ignored). */
export function cooOwnsIp(c: CertificateOfOwnership, ip: InetAddress): boolean {
  return owns(c, ip.family === 4 ? COO_THING_IPV4 : COO_THING_IPV6, ip.ip);
}

/** True if `c` lists this MAC. */
export function cooOwnsMac(c: CertificateOfOwnership, mac: number): boolean {
  return owns(c, COO_THING_MAC, macToBytes(mac));
}

function writeBody(w: Writer, c: CertificateOfOwnership): void {
  w.u64(c.networkId).u64(c.timestamp).u64(c.flags).u32(c.id).u16(c.things.length);
  for (const t of c.things) w.u8(t.type).bytes(t.value);
  w.u40(c.issuedTo).u40(c.signedBy);
}

/** Signed form `7f×8 | nwid | ts | flags | id | count | things | issuedTo | signedBy | 0000 | 7f×8`. */
export function cooSignedBytes(c: CertificateOfOwnership): Uint8Array {
  return signedForm(64 + c.things.length * 17, (w) => writeBody(w, c));
}

/** A copy of `c` with `signedBy` = signer and its signature. */
export function cooSign(c: CertificateOfOwnership, signer: Identity): CertificateOfOwnership {
  return signByController(c, signer, cooSignedBytes);
}

/** Binary form (spec §7.5). */
export function cooSerialize(c: CertificateOfOwnership): Uint8Array {
  return signedSerialize(140 + c.things.length * 17, (w) => writeBody(w, c), c.signature);
}

/**
 * Parses a COO at `b[off..end)`. Like the reference, only the first 16 declared things are
 * read. The COO and its byte length, or undefined.
 */
export function cooDeserialize(
  b: Uint8Array,
  off = 0,
  end = b.length,
): { coo: CertificateOfOwnership; length: number } | undefined {
  const r = safeWindow(b, off, end);
  if (!r) return undefined;
  const networkId = r.u64();
  const timestamp = r.u64();
  const flags = r.u64();
  const id = r.u32();
  const n = Math.min(r.u16(), COO_MAX_THINGS);
  const things: CooThing[] = [];
  for (let i = 0; i < n && r.ok; i++) things.push({ type: r.u8(), value: r.copy(16) });
  const coo: CertificateOfOwnership = {
    networkId,
    timestamp,
    flags,
    id,
    things,
    issuedTo: r.u40(),
    signedBy: r.u40(),
  };
  return readSignedTrailer(r, coo) ? { coo, length: r.pos - off } : undefined;
}

/** True if signed by `signer`, which is the network's controller, with a valid signature. */
export function cooVerify(c: CertificateOfOwnership, signer: Identity): boolean {
  return verifyControllerSigned(c, signer, cooSignedBytes);
}
