// NETWORK_CONFIG_REQUEST (0x0b), config chunks (OK to it, NETWORK_CONFIG 0x0c) and OK(NETWORK_CONFIG).
import { MAX_PACKET_LENGTH, Verb } from "../packet.ts";
import { decodeOk, encodeOk } from "./ok.ts";
import { Reader, windowOf, Writer } from "./wire.ts";

/** Largest dictionary slice per config chunk: 10024 - (28 + 256) = 9740 bytes (spec §4.11). */
export const CONFIG_CHUNK_MAX_DATA = MAX_PACKET_LENGTH - (28 + 256);
/** Signature type byte of a signed config chunk (Ed25519 / C25519 signature, spec §2.2). */
export const CONFIG_CHUNK_SIGNATURE_TYPE = 1;
/** Config chunk flag: fast propagate (receivers re-send the chunk to other members). */
export const CONFIG_CHUNK_FLAG_FAST_PROPAGATE = 0x01;

/** A NETWORK_CONFIG_REQUEST (spec §4.11). */
export interface NetworkConfigRequest {
  /** Network ID being requested. */
  networkId: bigint;
  /** Metadata dictionary bytes (spec §7.2), without NUL; a copy when decoded. */
  metadata: Uint8Array;
  /** Revision of the config the requester has (0 if none); absent from old requesters. */
  revision?: bigint;
  /** Timestamp of the config the requester has (0 if none); absent from old requesters. */
  timestamp?: bigint;
}

/** Encodes `nwid | len(2) | metadata | revision(8) | timestamp(8)` (revision/ts default 0). */
export function encodeNetworkConfigRequest(q: NetworkConfigRequest): Uint8Array {
  const w = new Writer(26 + q.metadata.length);
  w.u64(q.networkId).u16(q.metadata.length).bytes(q.metadata);
  w.u64(q.revision ?? 0n).u64(q.timestamp ?? 0n);
  return w.finish();
}

/**
 * Decodes a NETWORK_CONFIG_REQUEST. Only the network ID is required: a missing metadata length
 * means empty metadata, and revision/timestamp are set only if all 16 bytes are present.
 * Undefined if the network ID is truncated or the metadata length overruns the payload.
 */
export function decodeNetworkConfigRequest(
  payload: Uint8Array,
  start?: number,
  end?: number,
): NetworkConfigRequest | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const r = new Reader(payload, w[0], w[1]);
  const networkId = r.u64();
  if (!r.ok) return undefined;
  const q: NetworkConfigRequest = { networkId, metadata: new Uint8Array(0) };
  if (r.remaining < 2) return q;
  q.metadata = r.copy(r.u16());
  if (!r.ok) return undefined;
  if (r.remaining >= 16) {
    q.revision = r.u64();
    q.timestamp = r.u64();
  }
  return q;
}

/** The signed part of one config chunk (spec §4.11): everything the controller signs. */
export interface ConfigChunkFields {
  /** Network ID. */
  networkId: bigint;
  /** This chunk's slice of the netconf dictionary (<= 9740 bytes). */
  data: Uint8Array;
  /** Flags (0x01 = fast propagate; the controller sends 0). */
  flags: number;
  /** Random non-zero ID shared by all chunks of one config. */
  configUpdateId: bigint;
  /** Total dictionary length. */
  totalLength: number;
  /** Offset of this chunk's data in the dictionary. */
  chunkIndex: number;
}

/**
 * A decoded config chunk. Offsets are absolute indexes into the decoded buffer. A legacy chunk
 * (no trailer after the data; accepted by the reference only from the controller itself) has
 * `legacy: true` and none of the trailer fields.
 */
export interface ConfigChunk {
  /** Network ID. */
  networkId: bigint;
  /** Start of the chunk data. */
  dataStart: number;
  /** End (exclusive) of the chunk data. */
  dataEnd: number;
  /** True for an old-style unsigned single chunk. */
  legacy: boolean;
  /** Flags byte (signed chunks). */
  flags?: number;
  /** Config update ID (signed chunks). */
  configUpdateId?: bigint;
  /** Total dictionary length (signed chunks). */
  totalLength?: number;
  /** Offset of this chunk in the dictionary (signed chunks). */
  chunkIndex?: number;
  /** Start of the signed byte range (= the network ID's offset). */
  signedStart: number;
  /** End (exclusive) of the signed byte range (after the chunk index). */
  signedEnd: number;
  /** Signature type byte (the receiver requires 1). */
  signatureType?: number;
  /** Signature bytes, a view into the input (the receiver requires exactly 96). */
  signature?: Uint8Array;
}

/** The exact bytes a controller signs for a chunk: `nwid | len | data | flags | id | total | index`. */
export function configChunkSignedBytes(c: ConfigChunkFields): Uint8Array {
  const w = new Writer(27 + c.data.length);
  w.u64(c.networkId).u16(c.data.length).bytes(c.data);
  w.u8(c.flags).u64(c.configUpdateId).u32(c.totalLength).u32(c.chunkIndex);
  return w.finish();
}

