// VL1 packet header layout, flag/cipher/hops/verb accessors, verb and error-code enums (spec §3.2, §4).

/** Offset of the 8-byte packet ID (also the cipher 0/1 nonce; for cipher 3 half the SIV tag). */
export const IDX_PACKET_ID = 0;
/** Offset of the 5-byte destination address. */
export const IDX_DEST = 8;
/** Offset of the 5-byte source address. */
export const IDX_SOURCE = 13;
/** Offset of the flags byte `FFCCCHHH`. */
export const IDX_FLAGS = 18;
/** Offset of the 8-byte MAC field. */
export const IDX_MAC = 19;
/** Offset of the verb byte (first byte inside the encryption envelope). */
export const IDX_VERB = 27;
/** Offset of the verb payload. */
export const IDX_PAYLOAD = 28;

/** Smallest valid packet: header + verb byte. */
export const MIN_PACKET_LENGTH = 28;
/** Largest packet a node will assemble or send (7 × 1432). */
export const MAX_PACKET_LENGTH = 10024;
/** Default physical (UDP payload) MTU. */
export const DEFAULT_PHYSMTU = 1432;

/** Protocol version advertised by this implementation (1.14.x). */
export const PROTO_VERSION = 12;
/** Oldest remote protocol version accepted. */
export const MIN_PROTO_VERSION = 4;
/** Remote protocol version from which cipher 3 (AES-GMAC-SIV) is used when sending. */
export const AES_GMAC_SIV_MIN_PROTO_VERSION = 12;

/** Flags bit 7: legacy "encrypted" flag, set iff the cipher is 1. */
export const FLAG_ENCRYPTED = 0x80;
/** Flags bit 6: more fragments follow this head. */
export const FLAG_FRAGMENTED = 0x40;
/** Flags bits 5..3: cipher suite. */
export const FLAGS_CIPHER_MASK = 0x38;
/** Flags bits 2..0: hop count (the only header bits relays change). */
export const FLAGS_HOPS_MASK = 0x07;
/** Flags with the hop bits removed: what authentication covers. */
export const FLAGS_AUTH_MASK = 0xf8;

/** Verb byte bit 7: payload (bytes 28..) is LZ4-compressed. */
export const VERB_FLAG_COMPRESSED = 0x80;
/** Verb byte bits 4..0: the verb. */
export const VERB_MASK = 0x1f;

/** Cipher suites (flags bits 5..3). */
export enum Cipher {
  /** Poly1305 MAC over plaintext, no encryption (HELLO). */
  C25519_POLY1305_NONE = 0,
  /** Salsa20/12 encryption + Poly1305 MAC over ciphertext. */
  C25519_POLY1305_SALSA2012 = 1,
  /** No crypto; MAC field holds a trusted-path ID. */
  NO_CRYPTO_TRUSTED_PATH = 2,
  /** AES-256-GMAC-SIV. */
  AES_GMAC_SIV = 3,
}

/** Packet verbs (low 5 bits of the verb byte). `Verb[v]` gives the name. */
export enum Verb {
  NOP = 0x00,
  HELLO = 0x01,
  ERROR = 0x02,
  OK = 0x03,
  WHOIS = 0x04,
  RENDEZVOUS = 0x05,
  FRAME = 0x06,
  EXT_FRAME = 0x07,
  ECHO = 0x08,
  MULTICAST_LIKE = 0x09,
  NETWORK_CREDENTIALS = 0x0a,
  NETWORK_CONFIG_REQUEST = 0x0b,
  NETWORK_CONFIG = 0x0c,
  MULTICAST_GATHER = 0x0d,
  MULTICAST_FRAME = 0x0e,
  PUSH_DIRECT_PATHS = 0x10,
  ACK = 0x12,
  QOS_MEASUREMENT = 0x13,
  USER_MESSAGE = 0x14,
  REMOTE_TRACE = 0x15,
  PATH_NEGOTIATION_REQUEST = 0x16,
}

/** ERROR verb error codes (spec §4.2). `ErrorCode[c]` gives the name. */
export enum ErrorCode {
  NONE = 0x00,
  INVALID_REQUEST = 0x01,
  BAD_PROTOCOL_VERSION = 0x02,
  OBJ_NOT_FOUND = 0x03,
  IDENTITY_COLLISION = 0x04,
  UNSUPPORTED_OPERATION = 0x05,
  NEED_MEMBERSHIP_CERTIFICATE = 0x06,
  NETWORK_ACCESS_DENIED = 0x07,
  UNWANTED_MULTICAST = 0x08,
  NETWORK_AUTHENTICATION_REQUIRED = 0x09,
}

/** Name of a verb number (low 5 bits), e.g. "HELLO"; "UNKNOWN_0x0f" for unassigned numbers. */
export function verbName(verb: number): string {
  const v = verb & VERB_MASK;
  return Verb[v] ?? `UNKNOWN_0x${v.toString(16).padStart(2, "0")}`;
}

/** Name of an error code, e.g. "OBJ_NOT_FOUND"; "UNKNOWN_0x.." otherwise. */
export function errorCodeName(code: number): string {
  return ErrorCode[code] ?? `UNKNOWN_0x${(code & 0xff).toString(16).padStart(2, "0")}`;
}

// ---- accessors on a packet buffer (caller guarantees at least 28 bytes) ----

