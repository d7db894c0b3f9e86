// HELLO (0x01) and OK(HELLO) payload codecs, including the cryptField (moon section) offset.
import { Identity } from "../identity.ts";
import { InetAddress } from "../inet_address.ts";
import { Verb } from "../packet.ts";
import { decodeOk, encodeOk } from "./ok.ts";
import { Reader, windowOf, Writer } from "./wire.ts";

/** World type byte of a moon entry in HELLO (other types are skipped by receivers). */
export const HELLO_MOON_TYPE = 127;
/** Bytes per moon entry: type (1) + world ID (8) + timestamp (8). */
const MOON_ENTRY_LENGTH = 17;

/** One moon listed in a HELLO. */
export interface HelloMoon {
  /** World type (127 = moon; receivers ignore other types). */
  type: number;
  /** Moon world ID. */
  worldId: bigint;
  /** Moon timestamp we have, or 0 for a "wanted" moon we only have a seed for. */
  timestamp: bigint;
}

/**
 * HELLO fields (spec §4.1). `destination`, the planet fields and the moons are optional trailing
 * fields that old peers omit.
 */
export interface Hello {
  /** Sender's protocol version (12 for 1.14). */
  protocolVersion: number;
  /** Software major version. */
  versionMajor: number;
  /** Software minor version. */
  versionMinor: number;
  /** Software revision (16-bit). */
  versionRevision: number;
  /** Sender's clock in ms; echoed back in OK(HELLO). */
  timestamp: bigint;
  /** Sender's identity (serialized public-only). */
  identity: Identity;
  /** Physical address the HELLO was sent to; undefined = unknown (nil) or absent. */
  destination?: InetAddress;
  /** Sender's planet world ID. */
  planetWorldId?: bigint;
  /** Sender's planet world timestamp. */
  planetWorldTimestamp?: bigint;
  /** Moons the sender orbits or wants (the cryptField-protected section). */
  moons: HelloMoon[];
}

/** A decoded HELLO plus where its cryptField-protected section starts. */
export interface DecodedHello extends Hello {
  /**
   * Absolute offset (in the decoded buffer) of the cryptField-protected moon section; undefined
   * when the HELLO has no bytes after the planet fields.
   */
  cryptFieldStart?: number;
}

/** An encoded HELLO payload and the offset (within it) of the cryptField-protected section. */
export interface EncodedHello {
  /** The payload bytes (what follows the verb byte). */
  payload: Uint8Array;
  /**
   * Offset in `payload` where the moon section starts; XOR `payload[cryptFieldStart..)` (packet
   * offset 28 + this) with the cryptField keystream before armoring. Equals `payload.length`
   * when there is no moon section.
   */
  cryptFieldStart: number;
}

/**
 * Encodes a HELLO payload. The destination is always written (`0x00` when undefined). The planet
 * fields and the moon section are written when `planetWorldId` is defined or there are moons
 * (undefined planet values are written as 0); otherwise the legacy short form ends after the
 * destination.
 */
export function encodeHello(h: Hello): EncodedHello {
  const w = new Writer(128 + h.moons.length * MOON_ENTRY_LENGTH);
  w.u8(h.protocolVersion).u8(h.versionMajor).u8(h.versionMinor).u16(h.versionRevision);
  w.u64(h.timestamp).bytes(h.identity.serialize(false));
  if (h.destination) w.bytes(h.destination.serialize());
  else w.u8(0);
  let cryptFieldStart = w.length;
  if (h.planetWorldId !== undefined || h.moons.length > 0) {
    w.u64(h.planetWorldId ?? 0n).u64(h.planetWorldTimestamp ?? 0n);
    cryptFieldStart = w.length;
    w.u16(h.moons.length);
    for (const m of h.moons) w.u8(m.type).u64(m.worldId).u64(m.timestamp);
  }
  return { payload: w.finish(), cryptFieldStart };
}

/** Parses the plain (unencrypted) part; leaves `r` at the start of the protected section. */
function readPlain(r: Reader): Omit<DecodedHello, "moons" | "cryptFieldStart"> | undefined {
  const protocolVersion = r.u8();
  const versionMajor = r.u8();
  const versionMinor = r.u8();
  const versionRevision = r.u16();
  const timestamp = r.u64();
  if (!r.ok) return undefined;
  const id = Identity.deserialize(r.b.subarray(0, r.end), r.pos);
  if (!id) return undefined;
  r.skip(id.length);
  const h: Omit<DecodedHello, "moons" | "cryptFieldStart"> = {
    protocolVersion,
    versionMajor,
    versionMinor,
    versionRevision,
    timestamp,
    identity: id.identity,
  };
  if (r.remaining > 0) {
    const a = InetAddress.deserialize(r.b.subarray(0, r.end), r.pos);
    if (!a) return undefined;
    r.skip(a.length);
    if (a.addr) h.destination = a.addr;
  }
  if (r.remaining >= 16) {
    h.planetWorldId = r.u64();
    h.planetWorldTimestamp = r.u64();
  }
  return r.ok ? h : undefined;
}

