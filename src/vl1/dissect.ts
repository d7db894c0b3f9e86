// Packet dissector: reassembles, authenticates, decrypts and summarizes captured ZeroTier datagrams.
import { toHex } from "../util/hex.ts";
import { dearmor, helloCryptField } from "./armor.ts";
import { uncompressPacket } from "./compression.ts";
import {
  FRAGMENT_HEADER_LENGTH,
  fragmentNumber,
  fragmentTotal,
  getFragmentHops,
  isFragment,
  MAX_PACKET_FRAGMENTS,
  Reassembler,
  RECEIVE_QUEUE_TIMEOUT,
} from "./fragment.ts";
import { Identity } from "./identity.ts";
import type { InetAddress } from "./inet_address.ts";
import {
  Cipher,
  errorCodeName,
  getCipher,
  getDest,
  getHops,
  getSource,
  getVerb,
  IDX_PAYLOAD,
  IDX_VERB,
  isCompressed,
  isFragmented,
  MAX_PACKET_LENGTH,
  MIN_PACKET_LENGTH,
  Verb,
  VERB_MASK,
  verbName,
} from "./packet.ts";
import { PeerKeys } from "./peer_keys.ts";
import {
  decodeError,
  decodeExtFrame,
  decodeFrame,
  decodeHello,
  decodeMulticastFrame,
  decodeMulticastGather,
  decodeMulticastLike,
  decodeNetworkConfigRequest,
  decodeNetworkCredentials,
  decodeOk,
  decodeOkHello,
  decodeOkMulticastFrame,
  decodeOkMulticastGather,
  decodeOkNetworkConfigRequest,
  decodeOkWhois,
  decodePushDirectPaths,
  decodeRemoteTrace,
  decodeRendezvous,
  decodeUserMessage,
  decodeWhois,
  helloCryptFieldStart,
} from "./verbs/mod.ts";
import { decodeConfigChunk } from "./verbs/network_config.ts";
import type { ConfigChunk } from "./verbs/network_config.ts";

/** One datagram to dissect (structurally the same as a capture reader's output). */
export interface DissectInput {
  /** Capture time, seconds since the epoch (fractional). */
  time: number;
  /** Underlay source `ip/port`. */
  src: string;
  /** Underlay destination `ip/port`. */
  dst: string;
  /** The UDP payload. */
  data: Uint8Array;
}

/**
 * What the dissector concluded about a datagram:
 * - `ok`: authenticated (and decrypted/decompressed/parsed) with a known or learned key;
 * - `bad-mac`: a key was available but authentication failed;
 * - `unknown-peer`: no identity for one side, no private key for either, or nothing to check
 *   (trusted-path cipher 2);
 * - `malformed`: structurally broken (bad fragment counts, length, cipher, LZ4 or verb payload);
 * - `junk`: too short to be a ZeroTier datagram (e.g. the 4-byte NAT-traversal probes);
 * - `incomplete`: a piece of a fragmented packet whose other pieces never arrived.
 */
export type Verdict = "ok" | "bad-mac" | "unknown-peer" | "malformed" | "junk" | "incomplete";

/** All verdicts, in summary order. */
export const VERDICTS: readonly Verdict[] = [
  "ok",
  "bad-mac",
  "unknown-peer",
  "malformed",
  "junk",
  "incomplete",
];

/** What one datagram is, structurally. */
export type DatagramKind = "packet" | "head" | "fragment" | "junk";

