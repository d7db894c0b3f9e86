// Capability credential: rules + custody chain; build, sign, serialize/parse, verify (spec §7.6, §8.2).
import { Identity } from "../../vl1/identity.ts";
import { Reader, Writer } from "../../vl1/verbs/wire.ts";
import {
  CREDENTIAL_SIGNATURE_LENGTH,
  IdentityLookup,
  readSignature,
  safeWindow,
  signedForm,
  skipAdditionalFields,
  Verdict,
  writeSignature,
} from "./signature.ts";

/** Most rules in a capability. */
export const CAPABILITY_MAX_RULES = 64;
/** Longest custody chain. */
export const CAPABILITY_MAX_CUSTODY_CHAIN = 7;

/**
 * One rule in its wire form `t | L | L value bytes` (spec §8.2), kept undecoded so any rule
 * (known or not) re-encodes byte-exactly. Bit 7 of `type` = NOT, bit 6 = OR, bits 0..5 = id.
 */
export interface RawRule {
  /** The type byte (flags included). */
  type: number;
  /** The L value bytes. */
  value: Uint8Array;
}

/**
 * Reads `count` rules (or, with `count` undefined, rules until `end`) from `b[off..end)`.
 * Undefined if a rule is truncated. Values are copies.
 */
export function decodeRawRules(
  b: Uint8Array,
  off: number,
  end: number,
  count?: number,
): { rules: RawRule[]; length: number } | undefined {
  const r = safeWindow(b, off, end);
  if (!r) return undefined;
  return readRules(r, count);
}

function readRules(r: Reader, count?: number): { rules: RawRule[]; length: number } | undefined {
  const start = r.pos;
  const rules: RawRule[] = [];
  while (count === undefined ? r.remaining > 0 : rules.length < count) {
    const type = r.u8();
    const value = r.copy(r.u8());
    if (!r.ok) return undefined;
    rules.push({ type, value });
  }
  return { rules, length: r.pos - start };
}

/** Concatenated wire form of `rules`. */
export function encodeRawRules(rules: readonly RawRule[]): Uint8Array {
  const w = new Writer(rules.length * 8);
  writeRules(w, rules);
  return w.finish();
}

function writeRules(w: Writer, rules: readonly RawRule[]): void {
  for (const x of rules) w.u8(x.type).u8(x.value.length).bytes(x.value);
}

/** One custody chain link: `from` granted the capability to `to`. */
export interface CustodyEntry {
  /** Receiver. */
  to: number;
  /** Granter (the controller for the first entry). */
  from: number;
  /** 96-byte signature by `from` over the capability's signed form. */
  signature: Uint8Array;
}

/** A capability: a rule set granted by the controller, with its custody chain. */
export interface Capability {
  /** Network ID. */
  networkId: bigint;
  /** Timestamp (controller ms). */
  timestamp: bigint;
  /** Capability ID (u32). */
  id: number;
  /** The rules (<= 64). */
  rules: RawRule[];
  /** Maximum custody chain length, 1..7 (the controller uses 1). */
  maxCustodyChainLength: number;
  /** Custody chain (empty while unsigned). */
  custody: CustodyEntry[];
}

/** `nwid | ts | id | rule count | rules`, the start of both the signed and the binary form. */
function writeHead(w: Writer, c: Capability): void {
  w.u64(c.networkId).u64(c.timestamp).u32(c.id).u16(c.rules.length);
  writeRules(w, c.rules);
}

/** Signed form (same for every custody entry): `7f×8 | nwid | ts | id | n | rules | max | 0000 | 7f×8`. */
export function capabilitySignedBytes(c: Capability): Uint8Array {
  return signedForm(64 + c.rules.length * 8, (w) => {
    writeHead(w, c);
    w.u8(c.maxCustodyChainLength);
  });
}

