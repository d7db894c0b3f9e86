// Worlds (planet and moons): binary format, signed form, signing/verification, update rule, default planet.
import {
  C25519_PUBLIC_KEY_LENGTH,
  C25519_SIGNATURE_LENGTH,
  c25519Sign,
  c25519Verify,
} from "../crypto/c25519.ts";
import { fromHex } from "../util/hex.ts";
import { Identity } from "./identity.ts";
import { InetAddress } from "./inet_address.ts";

/** World type byte (spec §6.1). */
export enum WorldType {
  /** No world (never valid on the wire). */
  NULL = 0,
  /** The planet: the global root set. */
  PLANET = 1,
  /** A moon: a user-defined additional root set. */
  MOON = 127,
}

/** Most roots a world may list (`ZT_WORLD_MAX_ROOTS`). */
export const WORLD_MAX_ROOTS = 4;
/** Most stable endpoints per root. */
export const WORLD_MAX_STABLE_ENDPOINTS_PER_ROOT = 32;
/** Largest serialized world the reference handles (`ZT_WORLD_MAX_SERIALIZED_LENGTH`). */
export const WORLD_MAX_SERIALIZED_LENGTH = 8480;
/** World ID of the default planet, "Earth" (149604618). */
export const WORLD_ID_EARTH = 149604618n;

/** One root server of a world: its public identity and the endpoints it may be reached at. */
export interface WorldRoot {
  /** The root's identity (public part is what is serialized). */
  identity: Identity;
  /** Stable physical endpoints (IP/port); may be empty. */
  stableEndpoints: InetAddress[];
}

/** A planet or moon (spec §6). Treat as immutable. */
export interface World {
  /** {@link WorldType.PLANET} or {@link WorldType.MOON}. */
  type: WorldType;
  /** 64-bit world ID (a moon's ID is conventionally its first root's address). */
  id: bigint;
  /** 64-bit revision, conventionally milliseconds since the epoch; newer replaces older. */
  timestamp: bigint;
  /** 64-byte C25519 public key that must sign the *next* revision of this world. */
  updatesMustBeSignedBy: Uint8Array;
  /** 96-byte C25519 signature over {@link worldSignedBytes}. */
  signature: Uint8Array;
  /** Up to {@link WORLD_MAX_ROOTS} roots. */
  roots: WorldRoot[];
}

/** The fields of a world that are covered by its signature. */
export type UnsignedWorld = Omit<World, "signature">;

/** Marker before the signed form. */
const SIGN_PREFIX = 0x7f;
/** Marker after the signed form. */
const SIGN_SUFFIX = 0xf7;

/** Reads a big-endian u64 at `off` (caller checked bounds). */
function getU64(b: Uint8Array, off: number): bigint {
  return new DataView(b.buffer, b.byteOffset + off, 8).getBigUint64(0, false);
}

/** Writes a big-endian u64 at `off` (caller checked bounds). */
function putU64(b: Uint8Array, off: number, v: bigint): void {
  new DataView(b.buffer, b.byteOffset + off, 8).setBigUint64(0, BigInt.asUintN(64, v), false);
}

/**
 * Reads a serialized world at `off` (spec §6.1). Returns it with the number of bytes consumed
 * (trailing bytes are left alone, as several worlds may follow each other in OK(HELLO)), or
 * undefined for a truncated buffer, a type other than planet/moon, more than 4 roots, more than
 * 32 endpoints on a root, a bad identity, a bad endpoint type, or a truncated moon extension.
 * Does not check the signature. Endpoints of the skipped kinds (nil, Ethernet, Bluetooth, other;
 * spec §5.1) are dropped from `stableEndpoints`.
 */
export function deserializeWorld(
  b: Uint8Array,
  off = 0,
): { world: World; length: number } | undefined {
  if (!Number.isInteger(off) || off < 0) return undefined;
  let p = off;
  const need = (n: number) => p + n <= b.length;
  if (!need(1 + 8 + 8 + 64 + 96 + 1)) return undefined;
  const type = b[p++];
  if (type !== WorldType.PLANET && type !== WorldType.MOON) return undefined;
  const id = getU64(b, p);
  p += 8;
  const timestamp = getU64(b, p);
  p += 8;
  const updatesMustBeSignedBy = b.slice(p, p + C25519_PUBLIC_KEY_LENGTH);
  p += C25519_PUBLIC_KEY_LENGTH;
  const signature = b.slice(p, p + C25519_SIGNATURE_LENGTH);
  p += C25519_SIGNATURE_LENGTH;
  const rootCount = b[p++];
  if (rootCount > WORLD_MAX_ROOTS) return undefined;
  const roots: WorldRoot[] = [];
  for (let r = 0; r < rootCount; r++) {
    const ident = Identity.deserialize(b, p);
    if (!ident) return undefined;
    p += ident.length;
    if (!need(1)) return undefined;
    const epCount = b[p++];
    if (epCount > WORLD_MAX_STABLE_ENDPOINTS_PER_ROOT) return undefined;
    const stableEndpoints: InetAddress[] = [];
    for (let e = 0; e < epCount; e++) {
      const ep = InetAddress.deserialize(b, p);
      if (!ep) return undefined;
      p += ep.length;
      if (ep.addr) stableEndpoints.push(ep.addr);
    }
    roots.push({ identity: ident.identity, stableEndpoints });
  }
  if (type === WorldType.MOON) {
    if (!need(2)) return undefined;
    const extLen = (b[p] << 8) | b[p + 1];
    p += 2;
    if (!need(extLen)) return undefined;
    p += extLen;
  }
  return {
    world: { type, id, timestamp, updatesMustBeSignedBy, signature, roots },
    length: p - off,
  };
}