/** The dissection of one datagram. Hex strings are lowercase. */
export interface DissectRecord {
  /** Position of the record (0-based): the datagram's position, counting GSO segments apart. */
  index: number;
  /** Capture time (seconds). */
  time: number;
  /** Underlay source. */
  src: string;
  /** Underlay destination. */
  dst: string;
  /** UDP payload length. */
  length: number;
  /** Whole packet, head of a fragmented packet, fragment, or junk. */
  kind: DatagramKind;
  /** Wire packet ID, 16 hex digits. */
  packetId?: string;
  /** ZeroTier source address, 10 hex digits (for fragments: filled in from the head). */
  source?: string;
  /** ZeroTier destination address, 10 hex digits. */
  destination?: string;
  /** Cipher suite 0..7 (for fragments: from the head). */
  cipher?: number;
  /** Hop count of this datagram. */
  hops?: number;
  /** Piece number (0 = head) and total piece count (0 while unknown), for fragmented packets. */
  fragment?: { number: number; total: number };
  /** Verb name, once the packet was authenticated (or is readable without a key). */
  verb?: string;
  /** True when the payload was LZ4-compressed. */
  compressed?: boolean;
  /** The verdict (for pieces: the verdict of the whole packet). */
  verdict: Verdict;
  /** Why the verdict is not `ok`. */
  reason?: string;
  /** Short description of the verb payload (on the datagram that completes the packet). */
  summary?: string;
  /** True on the datagram that completed a fragmented packet. */
  completes?: boolean;
  /** On a completing datagram: indexes of all pieces of the packet (head first). */
  pieces?: number[];
  /** On a whole or completing datagram: the (reassembled) packet as sent, still armored. */
  wire?: Uint8Array;
  /** On an `ok` datagram that ends a packet: the packet dearmored and decompressed. */
  plaintext?: Uint8Array;
  /** Addresses of identities learned from this packet (HELLO or OK(WHOIS)). */
  learned?: string[];
  /**
   * Set when the captured datagram was a UDP GSO super-datagram (several datagrams sent with
   * one `UDP_SEGMENT` send, seen as one by a capture before segmentation) that was split:
   * which captured datagram (0-based), this segment's number, the segment count and size.
   */
  gso?: { datagram: number; segment: number; segments: number; size: number };
}

/** Counts per verdict over a dissection, plus the number of reassembled packets. */
export interface DissectSummary {
  /** Number of datagrams. */
  datagrams: number;
  /** Datagrams per verdict. */
  verdicts: Record<Verdict, number>;
  /** Fragmented packets that were reassembled. */
  reassembled: number;
  /** Captured UDP GSO super-datagrams that were split into their datagrams. */
  gsoSplit: number;
}

/**
 * The identities known to the dissector and the peer keys agreed between them. A key exists for
 * a pair when both identities are known and at least one has its private key. Identities
 * learned from authenticated HELLOs and OK(WHOIS) replies are added.
 */
export class Keyring {
  readonly #ids = new Map<number, Identity>();
  readonly #keys = new Map<string, PeerKeys | null>();

  /** A keyring holding `identities` (secret or public). */
  constructor(identities: Iterable<Identity> = []) {
    for (const id of identities) this.add(id);
  }

  /**
   * Adds an identity. Returns true if it was new, or upgraded a known public identity with the
   * same key to one with its private key; false if the address is already known.
   */
  add(id: Identity): boolean {
    const old = this.#ids.get(id.address.value);
    if (old) {
      if (old.hasPrivate() || !id.hasPrivate() || !old.equals(id)) return false;
      this.#keys.clear();
    }
    this.#ids.set(id.address.value, id);
    return true;
  }

  /** The identity with this 40-bit address, if known. */
  get(address: number): Identity | undefined {
    return this.#ids.get(address);
  }

  /** Number of identities known. */
  get size(): number {
    return this.#ids.size;
  }

  /** The peer keys between two known addresses (cached); undefined if not agreeable. */
  keysFor(a: number, b: number): PeerKeys | undefined {
    const k = a < b ? `${a},${b}` : `${b},${a}`;
    let v = this.#keys.get(k);
    if (v === undefined) {
      const x = this.#ids.get(a), y = this.#ids.get(b);
      if (!x || !y) return undefined; // not cached: either may be learned later
      v = agreeKeys(x, y) ?? null;
      this.#keys.set(k, v);
    }
    return v ?? undefined;
  }
}

/** Peer keys between two identities, using whichever side holds a private key. */
function agreeKeys(x: Identity, y: Identity): PeerKeys | undefined {
  const key = x.hasPrivate() ? x.agree(y) : y.hasPrivate() ? y.agree(x) : undefined;
  return key ? new PeerKeys(key) : undefined;
}

