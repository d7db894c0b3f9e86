// Peer cache record (peers.d/<address>.peer): identity, remote versions and known paths (spec §9.10).
import { Identity } from "./identity.ts";
import { InetAddress } from "./inet_address.ts";

/** Record format version byte. */
const PEER_CACHE_VERSION = 2;
/** Most paths read back from a record. */
const MAX_CACHED_PATHS = 64;

/** What a peer cache record holds. */
export interface PeerCacheRecord {
  /** The peer's public identity. */
  identity: Identity;
  /** Remote protocol version (0 unknown). */
  vProto: number;
  /** Remote major version. */
  vMajor: number;
  /** Remote minor version. */
  vMinor: number;
  /** Remote revision. */
  vRevision: number;
  /** Physical addresses to try with HELLO on load. */
  paths: InetAddress[];
}

/** Encodes `0x02 | identity(71) | vProto u16 | vMajor u16 | vMinor u16 | vRevision u16 | count u16 | InetAddress×count`. */
export function encodePeerCache(r: PeerCacheRecord): Uint8Array {
  const paths = r.paths.slice(0, MAX_CACHED_PATHS);
  let n = 1 + 71 + 10;
  for (const p of paths) n += p.serializedLength;
  const b = new Uint8Array(n);
  const dv = new DataView(b.buffer);
  b[0] = PEER_CACHE_VERSION;
  b.set(r.identity.serialize(false), 1);
  let o = 72;
  for (const v of [r.vProto, r.vMajor, r.vMinor, r.vRevision, paths.length]) {
    dv.setUint16(o, v & 0xffff);
    o += 2;
  }
  for (const p of paths) o += p.serializeInto(b, o);
  return b;
}

/** Decodes a record; undefined for anything malformed (wrong version, truncation). */
export function decodePeerCache(b: Uint8Array): PeerCacheRecord | undefined {
  if (b.length < 82 || b[0] !== PEER_CACHE_VERSION) return undefined;
  const id = Identity.deserialize(b, 1);
  if (!id || id.length !== 71) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const [vProto, vMajor, vMinor, vRevision, count] = [0, 1, 2, 3, 4].map((i) =>
    dv.getUint16(72 + i * 2)
  );
  const paths: InetAddress[] = [];
  let o = 82;
  for (let i = 0; i < count && i < MAX_CACHED_PATHS; i++) {
    const a = InetAddress.deserialize(b, o);
    if (!a) return undefined;
    o += a.length;
    if (a.addr) paths.push(a.addr);
  }
  return { identity: id.identity, vProto, vMajor, vMinor, vRevision, paths };
}
