// A ZeroTier node identity: address + C25519 key pair, text/binary forms, validation, crypto.
import {
  C25519_PRIVATE_KEY_LENGTH,
  C25519_PUBLIC_KEY_LENGTH,
  c25519Agree,
  c25519Generate,
  c25519Sign,
  c25519Verify,
  x25519PublicKey,
} from "../crypto/c25519.ts";
import { sha384 } from "../crypto/sha.ts";
import { parseHex, toHex } from "../util/hex.ts";
import { Address } from "./address.ts";
import { identityHash } from "./identity_hash.ts";

/** A memory-hard digest is acceptable when its first byte is below this (spec §1.3). */
const HASHCASH_FIRST_BYTE_LESS_THAN = 17;
/** Longest text identity accepted (the reference's 384-byte buffer, NUL included). */
const MAX_STRING_LENGTH = 383;
/** Length of the peer session key taken from the agreement digest. */
const PEER_KEY_LENGTH = 48;
/** Upper bound on generation attempts (each succeeds with probability ~17/256). */
const MAX_GENERATE_ATTEMPTS = 10_000;

/**
 * A type-0 (C25519) ZeroTier identity (spec §1). Key arrays are private copies; treat them as
 * read-only. Parsing does not check the address/key binding: call {@link Identity.validate}.
 */
export class Identity {
  /** The 40-bit node address. */
  readonly address: Address;
  /** 64 bytes: X25519 public || Ed25519 public. */
  readonly publicKey: Uint8Array;
  /** 64 bytes: X25519 secret || Ed25519 seed, or undefined for a public-only identity. */
  readonly privateKey: Uint8Array | undefined;
  #valid: boolean | undefined;
  #keyHash: Uint8Array | undefined;

  /** @throws Error when a key has the wrong length (a programming error). */
  constructor(address: Address, publicKey: Uint8Array, privateKey?: Uint8Array) {
    if (publicKey.length !== C25519_PUBLIC_KEY_LENGTH) throw new Error("Identity: bad public key");
    if (privateKey !== undefined && privateKey.length !== C25519_PRIVATE_KEY_LENGTH) {
      throw new Error("Identity: bad private key");
    }
    this.address = address;
    this.publicKey = publicKey.slice();
    this.privateKey = privateKey?.slice();
  }

  /**
   * Generates a new identity: random key pair, then the X25519 half is perturbed until the
   * memory-hard digest meets the criterion and names a non-reserved address (~15 hashes on
   * average). `onAttempt` is called after each attempt with the running count.
   */
  static generate(
    random: (n: number) => Uint8Array,
    onAttempt?: (attempts: number) => void,
  ): Identity {
    const { publicKey, privateKey } = c25519Generate(random);
    for (let attempts = 1; attempts <= MAX_GENERATE_ATTEMPTS; attempts++) {
      const digest = identityHash(publicKey);
      onAttempt?.(attempts);
      if (digest[0] < HASHCASH_FIRST_BYTE_LESS_THAN) {
        const address = Address.fromBytes(digest, 59);
        if (!address.isReserved()) {
          const id = new Identity(address, publicKey, privateKey);
          id.#valid = true;
          return id;
        }
      }
      // Step the X25519 secret as a 64-bit little-endian counter in bytes 8..15 (bytes 0 and 31
      // are partly clamped away, so stepping there could repeat the same scalar).
      for (let i = 8; i < 16; i++) {
        privateKey[i] = (privateKey[i] + 1) & 0xff;
        if (privateKey[i] !== 0) break;
      }
      publicKey.set(x25519PublicKey(privateKey), 0);
    }
    throw new Error("Identity.generate: no identity found (bad random source?)");
  }

  /**
   * Parses `address:0:public128hex[:private128hex]` (surrounding whitespace ignored, spec §1.2).
   * Undefined for a wrong field count, type other than "0", bad hex, wrong key lengths, a
   * reserved address or an over-long string.
   */
  static fromString(s: string): Identity | undefined {
    const t = s.trim();
    if (t.length > MAX_STRING_LENGTH) return undefined;
    const f = t.split(":");
    if (f.length < 3 || f.length > 4 || f[1] !== "0") return undefined;
    const address = Address.parse(f[0]);
    if (address === undefined || address.isReserved()) return undefined;
    const pub = parseHex(f[2]);
    if (pub === undefined || pub.length !== C25519_PUBLIC_KEY_LENGTH) return undefined;
    let priv: Uint8Array | undefined;
    if (f.length === 4) {
      priv = parseHex(f[3]);
      if (priv === undefined || priv.length !== C25519_PRIVATE_KEY_LENGTH) return undefined;
    }
    return new Identity(address, pub, priv);
  }