/** Pieces seen so far of one fragmented packet. */
interface PendingPieces {
  first: number;
  indexes: number[];
}

/** What analyzing a whole packet yields. */
interface Analysis {
  verdict: Verdict;
  reason?: string;
  verb?: string;
  compressed?: boolean;
  summary?: string;
  plaintext?: Uint8Array;
  learned?: string[];
}

const addr10 = (v: number): string => v.toString(16).padStart(10, "0");
const hex16 = (v: bigint): string => v.toString(16).padStart(16, "0");

/** Stateful dissector: feed datagrams in capture order with {@link Dissector.push}. */
export class Dissector {
  /** The identities and keys in use (grows as identities are learned). */
  readonly keyring: Keyring;
  /** Records so far (pieces are updated when their packet completes). */
  readonly records: DissectRecord[] = [];
  readonly #reassemblers = new Map<string, Reassembler>();
  readonly #pending = new Map<string, PendingPieces>();
  #inputs = 0;

  /** A dissector using `keyring` (or a new keyring of the given identities). */
  constructor(keyring: Keyring | Iterable<Identity>) {
    this.keyring = keyring instanceof Keyring ? keyring : new Keyring(keyring);
  }

  /**
   * Dissects the next datagram and returns its record. A piece of a fragmented packet starts as
   * `incomplete`; when the last piece arrives, every piece's record gets the packet's verdict.
   */
  push(d: DissectInput): DissectRecord {
    const datagram = this.#inputs++;
    const size = gsoSegmentSize(d.data, (w) => this.#authenticates(w));
    if (size === undefined) return this.#pushOne(d);
    const segments = Math.ceil(d.data.length / size);
    let first: DissectRecord | undefined;
    for (let k = 0; k < segments; k++) {
      const data = d.data.subarray(k * size, Math.min(d.data.length, (k + 1) * size));
      const rec = this.#pushOne({ ...d, data });
      rec.gso = { datagram, segment: k, segments, size };
      first ??= rec;
    }
    return first!;
  }

  /** True if `wire`, taken as one whole unfragmented packet, authenticates with a known key. */
  #authenticates(wire: Uint8Array): boolean {
    if (wire.length < MIN_PACKET_LENGTH || wire.length > MAX_PACKET_LENGTH) return false;
    if (isFragment(wire) || isFragmented(wire)) return false;
    const c = getCipher(wire);
    if (c !== Cipher.C25519_POLY1305_NONE && c !== Cipher.C25519_POLY1305_SALSA2012) {
      if (c !== Cipher.AES_GMAC_SIV) return false;
    }
    const keys = this.keyring.keysFor(getSource(wire), getDest(wire));
    return keys !== undefined && dearmor(wire.slice(), wire.length, keys);
  }