/**
 * Absolute offset where the cryptField-protected section of the HELLO payload
 * `payload[start..end)` starts (returns `end` when there is none). Works on the still-encrypted
 * payload, so a receiver can call it before un-XORing. Undefined if the plain part is malformed.
 */
export function helloCryptFieldStart(
  payload: Uint8Array,
  start?: number,
  end?: number,
): number | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const r = new Reader(payload, w[0], w[1]);
  return readPlain(r) ? r.pos : undefined;
}

/**
 * Decodes a HELLO payload whose cryptField section has already been decrypted. Follows the
 * reference reader: destination, planet (only if all 16 bytes are there) and moons (only if the
 * 2-byte count is there) are optional; declared moons must all be present. Moons of any type
 * are returned (receivers act only on type 127). Trailing bytes after the moons are ignored.
 */
export function decodeHello(
  payload: Uint8Array,
  start?: number,
  end?: number,
): DecodedHello | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const r = new Reader(payload, w[0], w[1]);
  const plain = readPlain(r);
  if (!plain) return undefined;
  const h: DecodedHello = { ...plain, moons: [] };
  if (r.remaining > 0) {
    h.cryptFieldStart = r.pos;
    if (r.remaining >= 2) {
      const n = r.u16();
      if (!r.has(n * MOON_ENTRY_LENGTH)) return undefined;
      for (let i = 0; i < n; i++) {
        h.moons.push({ type: r.u8(), worldId: r.u64(), timestamp: r.u64() });
      }
    }
  }
  return r.ok ? h : undefined;
}

/** OK(HELLO) fields (spec §4.1), after the in-re header. */
export interface OkHello {
  /** Packet ID of the HELLO being answered. */
  inRePacketId: bigint;
  /** The HELLO's timestamp, echoed (for RTT). */
  timestamp: bigint;
  /** Responder's protocol version. */
  protocolVersion: number;
  /** Responder's software major version. */
  versionMajor: number;
  /** Responder's software minor version. */
  versionMinor: number;
  /** Responder's software revision. */
  versionRevision: number;
  /** The HELLO's source address as the responder saw it; undefined = nil or absent. */
  physicalAddress?: InetAddress;
  /** Concatenated serialized Worlds (planet/moon updates); empty if none. A copy when decoded. */
  worlds: Uint8Array;
}

/**
 * Encodes a whole OK(HELLO) payload: in-re header, echoed timestamp, versions, physical address
 * (`0x00` when undefined), world length (2) and worlds.
 */
export function encodeOkHello(o: OkHello): Uint8Array {
  const w = new Writer(32 + o.worlds.length);
  w.u64(o.timestamp).u8(o.protocolVersion).u8(o.versionMajor).u8(o.versionMinor);
  w.u16(o.versionRevision);
  if (o.physicalAddress) w.bytes(o.physicalAddress.serialize());
  else w.u8(0);
  w.u16(o.worlds.length).bytes(o.worlds);
  return encodeOk(Verb.HELLO, o.inRePacketId, w.finish());
}

/**
 * Decodes a whole OK(HELLO) payload. The physical address and the world section are optional
 * (old peers); a declared world length must fit. Undefined if not OK(HELLO) or malformed.
 */
export function decodeOkHello(
  payload: Uint8Array,
  start?: number,
  end?: number,
): OkHello | undefined {
  const ok = decodeOk(payload, start, end);
  if (!ok || ok.inReVerb !== Verb.HELLO) return undefined;
  const r = new Reader(payload, ok.bodyStart, ok.bodyEnd);
  const o: OkHello = {
    inRePacketId: ok.inRePacketId,
    timestamp: r.u64(),
    protocolVersion: r.u8(),
    versionMajor: r.u8(),
    versionMinor: r.u8(),
    versionRevision: r.u16(),
    worlds: new Uint8Array(0),
  };
  if (!r.ok) return undefined;
  if (r.remaining > 0) {
    const a = InetAddress.deserialize(payload.subarray(0, r.end), r.pos);
    if (!a) return undefined;
    r.skip(a.length);
    if (a.addr) o.physicalAddress = a.addr;
  }
  if (r.remaining >= 2) o.worlds = r.copy(r.u16());
  return r.ok ? o : undefined;
}