  /**
   * Reads the binary form at `off` (spec §1.4): address(5) type(1)=0 public(64) privLen(1)
   * [private(64)]. Undefined when truncated, type != 0 or private length not 0/64.
   */
  static deserialize(
    b: Uint8Array,
    off = 0,
  ): { identity: Identity; length: number } | undefined {
    if (!Number.isInteger(off) || off < 0 || off + 71 > b.length) return undefined;
    if (b[off + 5] !== 0) return undefined;
    const address = Address.fromBytes(b, off);
    const pub = b.subarray(off + 6, off + 70);
    const privLen = b[off + 70];
    if (privLen === 0) return { identity: new Identity(address, pub), length: 71 };
    if (privLen !== C25519_PRIVATE_KEY_LENGTH || off + 135 > b.length) return undefined;
    return {
      identity: new Identity(address, pub, b.subarray(off + 71, off + 135)),
      length: 135,
    };
  }

  /** Binary form (71 bytes, or 135 with the private key when asked and present). */
  serialize(includePrivate = false): Uint8Array {
    const priv = includePrivate ? this.privateKey : undefined;
    const out = new Uint8Array(priv ? 135 : 71);
    this.address.writeTo(out, 0);
    out[5] = 0;
    out.set(this.publicKey, 6);
    if (priv) {
      out[70] = priv.length;
      out.set(priv, 71);
    }
    return out;
  }

  /** Text form `address:0:public[:private]` (private only when asked and present). */
  toString(includePrivate = false): string {
    let s = `${this.address.toString()}:0:${toHex(this.publicKey)}`;
    if (includePrivate && this.privateKey) s += `:${toHex(this.privateKey)}`;
    return s;
  }

  /** True when the private key is known. */
  hasPrivate(): boolean {
    return this.privateKey !== undefined;
  }

  /**
   * True when the address is not reserved and the memory-hard digest of the public key starts
   * below 17 and ends with the address (spec §1.3). The result is cached (tens of ms to compute).
   */
  validate(): boolean {
    if (this.#valid === undefined) {
      if (this.address.isReserved()) {
        this.#valid = false;
      } else {
        const d = identityHash(this.publicKey);
        this.#valid = d[0] < HASHCASH_FIRST_BYTE_LESS_THAN &&
          Address.fromBytes(d, 59).equals(this.address);
      }
    }
    return this.#valid;
  }

  /**
   * The 48-byte peer session key shared with `other` (first 48 bytes of SHA-512 of the X25519
   * secret, spec §2.1); undefined without our private key.
   */
  agree(other: Identity): Uint8Array | undefined {
    if (!this.privateKey) return undefined;
    return c25519Agree(this.privateKey, other.publicKey).slice(0, PEER_KEY_LENGTH);
  }

  /** 96-byte signature of `msg` (spec §2.2). @throws Error without a private key. */
  sign(msg: Uint8Array): Uint8Array {
    if (!this.privateKey) throw new Error("Identity.sign: no private key");
    return c25519Sign(this.privateKey, this.publicKey, msg);
  }

  /** Checks a 96-byte signature of `msg` by this identity; false on any failure. */
  verify(msg: Uint8Array, sig: Uint8Array): boolean {
    return c25519Verify(this.publicKey, msg, sig);
  }

  /**
   * SHA-384(address 5 bytes || public key 64 bytes) (spec §1.5; used by COM qualifiers). Computed
   * once per identity; each call returns a fresh copy.
   */
  publicKeyHash(): Uint8Array {
    if (this.#keyHash === undefined) {
      const b = new Uint8Array(69);
      this.address.writeTo(b, 0);
      b.set(this.publicKey, 5);
      this.#keyHash = sha384(b);
    }
    return this.#keyHash.slice();
  }

  /** Same address and public key. */
  equals(o: Identity): boolean {
    if (!this.address.equals(o.address)) return false;
    for (let i = 0; i < C25519_PUBLIC_KEY_LENGTH; i++) {
      if (this.publicKey[i] !== o.publicKey[i]) return false;
    }
    return true;
  }
}