  #pushOne(d: DissectInput): DissectRecord {
    const b = d.data;
    const rec: DissectRecord = {
      index: this.records.length,
      time: d.time,
      src: d.src,
      dst: d.dst,
      length: b.length,
      kind: "packet",
      verdict: "incomplete",
    };
    this.records.push(rec);
    const now = Math.round(d.time * 1000);
    if (isFragment(b)) {
      rec.kind = "fragment";
      rec.packetId = toHex(b, 0, 8);
      rec.destination = toHex(b, 8, 13);
      rec.hops = getFragmentHops(b);
      const total = fragmentTotal(b), no = fragmentNumber(b);
      rec.fragment = { number: no, total };
      if (total < 2 || total > MAX_PACKET_FRAGMENTS || no < 1 || no >= total) {
        rec.verdict = "malformed";
        rec.reason = `bad fragment numbering ${no}/${total}`;
        return rec;
      }
      const whole = this.#reassembler(d.dst, rec.destination).addFragment(now, b);
      this.#track(rec, now, whole);
      return rec;
    }
    if (b.length < MIN_PACKET_LENGTH) {
      rec.kind = "junk";
      rec.verdict = "junk";
      rec.reason = `${b.length} bytes: too short for ZeroTier`;
      return rec;
    }
    rec.packetId = toHex(b, 0, 8);
    rec.destination = addr10(getDest(b));
    rec.source = addr10(getSource(b));
    rec.cipher = getCipher(b);
    rec.hops = getHops(b);
    if (b.length > MAX_PACKET_LENGTH) {
      rec.verdict = "malformed";
      rec.reason = `${b.length} bytes: longer than ${MAX_PACKET_LENGTH}`;
      return rec;
    }
    if (isFragmented(b)) {
      rec.kind = "head";
      rec.fragment = { number: 0, total: 0 };
      const whole = this.#reassembler(d.dst, rec.destination).addHead(now, b);
      this.#track(rec, now, whole);
      return rec;
    }
    rec.wire = b;
    this.#apply(rec, [rec.index], this.#analyze(b));
    return rec;
  }

  /** Records the piece and, when `whole` completes the packet, analyzes and back-fills. */
  #track(rec: DissectRecord, now: number, whole: Uint8Array | undefined): void {
    const key = `${rec.dst}|${rec.destination}|${rec.packetId}`;
    let p = this.#pending.get(key);
    if (!p || now - p.first > RECEIVE_QUEUE_TIMEOUT) {
      p = { first: now, indexes: [] };
      this.#pending.set(key, p);
    }
    p.indexes.push(rec.index);
    if (!whole) return;
    this.#pending.delete(key);
    const pieces = p.indexes.slice().sort((x, y) => {
      const a = this.records[x].fragment?.number ?? 0, b = this.records[y].fragment?.number ?? 0;
      return a - b || x - y;
    });
    rec.completes = true;
    rec.pieces = pieces;
    rec.wire = whole;
    const total = fragmentTotalOf(this.records, pieces);
    const head = this.records[pieces[0]];
    for (const i of pieces) {
      const r = this.records[i];
      if (r.fragment) r.fragment.total = total;
      r.source = head.source;
      r.cipher = head.cipher;
    }
    this.#apply(rec, pieces, this.#analyze(whole));
  }

  /** Writes an analysis into the ending record and the verdict into every piece. */
  #apply(rec: DissectRecord, pieces: number[], a: Analysis): void {
    for (const i of pieces) {
      const r = this.records[i];
      r.verdict = a.verdict;
      if (a.reason !== undefined) r.reason = a.reason;
      if (a.verb !== undefined) r.verb = a.verb;
      if (a.compressed !== undefined) r.compressed = a.compressed;
    }
    if (a.summary !== undefined) rec.summary = a.summary;
    if (a.plaintext !== undefined) rec.plaintext = a.plaintext;
    if (a.learned !== undefined && a.learned.length > 0) rec.learned = a.learned;
  }

  #reassembler(dst: string, ztDest: string): Reassembler {
    const k = `${dst}|${ztDest}`;
    let r = this.#reassemblers.get(k);
    if (!r) this.#reassemblers.set(k, r = new Reassembler());
    return r;
  }

  /** Authenticates, decrypts, decompresses and summarizes one whole armored packet. */
  #analyze(wire: Uint8Array): Analysis {
    const len = wire.length;
    if (len < MIN_PACKET_LENGTH || len > MAX_PACKET_LENGTH) {
      return { verdict: "malformed", reason: `reassembled length ${len} out of range` };
    }
    const cipher = getCipher(wire);
    const src = getSource(wire), dst = getDest(wire);
    if (cipher === Cipher.NO_CRYPTO_TRUSTED_PATH) {
      const a = this.#finish(wire.slice(), false);
      return {
        ...a,
        verdict: a.verdict === "ok" ? "unknown-peer" : a.verdict,
        reason: a.reason ?? "trusted-path packet (cipher 2): nothing to authenticate",
      };
    }
    if (
      cipher !== Cipher.C25519_POLY1305_NONE && cipher !== Cipher.C25519_POLY1305_SALSA2012 &&
      cipher !== Cipher.AES_GMAC_SIV
    ) {
      return { verdict: "malformed", reason: `unknown cipher ${cipher}` };
    }
    let keys = this.keyring.keysFor(src, dst);
    let candidate: Identity | undefined;
    if (!keys) {
      const s = this.keyring.get(src), t = this.keyring.get(dst);
      // A HELLO carries its sender's identity in the clear: with the recipient's secret we can
      // agree a key with it and authenticate the packet.
      if (
        !s && t?.hasPrivate() && cipher === Cipher.C25519_POLY1305_NONE &&
        (wire[IDX_VERB] & VERB_MASK) === Verb.HELLO
      ) {
        const id = Identity.deserialize(wire.subarray(0, len), IDX_PAYLOAD + 13);
        if (!id) return { verdict: "malformed", reason: "HELLO without a readable identity" };
        if (id.identity.address.value !== src) {
          return { verdict: "malformed", reason: "HELLO identity does not match its source" };
        }
        candidate = id.identity;
        keys = agreeKeys(t, candidate);
      }
    }
    if (!keys) {
      const s = this.keyring.get(src), t = this.keyring.get(dst);
      const reason = !s
        ? `no identity for ${addr10(src)}`
        : !t
        ? `no identity for ${addr10(dst)}`
        : `no private key for ${addr10(src)} or ${addr10(dst)}`;
      return { verdict: "unknown-peer", reason };
    }
    const buf = wire.slice();
    if (!dearmor(buf, len, keys)) {
      return { verdict: "bad-mac", reason: `authentication failed (cipher ${cipher})` };
    }
    const learned: string[] = [];
    if (candidate) {
      if (!candidate.validate()) {
        return { verdict: "malformed", reason: "HELLO identity fails validation" };
      }
      if (this.keyring.add(candidate)) learned.push(candidate.address.toString());
    }
    const a = this.#finish(buf, true);
    if (a.learned) learned.push(...a.learned);
    if (learned.length > 0) a.learned = learned;
    return a;
  }

  /** Decompresses, undoes the HELLO cryptField (when keyed) and summarizes a dearmored packet. */
  #finish(buf: Uint8Array, keyed: boolean): Analysis {
    const compressed = isCompressed(buf);
    const verb = verbName(getVerb(buf));
    const u = uncompressPacket(buf, buf.length);
    if (!u) {
      return { verdict: "malformed", reason: "LZ4 payload does not decompress", verb, compressed };
    }
    if (keyed && getVerb(u) === Verb.HELLO) {
      const start = helloCryptFieldStart(u, IDX_PAYLOAD, u.length);
      const keys = this.keyring.keysFor(getSource(u), getDest(u));
      if (start !== undefined && keys) helloCryptField(u, start, u.length, keys);
    }
    const learned: string[] = [];
    const summary = summarizePayload(u, (id) => {
      if (this.keyring.get(id.address.value) || !id.validate()) return;
      if (this.keyring.add(id)) learned.push(id.address.toString());
    });
    if (summary === undefined) {
      return {
        verdict: "malformed",
        reason: `${verb} payload does not parse`,
        verb,
        compressed,
        plaintext: u,
      };
    }
    const a: Analysis = { verdict: "ok", verb, compressed, summary, plaintext: u };
    if (learned.length > 0) a.learned = learned;
    return a;
  }
}

