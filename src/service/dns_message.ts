// DNS messages (wire format via npm dns-packet): the member-name server's answers from a zone, and the userspace resolver's queries and the answers it reads.
import * as dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import { lookupZone, type Zone, type ZoneResult } from "../controller/dns_zone.ts";

/** Largest UDP answer without EDNS (RFC 1035 §4.2.1). */
export const UDP_PLAIN_MAX = 512;
/** Largest UDP answer we send with EDNS, whatever the client offers (DNS flag day 2020). */
export const UDP_EDNS_MAX = 1232;
/** Largest message over TCP (2-byte length prefix). */
export const TCP_MAX = 65535;

/** Response codes we send. */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;

/** The parts of a decoded dns-packet message we read (the package ships no types). */
interface Decoded {
  id?: number;
  type?: string;
  flags?: number;
  opcode?: string;
  questions?: { name?: unknown; type?: unknown; class?: unknown }[];
  additionals?: { type?: unknown; udpPayloadSize?: unknown }[];
}

/** A record as dns-packet encodes it. */
interface OutRecord {
  name: string;
  type: string;
  class?: string;
  ttl?: number;
  data?: unknown;
  udpPayloadSize?: number;
}

/** What the server answers one message with, and why (for counters and tests). */
export interface DnsReply {
  /** Encoded answer; undefined = send nothing (not a query, or not even a header). */
  bytes: Uint8Array | undefined;
  /** The response code sent (undefined when nothing is sent). */
  rcode: number | undefined;
}

/** Whether a name is sane to echo: labels of 1..63 bytes, at most 253 characters. */
function validName(name: string): boolean {
  if (name === "" || name === ".") return true;
  const n = name.replace(/\.$/, "");
  if (n.length > 253) return false;
  const enc = new TextEncoder();
  return n.split(".").every((l) => {
    const len = enc.encode(l).length;
    return len >= 1 && len <= 63;
  });
}

/** A header-only answer (FORMERR, NOTIMP) for a message we cannot or will not parse further. */
function headerOnly(id: number, opcodeBits: number, rd: boolean, rcode: number): DnsReply {
  const b = new Uint8Array(12);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, id);
  dv.setUint16(2, QR | opcodeBits | (rd ? RD : 0) | rcode);
  return { bytes: b, rcode };
}