/**
 * A copy of `c` with a custody entry `from -> to` appended, signed by `from` (needs its private
 * key). Undefined if the chain is full or `from` is not the current holder (the first entry's
 * `from` must be the controller, `networkId >> 24`).
 */
export function capabilitySign(c: Capability, from: Identity, to: number): Capability | undefined {
  const n = c.custody.length;
  if (n >= c.maxCustodyChainLength || n >= CAPABILITY_MAX_CUSTODY_CHAIN) return undefined;
  const holder = n === 0 ? Number(c.networkId >> 24n) : c.custody[n - 1].to;
  if (from.address.value !== holder || to === 0) return undefined;
  const signature = from.sign(capabilitySignedBytes(c));
  return { ...c, custody: [...c.custody, { to, from: from.address.value, signature }] };
}

/** Binary form (spec §7.6). */
export function capabilitySerialize(c: Capability): Uint8Array {
  const w = new Writer(128 + c.rules.length * 8 + c.custody.length * 113);
  writeHead(w, c);
  w.u8(c.maxCustodyChainLength);
  for (const e of c.custody) {
    w.u40(e.to).u40(e.from);
    writeSignature(w, e.signature);
  }
  w.u40(0).u16(0);
  return w.finish();
}

/**
 * Parses a Capability at `b[off..end)`: <= 64 rules, chain limit 1..7, custody entries until a
 * zero `to` (entries with a non-C25519 signature type are skipped). The capability and its
 * byte length, or undefined.
 */
export function capabilityDeserialize(
  b: Uint8Array,
  off = 0,
  end = b.length,
): { capability: Capability; length: number } | undefined {
  const r = safeWindow(b, off, end);
  if (!r) return undefined;
  const networkId = r.u64();
  const timestamp = r.u64();
  const id = r.u32();
  const n = r.u16();
  if (!r.ok || n > CAPABILITY_MAX_RULES) return undefined;
  const rules = readRules(r, n);
  if (!rules) return undefined;
  const max = r.u8();
  if (!r.ok || max < 1 || max > CAPABILITY_MAX_CUSTODY_CHAIN) return undefined;
  const custody: CustodyEntry[] = [];
  for (let i = 0;; i++) {
    const to = r.u40();
    if (!r.ok) return undefined;
    if (to === 0) break;
    if (i >= max) return undefined;
    const from = r.u40();
    const signature = readSignature(r);
    if (!r.ok) return undefined;
    if (signature) custody.push({ to, from, signature });
  }
  skipAdditionalFields(r);
  if (!r.ok) return undefined;
  return {
    capability: {
      networkId,
      timestamp,
      id,
      rules: rules.rules,
      maxCustodyChainLength: max,
      custody,
    },
    length: r.pos - off,
  };
}

/**
 * Verifies the custody chain (spec §7.6): entry 0 exists and is from the controller; each
 * later `from` equals the previous `to`; every signature verifies with its `from` identity.
 */
export function capabilityVerify(c: Capability, lookup: IdentityLookup): Verdict {
  if (c.custody.length === 0 || c.custody.length > c.maxCustodyChainLength) return "bad";
  const signed = capabilitySignedBytes(c);
  let need = false;
  for (let i = 0; i < c.custody.length; i++) {
    const e = c.custody[i];
    if (i === 0 ? BigInt(e.from) !== c.networkId >> 24n : e.from !== c.custody[i - 1].to) {
      return "bad";
    }
    if (e.signature.length !== CREDENTIAL_SIGNATURE_LENGTH) return "bad";
    const id = lookup(e.from);
    if (!id) {
      need = true;
      continue;
    }
    if (id.address.value !== e.from || !id.verify(signed, e.signature)) return "bad";
  }
  return need ? "need-identity" : "ok";
}

/** The current holder (last custody `to`), or undefined while unsigned. */
export function capabilityHolder(c: Capability): number | undefined {
  return c.custody.length ? c.custody[c.custody.length - 1].to : undefined;
}