/** Smallest segment a GSO super-datagram is split into (a fragment: header + 1 byte). */
const MIN_GSO_SEGMENT = FRAGMENT_HEADER_LENGTH + 1;

/** Whether `b[o..e)` is structurally a ZeroTier datagram for the ZeroTier destination `dest`. */
function plausibleDatagram(b: Uint8Array, o: number, e: number, dest: Uint8Array): boolean {
  const len = e - o;
  if (len < MIN_GSO_SEGMENT) return false;
  for (let i = 0; i < 5; i++) if (b[o + 8 + i] !== dest[i]) return false;
  if (b[o + 13] === 0xff) {
    // a fragment: 2..16 pieces, number 1..total-1
    const total = b[o + 14] >> 4, no = b[o + 14] & 0x0f;
    return total >= 2 && total <= MAX_PACKET_FRAGMENTS && no >= 1 && no < total;
  }
  // a packet (a source address never starts with 0xff): header length, a source address that
  // is not 0, a known cipher
  if (len < MIN_PACKET_LENGTH || ((b[o + 18] >> 3) & 7) > Cipher.AES_GMAC_SIV) return false;
  return (b[o + 13] | b[o + 14] | b[o + 15] | b[o + 16] | b[o + 17]) !== 0;
}

/**
 * The segment size of a UDP GSO super-datagram, or undefined if `b` is one datagram. A capture
 * on a veth or bridge sees a `UDP_SEGMENT` send (zt sends runs of equal-sized datagrams to one
 * peer that way) before the kernel segments it: one UDP payload holding several datagrams of
 * the same size, the last possibly shorter. It is taken for one when some size s splits it
 * into at least two pieces that are each structurally a ZeroTier datagram (packet or fragment)
 * for the same ZeroTier destination, and the whole does not itself authenticate as one packet
 * (`authenticates`); the smallest such s wins.
 */