function soaRecord(zone: Zone): OutRecord {
  return {
    name: zone.domain,
    type: "SOA",
    class: "IN",
    ttl: zone.ttl,
    data: {
      mname: zone.domain,
      rname: `hostmaster.${zone.domain}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: zone.ttl,
    },
  };
}

function encode(msg: Record<string, unknown>): Uint8Array {
  const b = dnsPacket.encode(msg) as Uint8Array;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Answers one DNS message from `zones` (the zones served on the address it arrived at; the first
 * that does not refuse the name answers). `maxSize` is the transport's limit: {@link TCP_MAX}
 * for TCP; for UDP pass undefined and the limit is 512, or the client's EDNS size capped at
 * {@link UDP_EDNS_MAX}; an answer too big for it goes out empty with TC set. Never throws:
 * undecodable queries get FORMERR (if a header could be read), responses and garbage shorter
 * than a header get nothing, other opcodes NOTIMP, other classes REFUSED.
 */
export function answerQuery(query: Uint8Array, zones: Zone[], maxSize?: number): DnsReply {
  if (query.length < 12) return { bytes: undefined, rcode: undefined };
  const dv = new DataView(query.buffer, query.byteOffset, query.byteLength);
  const id = dv.getUint16(0);
  const flags = dv.getUint16(2);
  if (flags & QR) return { bytes: undefined, rcode: undefined };
  const opcodeBits = flags & 0x7800;
  const rd = (flags & RD) !== 0;
  if (opcodeBits !== 0) return headerOnly(id, opcodeBits, rd, RCODE.NOTIMP);
  let q: Decoded;
  try {
    q = dnsPacket.decode(Buffer.from(query.buffer, query.byteOffset, query.byteLength)) as Decoded;
  } catch {
    return headerOnly(id, 0, rd, RCODE.FORMERR);
  }
  const question = q.questions?.length === 1 ? q.questions[0] : undefined;
  if (
    !question || typeof question.name !== "string" || typeof question.type !== "string" ||
    typeof question.class !== "string" || !validName(question.name)
  ) {
    return headerOnly(id, 0, rd, RCODE.FORMERR);
  }
  const opt = q.additionals?.find((r) => r.type === "OPT");
  const limit = maxSize ??
    (opt && typeof opt.udpPayloadSize === "number"
      ? Math.max(UDP_PLAIN_MAX, Math.min(UDP_EDNS_MAX, opt.udpPayloadSize))
      : UDP_PLAIN_MAX);
  const qname = question.name;
  const qtype = question.type;
  let result: ZoneResult = { rcode: "REFUSED" };
  let zone: Zone | undefined;
  if (question.class === "IN" || question.class === "ANY") {
    for (const z of zones) {
      result = lookupZone(z, qname, qtype);
      if (result.rcode !== "REFUSED") {
        zone = z;
        break;
      }
    }
  }
  const answers: OutRecord[] = [];
  const authorities: OutRecord[] = [];
  if (result.rcode === "NOERROR" && zone) {
    for (const a of result.answers) {
      answers.push({
        name: qname.replace(/\.$/, ""),
        type: a.type,
        class: "IN",
        ttl: zone.ttl,
        data: a.data,
      });
    }
    if (result.soa) answers.push(soaRecord(zone));
    else if (answers.length === 0 && zone.domain !== "") authorities.push(soaRecord(zone));
  } else if (result.rcode === "NXDOMAIN" && zone) {
    authorities.push(soaRecord(zone));
  }
  const rcode = RCODE[result.rcode];
  const aa = result.rcode === "REFUSED" ? 0 : AA;
  const additionals: OutRecord[] = opt
    ? [{ name: ".", type: "OPT", udpPayloadSize: UDP_EDNS_MAX }]
    : [];
  const msg = {
    type: "response",
    id,
    flags: aa | (rd ? RD : 0) | rcode,
    questions: [{ name: qname, type: qtype, class: question.class }],
    answers,
    authorities,
    additionals,
  };
  try {
    let bytes = encode(msg);
    if (bytes.length > limit) {
      bytes = encode({ ...msg, flags: msg.flags | TC, answers: [], authorities: [] });
    }
    return { bytes, rcode };
  } catch {
    return headerOnly(id, 0, rd, RCODE.SERVFAIL);
  }
}

/** An A or AAAA answer as the userspace resolver reads it. */
export interface AddressAnswer {
  /** Response code of the answer. */
  rcode: number;
  /** Addresses of the asked name and type (text), in answer order. */
  addresses: string[];
  /** Smallest TTL among those records, or the SOA minimum of a negative answer (s; 0 = none). */
  ttl: number;
  /** TC was set (the answer was cut). */
  truncated: boolean;
}

/** Encodes a recursive query for `name` (`type` A or AAAA) with message id `id`. */
export function encodeAddressQuery(id: number, name: string, type: "A" | "AAAA"): Uint8Array {
  return encode({
    type: "query",
    id: id & 0xffff,
    flags: RD,
    questions: [{ name, type, class: "IN" }],
  });
}

/**
 * Reads the answer to {@link encodeAddressQuery}`(id, name, type)`; undefined when `bytes` is
 * not that answer (not a response, other id, other question, undecodable). Never throws. CNAME
 * chains are not followed: only records of `type` owned by `name` count.
 */
export function decodeAddressAnswer(
  bytes: Uint8Array,
  id: number,
  name: string,
  type: "A" | "AAAA",
): AddressAnswer | undefined {
  if (bytes.length < 12) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = dv.getUint16(2);
  if (dv.getUint16(0) !== (id & 0xffff) || !(flags & QR)) return undefined;
  let m: {
    questions?: { name?: unknown; type?: unknown }[];
    answers?: { name?: unknown; type?: unknown; ttl?: unknown; data?: unknown }[];
    authorities?: { type?: unknown; data?: unknown }[];
  };
  try {
    m = dnsPacket.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    return undefined;
  }
  const want = name.replace(/\.$/, "").toLowerCase();
  const q = m.questions?.[0];
  if (
    m.questions?.length !== 1 || typeof q?.name !== "string" ||
    q.name.replace(/\.$/, "").toLowerCase() !== want || q.type !== type
  ) {
    return undefined;
  }
  const addresses: string[] = [];
  let ttl = Infinity;
  for (const r of m.answers ?? []) {
    if (
      r.type !== type || typeof r.name !== "string" || typeof r.data !== "string" ||
      r.name.replace(/\.$/, "").toLowerCase() !== want
    ) continue;
    addresses.push(r.data);
    if (typeof r.ttl === "number") ttl = Math.min(ttl, r.ttl);
  }
  if (addresses.length === 0) {
    const soa = m.authorities?.find((r) => r.type === "SOA")?.data as
      | { minimum?: unknown }
      | undefined;
    ttl = typeof soa?.minimum === "number" ? soa.minimum : 0;
  }
  return {
    rcode: flags & 0x000f,
    addresses,
    ttl: Number.isFinite(ttl) ? ttl : 0,
    truncated: (flags & TC) !== 0,
  };
}
