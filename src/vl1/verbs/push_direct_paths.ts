// PUSH_DIRECT_PATHS (0x10) payload codec: a counted list of flagged IPv4/IPv6 endpoints.
import { InetAddress } from "../inet_address.ts";
import { Reader, windowOf, Writer } from "./wire.ts";

/** Path flag: forget this path (receivers ignore such entries). */
export const PUSH_PATH_FLAG_FORGET = 0x01;
/** Path flag: cluster redirect (contact there even if a path is already active). */
export const PUSH_PATH_FLAG_CLUSTER_REDIRECT = 0x02;

/** Address type byte for IPv4 entries (4 IP bytes + 2 port bytes). */
const TYPE_IPV4 = 4;
/** Address type byte for IPv6 entries (16 IP bytes + 2 port bytes). */
const TYPE_IPV6 = 6;

/** One pushed path. */
export interface PushedPath {
  /** Flags (0x01 forget, 0x02 cluster redirect). */
  flags: number;
  /** The endpoint (IP + UDP port). */
  address: InetAddress;
}

/** A PUSH_DIRECT_PATHS payload. */
export interface PushDirectPaths {
  /** Usable paths in order (entries of unknown address type are dropped when decoding). */
  paths: PushedPath[];
}

/**
 * Encodes `count(2)` then per path `flags(1) | extLen(2)=0 | type(1) | len(1) | ip | port(2)`
 * (spec §4.15).
 */
export function encodePushDirectPaths(p: PushDirectPaths): Uint8Array {
  const w = new Writer(2 + p.paths.length * 24);
  w.u16(p.paths.length);
  for (const { flags, address } of p.paths) {
    const v4 = address.family === 4;
    w.u8(flags).u16(0).u8(v4 ? TYPE_IPV4 : TYPE_IPV6).u8(address.ip.length + 2);
    w.bytes(address.ip).u16(address.port);
  }
  return w.finish();
}

/**
 * Decodes PUSH_DIRECT_PATHS as the reference reader does: extension bytes are skipped, entries
 * of unknown type (or too short for their type) are skipped by their declared length, and bytes
 * after the declared count are ignored. Undefined if any declared entry is truncated.
 */
export function decodePushDirectPaths(
  payload: Uint8Array,
  start?: number,
  end?: number,
): PushDirectPaths | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const r = new Reader(payload, w[0], w[1]);
  const count = r.u16();
  const paths: PushedPath[] = [];
  for (let i = 0; i < count && r.ok; i++) {
    const flags = r.u8();
    r.skip(r.u16());
    const type = r.u8();
    const len = r.u8();
    const body = r.view(len);
    if (!r.ok) break;
    const ipLen = type === TYPE_IPV4 ? 4 : type === TYPE_IPV6 ? 16 : 0;
    if (ipLen === 0 || len < ipLen + 2) continue;
    const port = (body[ipLen] << 8) | body[ipLen + 1];
    paths.push({ flags, address: new InetAddress(body.subarray(0, ipLen), port) });
  }
  return r.ok ? { paths } : undefined;
}
