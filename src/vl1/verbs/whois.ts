// WHOIS (0x04) request and OK(WHOIS) reply payload codecs.
import type { Address } from "../address.ts";
import { Identity } from "../identity.ts";
import { Verb } from "../packet.ts";
import { decodeOk, encodeOk } from "./ok.ts";
import { Reader, windowOf, Writer } from "./wire.ts";

/** A WHOIS request: the addresses whose identities are wanted. */
export interface Whois {
  /** Requested addresses (1.14 asks for one at a time). */
  addresses: Address[];
}

/** Encodes WHOIS: concatenated 5-byte addresses. */
export function encodeWhois(q: Whois): Uint8Array {
  const w = new Writer(q.addresses.length * 5);
  for (const a of q.addresses) w.address(a);
  return w.finish();
}

/** Decodes WHOIS; undefined unless the length is a multiple of 5. */
export function decodeWhois(payload: Uint8Array, start?: number, end?: number): Whois | undefined {
  const w = windowOf(payload, start, end);
  if (!w || (w[1] - w[0]) % 5 !== 0) return undefined;
  const r = new Reader(payload, w[0], w[1]);
  const addresses: Address[] = [];
  while (r.remaining > 0) addresses.push(r.address());
  return { addresses };
}

/** OK(WHOIS): the public identities of the requested addresses that the responder knows. */
export interface OkWhois {
  /** Packet ID of the WHOIS being answered. */
  inRePacketId: bigint;
  /** Identities in order (the reference requester uses only the first). */
  identities: Identity[];
}

/** Encodes a whole OK payload `0x04 | in-re packet ID | identities (public, 71 bytes each)`. */
export function encodeOkWhois(o: OkWhois): Uint8Array {
  const w = new Writer(o.identities.length * 71);
  for (const id of o.identities) w.bytes(id.serialize(false));
  return encodeOk(Verb.WHOIS, o.inRePacketId, w.finish());
}

/**
 * Decodes a whole OK(WHOIS) payload. Undefined if it is not one, carries no identity, or any
 * identity is malformed or truncated.
 */
export function decodeOkWhois(
  payload: Uint8Array,
  start?: number,
  end?: number,
): OkWhois | undefined {
  const ok = decodeOk(payload, start, end);
  if (!ok || ok.inReVerb !== Verb.WHOIS) return undefined;
  const bounded = payload.subarray(0, ok.bodyEnd);
  const identities: Identity[] = [];
  let p = ok.bodyStart;
  while (p < ok.bodyEnd) {
    const d = Identity.deserialize(bounded, p);
    if (!d) return undefined;
    identities.push(d.identity);
    p += d.length;
  }
  return identities.length > 0 ? { inRePacketId: ok.inRePacketId, identities } : undefined;
}
