// RENDEZVOUS (0x05) payload codec: a relay tells us where to reach another peer directly.
import type { Address } from "../address.ts";
import { InetAddress } from "../inet_address.ts";
import { Reader, windowOf, Writer } from "./wire.ts";

/** A RENDEZVOUS introduction (spec §4.5). */
export interface Rendezvous {
  /** Flags byte (0 in 1.14). */
  flags: number;
  /** The peer to contact. */
  peer: Address;
  /** Where to contact it (IPv4 or IPv6 + UDP port; the receiver ignores port 0). */
  endpoint: InetAddress;
}

/** Encodes `flags | address(5) | port(2) | ipLen(1) | ip`. */
export function encodeRendezvous(v: Rendezvous): Uint8Array {
  const w = new Writer(29);
  w.u8(v.flags).address(v.peer).u16(v.endpoint.port).u8(v.endpoint.ip.length);
  w.bytes(v.endpoint.ip);
  return w.finish();
}

/** Decodes RENDEZVOUS; undefined if truncated or the IP length is not 4 or 16. */
export function decodeRendezvous(
  payload: Uint8Array,
  start?: number,
  end?: number,
): Rendezvous | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const r = new Reader(payload, w[0], w[1]);
  const flags = r.u8();
  const peer = r.address();
  const port = r.u16();
  const ipLen = r.u8();
  if (!r.ok || (ipLen !== 4 && ipLen !== 16)) return undefined;
  const ip = r.view(ipLen);
  return r.ok ? { flags, peer, endpoint: new InetAddress(ip, port) } : undefined;
}