/** Cipher suite id (0..7) from the flags byte. */
export function getCipher(pkt: Uint8Array): number {
  return (pkt[IDX_FLAGS] & FLAGS_CIPHER_MASK) >>> 3;
}

/** Sets the cipher bits, and the legacy 0x80 flag iff cipher == 1 (cleared otherwise). */
export function setCipher(pkt: Uint8Array, cipher: number): void {
  let f = pkt[IDX_FLAGS] & ~(FLAGS_CIPHER_MASK | FLAG_ENCRYPTED);
  f |= (cipher & 7) << 3;
  if (cipher === Cipher.C25519_POLY1305_SALSA2012) f |= FLAG_ENCRYPTED;
  pkt[IDX_FLAGS] = f;
}

/** Hop count 0..7. */
export function getHops(pkt: Uint8Array): number {
  return pkt[IDX_FLAGS] & FLAGS_HOPS_MASK;
}

/** Sets the hop count (low 3 bits of `hops`). */
export function setHops(pkt: Uint8Array, hops: number): void {
  pkt[IDX_FLAGS] = (pkt[IDX_FLAGS] & FLAGS_AUTH_MASK) | (hops & FLAGS_HOPS_MASK);
}

/** Increments the hop count as a relay does (wraps within 3 bits); returns the new count. */
export function incrementHops(pkt: Uint8Array): number {
  const h = (pkt[IDX_FLAGS] + 1) & FLAGS_HOPS_MASK;
  pkt[IDX_FLAGS] = (pkt[IDX_FLAGS] & FLAGS_AUTH_MASK) | h;
  return h;
}

/** True if the FRAGMENTED flag is set (more fragments follow this head). */
export function isFragmented(pkt: Uint8Array): boolean {
  return (pkt[IDX_FLAGS] & FLAG_FRAGMENTED) !== 0;
}

/** Sets or clears the FRAGMENTED flag (must happen before armoring: it is authenticated). */
export function setFragmented(pkt: Uint8Array, on: boolean): void {
  if (on) pkt[IDX_FLAGS] |= FLAG_FRAGMENTED;
  else pkt[IDX_FLAGS] &= ~FLAG_FRAGMENTED;
}

/** Verb number (low 5 bits of byte 27); only meaningful on a dearmored packet. */
export function getVerb(pkt: Uint8Array): number {
  return pkt[IDX_VERB] & VERB_MASK;
}

/** True if the verb byte says the payload is LZ4-compressed. */
export function isCompressed(pkt: Uint8Array): boolean {
  return (pkt[IDX_VERB] & VERB_FLAG_COMPRESSED) !== 0;
}

/** Reads a 40-bit big-endian address at `off` as a number. */
export function readAddress(pkt: Uint8Array, off: number): number {
  const lo = ((pkt[off + 1] << 24) | (pkt[off + 2] << 16) | (pkt[off + 3] << 8) | pkt[off + 4]) >>>
    0;
  return pkt[off] * 0x1_0000_0000 + lo;
}

/** Writes a 40-bit address (0 .. 2^40-1) big-endian at `off`. */
export function writeAddress(pkt: Uint8Array, off: number, address: number): void {
  const lo = address % 0x1_0000_0000;
  pkt[off] = (address - lo) / 0x1_0000_0000;
  pkt[off + 1] = lo >>> 24;
  pkt[off + 2] = (lo >>> 16) & 0xff;
  pkt[off + 3] = (lo >>> 8) & 0xff;
  pkt[off + 4] = lo & 0xff;
}

/** Destination address (40-bit number). */
export function getDest(pkt: Uint8Array): number {
  return readAddress(pkt, IDX_DEST);
}

/** Source address (40-bit number). */
export function getSource(pkt: Uint8Array): number {
  return readAddress(pkt, IDX_SOURCE);
}

/** The 8-byte packet ID as a bigint (API edge; the data path compares bytes). */
export function getPacketId(pkt: Uint8Array, off = IDX_PACKET_ID): bigint {
  return new DataView(pkt.buffer, pkt.byteOffset, pkt.byteLength).getBigUint64(off, false);
}

/** Writes an 8-byte packet ID given as a bigint (taken mod 2^64). */
export function setPacketId(pkt: Uint8Array, id: bigint, off = IDX_PACKET_ID): void {
  new DataView(pkt.buffer, pkt.byteOffset, pkt.byteLength).setBigUint64(
    off,
    BigInt.asUintN(64, id),
    false,
  );
}

/**
 * Writes a fresh header into `pkt[0..28)`: packet ID (8 bytes copied from `packetId`), dest,
 * source, flags 0, MAC 0, verb. Returns 28, the length so far. The caller guarantees room.
 */
export function writeHeader(
  pkt: Uint8Array,
  packetId: Uint8Array,
  dest: number,
  source: number,
  verb: number,
): number {
  for (let i = 0; i < 8; i++) pkt[i] = packetId[i];
  writeAddress(pkt, IDX_DEST, dest);
  writeAddress(pkt, IDX_SOURCE, source);
  pkt[IDX_FLAGS] = 0;
  pkt.fill(0, IDX_MAC, IDX_VERB);
  pkt[IDX_VERB] = verb & 0xff;
  return IDX_PAYLOAD;
}