/**
 * Parses a world stored on its own (a `planet` or `*.moon` file); same checks as
 * {@link deserializeWorld}, trailing bytes ignored. Undefined when malformed.
 */
export function parseWorld(b: Uint8Array): World | undefined {
  return deserializeWorld(b, 0)?.world;
}

/** Serializes with or without the signature field (the latter is the body of the signed form). */
function encode(w: UnsignedWorld, signature: Uint8Array | undefined): Uint8Array {
  if (w.type !== WorldType.PLANET && w.type !== WorldType.MOON) {
    throw new RangeError("world: type must be planet or moon");
  }
  if (w.roots.length > WORLD_MAX_ROOTS) throw new RangeError("world: too many roots");
  if (w.updatesMustBeSignedBy.length !== C25519_PUBLIC_KEY_LENGTH) {
    throw new RangeError("world: updatesMustBeSignedBy must be 64 bytes");
  }
  if (signature && signature.length !== C25519_SIGNATURE_LENGTH) {
    throw new RangeError("world: signature must be 96 bytes");
  }
  let len = 1 + 8 + 8 + 64 + (signature ? 96 : 0) + 1;
  for (const r of w.roots) {
    if (r.stableEndpoints.length > WORLD_MAX_STABLE_ENDPOINTS_PER_ROOT) {
      throw new RangeError("world: too many endpoints");
    }
    len += 71 + 1;
    for (const e of r.stableEndpoints) len += e.serializedLength;
  }
  if (w.type === WorldType.MOON) len += 2;
  const out = new Uint8Array(len);
  let p = 0;
  out[p++] = w.type;
  putU64(out, p, w.id);
  p += 8;
  putU64(out, p, w.timestamp);
  p += 8;
  out.set(w.updatesMustBeSignedBy, p);
  p += 64;
  if (signature) {
    out.set(signature, p);
    p += 96;
  }
  out[p++] = w.roots.length;
  for (const r of w.roots) {
    out.set(r.identity.serialize(false), p);
    p += 71;
    out[p++] = r.stableEndpoints.length;
    for (const e of r.stableEndpoints) p += e.serializeInto(out, p);
  }
  // Moons: a zero-length extension field (out is zero-filled).
  return out;
}

/**
 * The binary form of a world (spec §6.1); moons end with a zero extension length.
 * @throws RangeError for a world that cannot be encoded (bad type, key/signature length, more
 * than 4 roots or 32 endpoints per root) - a programming error.
 */
export function serializeWorld(w: World): Uint8Array {
  return encode(w, w.signature);
}

/**
 * The bytes a world's signature covers (spec §6.1): `7f×8 || serialization without the
 * signature field || f7×8`. @throws RangeError as {@link serializeWorld}.
 */
export function worldSignedBytes(w: UnsignedWorld): Uint8Array {
  const body = encode(w, undefined);
  const out = new Uint8Array(body.length + 16);
  out.fill(SIGN_PREFIX, 0, 8);
  out.set(body, 8);
  out.fill(SIGN_SUFFIX, 8 + body.length);
  return out;
}

/**
 * True iff `w.signature` is a valid signature of {@link worldSignedBytes} by `publicKey`
 * (default: the world's own `updatesMustBeSignedBy`, i.e. the self-signature check used for an
 * initial world). Never throws.
 */
export function verifyWorld(w: World, publicKey: Uint8Array = w.updatesMustBeSignedBy): boolean {
  let signed: Uint8Array;
  try {
    signed = worldSignedBytes(w);
  } catch {
    return false;
  }
  return c25519Verify(publicKey, signed, w.signature);
}