export function gsoSegmentSize(
  b: Uint8Array,
  authenticates: (whole: Uint8Array) => boolean = () => false,
): number | undefined {
  const len = b.length;
  if (len < 2 * MIN_GSO_SEGMENT) return undefined;
  const dest = b.subarray(8, 13);
  // addresses 0 and 0xff.... are reserved: no packet goes there
  if (dest[0] === 0xff || (dest[0] | dest[1] | dest[2] | dest[3] | dest[4]) === 0) return undefined;
  if (!plausibleDatagram(b, 0, len, dest)) return undefined;
  for (let s = MIN_GSO_SEGMENT; s < len; s++) {
    // cheap first test: the second piece must name the same destination
    if (b[s + 8] !== dest[0] || b[s + 12] !== dest[4]) continue;
    if (len - s < MIN_GSO_SEGMENT) break;
    let ok = plausibleDatagram(b, 0, s, dest);
    for (let o = s; ok && o < len; o += s) ok = plausibleDatagram(b, o, Math.min(len, o + s), dest);
    if (ok) return authenticates(b) ? undefined : s;
  }
  return undefined;
}

/** The total piece count of a completed packet, from its fragments' headers. */
function fragmentTotalOf(records: DissectRecord[], pieces: number[]): number {
  for (const i of pieces) {
    const f = records[i].fragment;
    if (records[i].kind === "fragment" && f) return f.total;
  }
  return pieces.length;
}

/**
 * Dissects a whole capture: one record per datagram, in order. `keys` is a keyring (which may
 * learn identities) or the known identities.
 */
export function dissect(
  datagrams: Iterable<DissectInput>,
  keys: Keyring | Iterable<Identity>,
): DissectRecord[] {
  const d = new Dissector(keys);
  for (const x of datagrams) d.push(x);
  return d.records;
}

/** Counts verdicts over records and the fragmented packets reassembled. */
export function summarizeDissection(records: readonly DissectRecord[]): DissectSummary {
  const verdicts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  let reassembled = 0, gsoSplit = 0;
  for (const r of records) {
    verdicts[r.verdict]++;
    if (r.completes) reassembled++;
    if (r.gso?.segment === 0) gsoSplit++;
  }
  return { datagrams: records.length, verdicts, reassembled, gsoSplit };
}

// ---- verb summaries ----

function mac(v: number): string {
  let s = "";
  for (let i = 5; i >= 0; i--) {
    const byte = Math.floor(v / 2 ** (i * 8)) & 0xff;
    s += (s ? ":" : "") + byte.toString(16).padStart(2, "0");
  }
  return s;
}

const ether = (t: number): string => `0x${t.toString(16).padStart(4, "0")}`;
const ep = (a: InetAddress | undefined): string => (a ? a.toString() : "-");

function list<T>(items: T[], f: (x: T) => string, max = 4): string {
  const shown = items.slice(0, max).map(f).join(", ");
  return items.length > max ? `${shown}, … (+${items.length - max})` : shown;
}

function chunkText(c: ConfigChunk): string {
  const n = c.dataEnd - c.dataStart;
  if (c.legacy) return `nwid ${hex16(c.networkId)} legacy chunk ${n} bytes`;
  return `nwid ${hex16(c.networkId)} chunk ${c.chunkIndex}+${n}/${c.totalLength} update ${
    hex16(c.configUpdateId ?? 0n)
  }`;
}

