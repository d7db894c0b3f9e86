// Rules-test explainer: builds a described frame, runs it through a network config's rules and explains the verdict (used by `zt rules test` and the web UI).
import { InetAddress } from "../../vl1/inet_address.ts";
import { BROADCAST_MAC, macFromAddress, macToString, parseMac } from "../mac.ts";
import type { NetworkConfig } from "../network_config.ts";
import { IP_PROTOCOL_NAMES } from "../rules_compiler/mod.ts";
import { filterInbound, filterOutbound, type FilterResult, typedRules } from "./filter.ts";
import { ETHER_ARP, ETHER_IPV4, ETHER_IPV6, type FrameInfo, parseFrame } from "./frame_info.ts";
import { ruleToText } from "./rule_codec.ts";
import { isActionRule, type Rule } from "./rule_types.ts";

/** A frame described on the command line (`tcp 10.0.0.1:1234 > 10.0.0.2:22`). */
export interface TestFrameSpec {
  /** IP protocol number, or "arp". */
  protocol: number | "arp";
  /** Source IP. */
  src: InetAddress;
  /** Destination IP. */
  dst: InetAddress;
  /** Source port (TCP/UDP/SCTP/UDP-Lite), default 0. */
  sport: number;
  /** Destination port, default 0. */
  dport: number;
  /** TCP flag bits 0..8 (FIN..NS); default SYN. */
  tcpFlags: number;
  /** TOS / traffic class byte. */
  tos: number;
  /** ICMP type (default echo request: 8, or 128 for ICMPv6). */
  icmpType?: number;
  /** ICMP code (default 0). */
  icmpCode: number;
  /** Minimum payload size (padded with zeros). */
  size: number;
}

const TCP_FLAG_NAMES = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"];

function num(s: string, max: number): number | undefined {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(s)) return undefined;
  const v = Number(s);
  return Number.isSafeInteger(v) && v <= max ? v : undefined;
}

/** `1.2.3.4`, `1.2.3.4:80`, `fd00::1`, `[fd00::1]:80` → address and port. */
function endpoint(s: string): { ip: InetAddress; port: number } | undefined {
  let host = s, port = 0;
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (br) {
    host = br[1];
    if (br[2] !== undefined) port = num(br[2], 0xffff) ?? -1;
  } else if ((s.match(/:/g) ?? []).length === 1) {
    [host] = s.split(":");
    port = num(s.split(":")[1], 0xffff) ?? -1;
  }
  const ip = InetAddress.fromIp(host);
  return ip && port >= 0 ? { ip, port } : undefined;
}

/** Frame options accepted inside or after the description. */
export interface FrameOptions {
  /** TCP flags, comma separated names (`syn,ack`). */
  flags?: string;
  /** TOS byte. */
  tos?: string;
  /** ICMP type. */
  icmpType?: string;
  /** ICMP code. */
  icmpCode?: string;
  /** Minimum payload size. */
  size?: string;
}

/**
 * Parses `<proto> <src>[:port] > <dst>[:port]` (proto: tcp, udp, icmp, icmp6, sctp, any
 * protocol name or number, or arp). An error message on bad input.
 */