/**
 * Encodes one signed chunk: the signed bytes followed by `type(1)=1 | len(2) | signature`.
 * `signature` is the controller's signature over `configChunkSignedBytes(c)` (96 bytes).
 * This is the NETWORK_CONFIG payload, and the body of OK(NETWORK_CONFIG_REQUEST).
 */
export function encodeConfigChunk(c: ConfigChunkFields, signature: Uint8Array): Uint8Array {
  const signed = configChunkSignedBytes(c);
  const out = new Uint8Array(signed.length + 3 + signature.length);
  out.set(signed, 0);
  out[signed.length] = CONFIG_CHUNK_SIGNATURE_TYPE;
  out[signed.length + 1] = signature.length >>> 8;
  out[signed.length + 2] = signature.length & 0xff;
  out.set(signature, signed.length + 3);
  return out;
}

/**
 * Decodes a config chunk (NETWORK_CONFIG payload, or the body of OK(NETWORK_CONFIG_REQUEST)).
 * Structural checks only: the caller must still require signature type 1 and length 96,
 * `chunkIndex + data length <= totalLength`, the dictionary capacity limit, and verify the
 * signature over `payload[signedStart..signedEnd)`. Undefined if truncated.
 */
export function decodeConfigChunk(
  payload: Uint8Array,
  start?: number,
  end?: number,
): ConfigChunk | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const r = new Reader(payload, w[0], w[1]);
  const networkId = r.u64();
  const len = r.u16();
  const dataStart = r.pos;
  r.skip(len);
  if (!r.ok) return undefined;
  const c: ConfigChunk = {
    networkId,
    dataStart,
    dataEnd: r.pos,
    legacy: r.remaining === 0,
    signedStart: w[0],
    signedEnd: r.pos,
  };
  if (c.legacy) return c;
  c.flags = r.u8();
  c.configUpdateId = r.u64();
  c.totalLength = r.u32();
  c.chunkIndex = r.u32();
  c.signedEnd = r.pos;
  c.signatureType = r.u8();
  c.signature = r.view(r.u16());
  return r.ok ? c : undefined;
}

/** OK(NETWORK_CONFIG_REQUEST): one config chunk in reply to a request. */
export interface OkNetworkConfigRequest {
  /** Packet ID of the NETWORK_CONFIG_REQUEST being answered. */
  inRePacketId: bigint;
  /** The chunk (offsets absolute in the decoded buffer). */
  chunk: ConfigChunk;
}

/** Encodes a whole OK payload `0x0b | in-re packet ID | chunk` from an encoded chunk. */
export function encodeOkNetworkConfigRequest(
  inRePacketId: bigint,
  encodedChunk: Uint8Array,
): Uint8Array {
  return encodeOk(Verb.NETWORK_CONFIG_REQUEST, inRePacketId, encodedChunk);
}

/** Decodes a whole OK(NETWORK_CONFIG_REQUEST) payload; undefined if not one or truncated. */
export function decodeOkNetworkConfigRequest(
  payload: Uint8Array,
  start?: number,
  end?: number,
): OkNetworkConfigRequest | undefined {
  const ok = decodeOk(payload, start, end);
  if (!ok || ok.inReVerb !== Verb.NETWORK_CONFIG_REQUEST) return undefined;
  const chunk = decodeConfigChunk(payload, ok.bodyStart, ok.bodyEnd);
  return chunk ? { inRePacketId: ok.inRePacketId, chunk } : undefined;
}

/**
 * The OK a node sends after accepting a complete config from NETWORK_CONFIG. QUIRK: its in-re
 * verb is ECHO (0x08), not NETWORK_CONFIG (spec §4.12).
 */
export interface OkNetworkConfig {
  /** Packet ID of the (last) NETWORK_CONFIG packet. */
  inRePacketId: bigint;
  /** Network ID. */
  networkId: bigint;
  /** Config update ID of the accepted config. */
  configUpdateId: bigint;
}

/** Encodes `0x08 | in-re packet ID | nwid(8) | configUpdateId(8)`. */
export function encodeOkNetworkConfig(o: OkNetworkConfig): Uint8Array {
  const body = new Writer(16).u64(o.networkId).u64(o.configUpdateId).finish();
  return encodeOk(Verb.ECHO, o.inRePacketId, body);
}

/** Decodes the OK(NETWORK_CONFIG) form (in-re verb ECHO with 16 body bytes); else undefined. */
export function decodeOkNetworkConfig(
  payload: Uint8Array,
  start?: number,
  end?: number,
): OkNetworkConfig | undefined {
  const ok = decodeOk(payload, start, end);
  if (!ok || ok.inReVerb !== Verb.ECHO) return undefined;
  const r = new Reader(payload, ok.bodyStart, ok.bodyEnd);
  const networkId = r.u64();
  const configUpdateId = r.u64();
  return r.ok ? { inRePacketId: ok.inRePacketId, networkId, configUpdateId } : undefined;
}