/** Summary of an OK body by in-re verb; undefined when it does not parse. */
function summarizeOk(u: Uint8Array, learn: (id: Identity) => void): string | undefined {
  const end = u.length;
  const ok = decodeOk(u, IDX_PAYLOAD, end);
  if (!ok) return undefined;
  const head = `in-re ${verbName(ok.inReVerb)} ${hex16(ok.inRePacketId)}`;
  const bodyLen = ok.bodyEnd - ok.bodyStart;
  switch (ok.inReVerb & VERB_MASK) {
    case Verb.HELLO: {
      const o = decodeOkHello(u, IDX_PAYLOAD, end);
      if (!o) return undefined;
      return `${head} proto ${o.protocolVersion} v${o.versionMajor}.${o.versionMinor}.${o.versionRevision} ` +
        `seen-as ${ep(o.physicalAddress)} worlds ${o.worlds.length}B`;
    }
    case Verb.WHOIS: {
      const o = decodeOkWhois(u, IDX_PAYLOAD, end);
      if (!o) return undefined;
      for (const id of o.identities) learn(id);
      return `${head} identities ${list(o.identities, (i) => i.address.toString())}`;
    }
    case Verb.NETWORK_CONFIG_REQUEST: {
      const o = decodeOkNetworkConfigRequest(u, IDX_PAYLOAD, end);
      return o ? `${head} ${chunkText(o.chunk)}` : undefined;
    }
    case Verb.MULTICAST_GATHER: {
      const o = decodeOkMulticastGather(u, IDX_PAYLOAD, end);
      if (!o) return undefined;
      return `${head} nwid ${hex16(o.networkId)} group ${
        mac(o.mac)
      }/${o.adi} members ${o.members.length} of ${o.totalKnown}`;
    }
    case Verb.MULTICAST_FRAME: {
      const o = decodeOkMulticastFrame(u, IDX_PAYLOAD, end);
      if (!o) return undefined;
      const g = o.gather ? ` members ${o.gather.members.length} of ${o.gather.totalKnown}` : "";
      return `${head} nwid ${hex16(o.networkId)} group ${mac(o.mac)}/${o.adi}${g}`;
    }
    case Verb.ECHO:
      // OK(NETWORK_CONFIG) also says in-re ECHO, with nwid + config update ID (spec §4.12).
      if (bodyLen === 16) {
        const c = decodeChunkAck(u, ok.bodyStart);
        return `${head} config ack nwid ${c.nwid} update ${c.update}`;
      }
      return `${head} ${bodyLen} bytes`;
    case Verb.EXT_FRAME:
      if (bodyLen < 8) return undefined;
      return `${head} nwid ${toHex(u, ok.bodyStart, ok.bodyStart + 8)}`;
    default:
      return `${head} ${bodyLen} bytes`;
  }
}

function decodeChunkAck(u: Uint8Array, off: number): { nwid: string; update: string } {
  return { nwid: toHex(u, off, off + 8), update: toHex(u, off + 8, off + 16) };
}

/**
 * A one-line description of a dearmored, decompressed packet's verb payload, or undefined when
 * the payload of a known verb does not parse. `learn` receives identities carried in OK(WHOIS).
 */