export function parseFrameDescription(
  text: string,
  o: FrameOptions = {},
): { ok: true; spec: TestFrameSpec } | { ok: false; error: string } {
  const t = text.trim().split(/\s+/);
  if (t.length !== 4 || t[2] !== ">") {
    return { ok: false, error: `expected '<proto> <src>[:port] > <dst>[:port]', got '${text}'` };
  }
  const p = t[0].toLowerCase();
  const protocol = p === "arp" ? "arp" : IP_PROTOCOL_NAMES[p] ?? num(p, 255);
  if (protocol === undefined) return { ok: false, error: `unknown protocol '${t[0]}'` };
  const a = endpoint(t[1]), b = endpoint(t[3]);
  if (!a || !b) return { ok: false, error: `bad address in '${text}'` };
  if (a.ip.family !== b.ip.family) return { ok: false, error: "mixed IPv4 and IPv6 addresses" };
  if (protocol === "arp" && a.ip.family !== 4) return { ok: false, error: "arp needs IPv4" };
  let tcpFlags = 0x02;
  if (o.flags !== undefined) {
    tcpFlags = 0;
    for (const f of o.flags.toLowerCase().split(",").filter((x) => x)) {
      const i = TCP_FLAG_NAMES.indexOf(f.replace(/^tcp_/, ""));
      if (i < 0) return { ok: false, error: `unknown TCP flag '${f}'` };
      tcpFlags |= 1 << i;
    }
  }
  const opt = (v: string | undefined, name: string, max: number, dflt: number) => {
    if (v === undefined) return dflt;
    const n = num(v, max);
    if (n === undefined) throw new Error(`bad --${name} '${v}'`);
    return n;
  };
  try {
    const spec: TestFrameSpec = {
      protocol,
      src: a.ip,
      dst: b.ip,
      sport: a.port,
      dport: b.port,
      tcpFlags,
      tos: opt(o.tos, "tos", 255, 0),
      icmpCode: opt(o.icmpCode, "icmp-code", 255, 0),
      size: opt(o.size, "size", 10000, 0),
    };
    if (o.icmpType !== undefined) spec.icmpType = opt(o.icmpType, "icmp-type", 255, 0);
    return { ok: true, spec };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
}

function ipv4Checksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (b[i] << 8) | b[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** The transport header for `spec` (ports for TCP/UDP/SCTP/UDP-Lite, type/code for ICMP). */
function transport(spec: TestFrameSpec, proto: number): Uint8Array {
  if (proto === 6) {
    const h = new Uint8Array(20);
    put16(h, 0, spec.sport);
    put16(h, 2, spec.dport);
    h[12] = 0x50 | ((spec.tcpFlags >> 8) & 1);
    h[13] = spec.tcpFlags & 0xff;
    put16(h, 14, 0xffff);
    return h;
  }
  const h = new Uint8Array(8);
  if (proto === 1 || proto === 58) {
    h[0] = spec.icmpType ?? (proto === 1 ? 8 : 128);
    h[1] = spec.icmpCode;
  } else if (proto === 17 || proto === 132 || proto === 136) {
    put16(h, 0, spec.sport);
    put16(h, 2, spec.dport);
    if (proto === 17) put16(h, 4, 8);
  }
  return h;
}

/** Builds the Ethernet payload (IPv4 / IPv6 packet or ARP request) and its ethertype. */
export function buildTestFrame(
  spec: TestFrameSpec,
  macSource: number,
): { etherType: number; payload: Uint8Array } {
  let etherType: number, p: Uint8Array;
  if (spec.protocol === "arp") {
    etherType = ETHER_ARP;
    p = new Uint8Array(28);
    p.set([0, 1, 8, 0, 6, 4, 0, 1]);
    for (let i = 0; i < 6; i++) p[8 + i] = Math.floor(macSource / 2 ** (8 * (5 - i))) & 0xff;
    p.set(spec.src.ip, 14);
    p.set(spec.dst.ip, 24);
  } else {
    const l4 = transport(spec, spec.protocol);
    if (spec.src.family === 4) {
      etherType = ETHER_IPV4;
      p = new Uint8Array(20 + l4.length);
      p[0] = 0x45;
      p[1] = spec.tos;
      put16(p, 2, p.length);
      p[6] = 0x40;
      p[8] = 64;
      p[9] = spec.protocol;
      p.set(spec.src.ip, 12);
      p.set(spec.dst.ip, 16);
      put16(p, 10, ipv4Checksum(p));
    } else {
      etherType = ETHER_IPV6;
      p = new Uint8Array(40 + l4.length);
      p[0] = 0x60 | (spec.tos >> 4);
      p[1] = (spec.tos & 0x0f) << 4;
      put16(p, 4, l4.length);
      p[6] = spec.protocol;
      p[7] = 64;
      p.set(spec.src.ip, 8);
      p.set(spec.dst.ip, 24);
    }
    p.set(l4, p.length - l4.length);
  }
  if (spec.size > p.length) {
    const q = new Uint8Array(spec.size);
    q.set(p);
    p = q;
  }
  return { etherType, payload: p };
}

/** The match set that leads to rule `index` (rules after the previous action), as text. */
export function ruleSetText(rules: readonly Rule[], index: number): string {
  let i = index;
  while (i > 0 && !isActionRule(rules[i - 1])) i--;
  return rules.slice(i, index).map(ruleToText).join(" ");
}

const hex10 = (a: number) => a.toString(16).padStart(10, "0");

/** One-line description of a filter decision. */
function describeDecision(nc: NetworkConfig, r: FilterResult): string {
  const d = r.decidedBy;
  const rules = d.list === "rules"
    ? typedRules(nc.rules)
    : typedRules(nc.capabilities.find((c) => c.id === d.capabilityId)?.rules ?? []);
  const where = d.list === "rules" ? "base rules" : `capability ${d.capabilityId}`;
  if (d.ruleIndex < 0) return `${where}: no rule matched`;
  const set = ruleSetText(rules, d.ruleIndex);
  return `${where}: rule #${d.ruleIndex} '${d.rule ? ruleToText(d.rule) : "?"}'` +
    (set ? ` (matched: ${set})` : " (no conditions)") + ` → ${d.verdict}`;
}

/** Who and which direction a test frame is explained for. */
export interface ExplainOptions extends FrameOptions {
  /** Sender address (inbound: the peer). */
  from?: string;
  /** Receiver address (outbound: the peer). */
  to?: string;
  /** Evaluate as a received frame. */
  inbound?: boolean;
  /** Remote member's tags, `ID=VALUE`. */
  peerTag?: string[];
  /** Inbound: capability IDs (from the config) the sender presents. */
  peerCap?: string[];
  /** Override the source MAC. */
  macsrc?: string;
  /** Override the destination MAC. */
  macdest?: string;
}

/** The outcome of {@link explainFrame}. */
export type ExplainResult =
  | { ok: true; text: string; verdict: FilterResult["action"] }
  | { ok: false; error: string };

function parseAddr(s: string | undefined): number | undefined | null {
  if (s === undefined || s === "") return undefined;
  return /^[0-9a-f]{10}$/i.test(s) ? parseInt(s, 16) : null;
}

/**
 * Builds the frame `description` describes, filters it through `nc` in the given direction and
 * explains the deciding rule, copies and verdict. `random` draws MATCH_RANDOM values. Bad input
 * is an error result, never an exception.
 */
export function explainFrame(
  nc: NetworkConfig,
  description: string,
  o: ExplainOptions,
  random: () => number,
): ExplainResult {
  const fail = (error: string): ExplainResult => ({ ok: false, error });
  const d = parseFrameDescription(description, o);
  if (!d.ok) return fail(d.error);
  const from = parseAddr(o.from), to = parseAddr(o.to);
  if (from === null || to === null) return fail("--from / --to take a 10-hex-digit address");
  const me = nc.issuedTo;
  const inbound = o.inbound === true;
  if (inbound && to !== undefined && to !== me) {
    return fail(`inbound frames go to us (${hex10(me)})`);
  }
  if (!inbound && from !== undefined && from !== me) {
    return fail(`outbound frames come from us (${hex10(me)})`);
  }
  const peer = (inbound ? from : to) ?? 0;
  const peerTags = new Map<number, number>();
  for (const t of o.peerTag ?? []) {
    const m = /^(\d+|0x[0-9a-f]+)=(\d+|0x[0-9a-f]+)$/i.exec(t);
    if (!m) return fail(`bad --peer-tag '${t}' (expected ID=VALUE)`);
    peerTags.set(Number(m[1]) >>> 0, Number(m[2]) >>> 0);
  }
  const peerCapabilities = [];
  for (const c of o.peerCap ?? []) {
    const cap = nc.capabilities.find((x) => String(x.id) === c);
    if (!cap) return fail(`no capability ${c} in the network config`);
    peerCapabilities.push(cap);
  }
  const nwid = nc.networkId;
  const srcMac = o.macsrc !== undefined
    ? parseMac(o.macsrc)
    : macFromAddress(inbound ? peer : me, nwid);
  const dstMac = o.macdest !== undefined
    ? parseMac(o.macdest)
    : d.spec.protocol === "arp"
    ? BROADCAST_MAC
    : macFromAddress(inbound ? me : peer, nwid);
  if (srcMac === undefined || dstMac === undefined) return fail("bad --macsrc / --macdest");
  const { etherType, payload } = buildTestFrame(d.spec, srcMac);
  const frame: FrameInfo = parseFrame(srcMac, dstMac, etherType, payload, 0, payload.length);
  const ctx = {
    networkConfig: nc,
    ourAddress: me,
    peerAddress: peer,
    peerTags,
    peerCapabilities,
    random,
  };
  const r = inbound ? filterInbound(ctx, frame) : filterOutbound(ctx, frame);
  const arrow = inbound
    ? `${hex10(peer)} → ${hex10(me)} (us)`
    : `${hex10(me)} (us) → ${hex10(peer)}`;
  const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  const nwidText = nwid.toString(16).padStart(16, "0");
  let s = `network ${nwidText}${nc.name ? ` "${nc.name}"` : ""}: ` +
    `${n(nc.rules.length, "rule", "rules")}, ` +
    `${n(nc.capabilities.length, "capability", "capabilities")}, ${
      n(nc.tags.length, "tag", "tags")
    }\n`;
  s += `frame: ${inbound ? "inbound" : "outbound"} ${arrow}, ${description.trim()}, ` +
    `ethertype 0x${etherType.toString(16).padStart(4, "0")}, ${frame.length} bytes, ` +
    `${macToString(srcMac)} → ${macToString(dstMac)}\n`;
  s += `decided by ${describeDecision(nc, r)}\n`;
  for (const c of r.copies) {
    s += `copy: ${c.kind} to ${hex10(c.to)}, ${c.length} bytes, EXT_FRAME flags 0x${
      c.flags.toString(16).padStart(2, "0")
    }\n`;
  }
  s += `verdict: ${r.action}\n`;
  return { ok: true, text: s, verdict: r.action };
}