/**
 * Signs a world with a C25519 key pair (64-byte private and public keys) and returns it with the
 * signature filled in. Roots and endpoints are used in the order given (genmoon sorts them
 * first). @throws on a malformed world or key (a programming error).
 */
export function signWorld(
  fields: UnsignedWorld,
  signingPrivate: Uint8Array,
  signingPublic: Uint8Array,
): World {
  const signature = c25519Sign(signingPrivate, signingPublic, worldSignedBytes(fields));
  return {
    type: fields.type,
    id: fields.id,
    timestamp: fields.timestamp,
    updatesMustBeSignedBy: fields.updatesMustBeSignedBy.slice(),
    signature,
    roots: fields.roots.map((r) => ({
      identity: r.identity,
      stableEndpoints: [...r.stableEndpoints],
    })),
  };
}

/**
 * The update rule (spec §6.2): a stored world is replaced by `candidate` iff nothing is stored,
 * or both have the same type and ID, the candidate's timestamp is strictly greater, and the
 * candidate's signature verifies with the *stored* world's `updatesMustBeSignedBy`.
 * (With nothing stored the candidate is not checked at all, as in the reference; callers that
 * want a self-signature check on first acceptance use {@link verifyWorld}.)
 */
export function shouldReplaceWorld(stored: World | undefined, candidate: World): boolean {
  if (!stored) return true;
  if (stored.type !== candidate.type || stored.id !== candidate.id) return false;
  if (candidate.timestamp <= stored.timestamp) return false;
  return verifyWorld(candidate, stored.updatesMustBeSignedBy);
}

/** Builds the compiled-in planet's bytes from the published table and signature (spec §6.3). */
function buildDefaultPlanet(): Uint8Array {
  const roots: [string, string, string[]][] = [
    [
      "cafe9efeb9",
      "ccdef76bc7b97ded904eabc5df09886d9c1514a610036cb9139cc214001a2958" +
      "978efcec15712dd3948c6e6b3a8e893df01ff493d1f8d9806a860c5420571bf0",
      ["104.194.8.134/9993", "2605:9880:200:1200:30:571:e34:51/9993"],
    ],
    [
      "778cde7190",
      "3f6681a99e5ad1895e9fba33e6212d4454e168bcec7112101bf000956ed8e92e" +
      "42892cb6f2ec410881a84ab19da50e1287ba3d926c3a1f755cccf299a1207055",
      ["103.195.103.66/9993", "2605:9880:400:c3:254:f2bc:a1f7:19/9993"],
    ],
    [
      "62f865ae71",
      "e2076c57de870e6288d7d5e7404408b1545efca37d67f77b87e9e54168c25d3e" +
      "f1a9abf2905ea5e785c01dff23887ad4232d95c7a8fd2c27111a72bd159322dc",
      ["50.7.252.138/9993", "2001:49f0:d0db:2::2/9993"],
    ],
    [
      "cafe04eba9",
      "6c6a9d1dea55c1616bfe2a2b8f0ff9a8cacaf70374fb1f39e3bef81cbfebef17" +
      "b7228268a0a2a29d3488c752565c6c965cbd6506ec24397cc8a5d9d15285a87f",
      ["84.17.53.155/9993", "2a02:6ea0:d405::9993/9993"],
    ],
  ];
  const world: World = {
    type: WorldType.PLANET,
    id: WORLD_ID_EARTH,
    timestamp: 1644592324813n,
    updatesMustBeSignedBy: fromHex(
      "b8b388a469221491aa9acd66cc764cdefd56039f1067ae15e69c6fb42d7b5533" +
        "0e3fdaac529c0792fd7340a6aa21aba8a489fdaea44a39bf2d00659ac9c818eb",
    ),
    signature: fromHex(
      "3600927637ef4d1404a44d544684851379751faa79b4c4ea85040175ea065860" +
        "482402e1eb342052000e6290061a9be0cd293c8b55f1c3d2524808afc54922080e" +
        "3539a75addc3cef0f6ad260d588293bb7786e71efa4b9057dad9867afe12dd",
    ),
    roots: roots.map(([addr, pub, eps]) => {
      const identity = Identity.fromString(`${addr}:0:${pub}`);
      if (!identity) throw new Error("default planet: bad root identity");
      return {
        identity,
        stableEndpoints: eps.map((e) => {
          const a = InetAddress.parse(e);
          if (!a) throw new Error("default planet: bad endpoint");
          return a;
        }),
      };
    }),
  };
  return serializeWorld(world);
}

/**
 * The compiled-in default planet (world ID 149604618, timestamp 1644592324813, four roots), 570
 * bytes, offered at startup after any cached `planet` file (spec §6.2, §6.3). Do not mutate.
 */
export const DEFAULT_PLANET: Uint8Array = buildDefaultPlanet();