export function summarizePayload(
  u: Uint8Array,
  learn: (id: Identity) => void = () => {},
): string | undefined {
  const s = IDX_PAYLOAD, e = u.length;
  const n = e - s;
  switch (getVerb(u)) {
    case Verb.HELLO: {
      const h = decodeHello(u, s, e);
      if (!h) return undefined;
      let t =
        `proto ${h.protocolVersion} v${h.versionMajor}.${h.versionMinor}.${h.versionRevision} ` +
        `identity ${h.identity.address} to ${ep(h.destination)}`;
      if (h.planetWorldId !== undefined) {
        t += ` planet ${hex16(h.planetWorldId)}@${h.planetWorldTimestamp}`;
      }
      if (h.moons.length > 0) {
        t += ` moons ${list(h.moons, (m) => `${hex16(m.worldId)}@${m.timestamp}`)}`;
      }
      return t;
    }
    case Verb.ERROR: {
      const x = decodeError(u, s, e);
      if (!x) return undefined;
      const nw = x.networkId !== undefined ? ` nwid ${hex16(x.networkId)}` : "";
      return `in-re ${verbName(x.inReVerb)} ${hex16(x.inRePacketId)} ${errorCodeName(x.code)}${nw}`;
    }
    case Verb.OK:
      return summarizeOk(u, learn);
    case Verb.WHOIS: {
      const w = decodeWhois(u, s, e);
      return w ? `addresses ${list(w.addresses, (a) => a.toString())}` : undefined;
    }
    case Verb.RENDEZVOUS: {
      const r = decodeRendezvous(u, s, e);
      return r ? `peer ${r.peer} at ${r.endpoint}` : undefined;
    }
    case Verb.FRAME: {
      const f = decodeFrame(u, s, e);
      if (!f) return undefined;
      return `nwid ${hex16(f.networkId)} ethertype ${ether(f.etherType)} length ${
        f.payloadEnd - f.payloadStart
      }`;
    }
    case Verb.EXT_FRAME: {
      const f = decodeExtFrame(u, s, e);
      if (!f) return undefined;
      return `nwid ${hex16(f.networkId)} flags 0x${f.flags.toString(16).padStart(2, "0")} ${
        mac(f.from)
      } > ${mac(f.to)} ethertype ${ether(f.etherType)} length ${f.payloadEnd - f.payloadStart}`;
    }
    case Verb.ECHO:
      return `${n} bytes`;
    case Verb.MULTICAST_LIKE: {
      const m = decodeMulticastLike(u, s, e);
      if (!m) return undefined;
      return `${m.groups.length} groups: ${
        list(m.groups, (g) => `${hex16(g.networkId)} ${mac(g.mac)}/${g.adi}`, 3)
      }`;
    }
    case Verb.NETWORK_CREDENTIALS: {
      const c = decodeNetworkCredentials(u, s, e);
      if (!c) return undefined;
      return `com ${c.coms.length} cap ${c.capabilities.length} tag ${c.tags.length} rev ${c.revocations.length} coo ${c.coos.length}`;
    }
    case Verb.NETWORK_CONFIG_REQUEST: {
      const q = decodeNetworkConfigRequest(u, s, e);
      if (!q) return undefined;
      return `nwid ${hex16(q.networkId)} metadata ${q.metadata.length}B revision ${
        q.revision ?? "-"
      }`;
    }
    case Verb.NETWORK_CONFIG: {
      const c = decodeConfigChunk(u, s, e);
      return c ? chunkText(c) : undefined;
    }
    case Verb.MULTICAST_GATHER: {
      const g = decodeMulticastGather(u, s, e);
      if (!g) return undefined;
      return `nwid ${hex16(g.networkId)} group ${mac(g.mac)}/${g.adi} limit ${g.gatherLimit}`;
    }
    case Verb.MULTICAST_FRAME: {
      const f = decodeMulticastFrame(u, s, e);
      if (!f) return undefined;
      return `nwid ${hex16(f.networkId)} group ${mac(f.mac)}/${f.adi} ethertype ${
        ether(f.etherType)
      } length ${f.payloadEnd - f.payloadStart}`;
    }
    case Verb.PUSH_DIRECT_PATHS: {
      const p = decodePushDirectPaths(u, s, e);
      if (!p) return undefined;
      return `${p.paths.length} paths: ${list(p.paths, (x) => x.address.toString())}`;
    }
    case Verb.USER_MESSAGE: {
      const m = decodeUserMessage(u, s, e);
      return m ? `type ${m.typeId} length ${m.data.length}` : undefined;
    }
    case Verb.REMOTE_TRACE: {
      const t = decodeRemoteTrace(u, s, e);
      return t ? `${t.traces.length} traces` : undefined;
    }
    default:
      return `${n} payload bytes`;
  }
}
