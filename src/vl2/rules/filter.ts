// Outbound and inbound frame filtering: base rules, then capabilities, with TEE/WATCH/REDIRECT copies (spec §8.4, §8.5).
import { InetAddress } from "../../vl1/inet_address.ts";
import type { Capability, RawRule } from "../credentials/capability.ts";
import { type CertificateOfOwnership, cooOwnsIp, cooOwnsMac } from "../credentials/coo.ts";
import type { Tag } from "../credentials/tag.ts";
import { rfc4193Address, sixPlaneAddress } from "../managed_ips.ts";
import {
  NETCONF_FLAG_ENABLE_IPV6_NDP_EMULATION,
  NETCONF_FLAG_RULES_RESULT_OF_UNSUPPORTED_MATCH,
  type NetworkConfig,
} from "../network_config.ts";
import type { RuleCounters } from "./counters.ts";
import {
  evaluateRules,
  type RuleEvalContext,
  type RuleListResult,
  type RuleVerdict,
} from "./engine.ts";
import type { FrameInfo } from "./frame_info.ts";
import { decodeRules } from "./rule_codec.ts";
import { Characteristic, type Rule } from "./rule_types.ts";

/** EXT_FRAME flags of outbound copies (spec §8.4). */
export const EXT_FRAME_FLAGS_OUT = { tee: 0x02, watch: 0x16, redirect: 0x04 } as const;
/** EXT_FRAME flags of inbound copies (spec §8.5). */
export const EXT_FRAME_FLAGS_IN = { tee: 0x08, watch: 0x1c, redirect: 0x0a } as const;

/** Inputs of one filtering decision. */
export interface FilterContext {
  /** Our applied network config: base rules `R`, our capabilities, our tags and COOs, flags. */
  networkConfig: NetworkConfig;
  /** Our address. */
  ourAddress: number;
  /**
   * The other end: outbound the ZeroTier destination (0 for a multicast / no single member),
   * inbound the sender.
   */
  peerAddress: number;
  /** The remote member's valid tags (id -> value), as a map or a lookup. Absent = none known. */
  peerTags?: ReadonlyMap<number, number> | ((id: number) => number | undefined);
  /** Inbound: the valid capabilities the sender presented, in evaluation order. */
  peerCapabilities?: readonly Capability[];
  /** Inbound: the sender's valid certificates of ownership (for the ipauth / macauth bits). */
  peerCoos?: readonly CertificateOfOwnership[];
  /** A fresh u32 for MATCH_RANDOM (see {@link RuleEvalContext.random}). */
  random?: () => number;
  /** Outbound: do not make TEE / WATCH copies (the redirect copy is still made). */
  noTee?: boolean;
  /** Counters to record the outcome in. */
  counters?: RuleCounters;
}

/** A copy of the frame to send as EXT_FRAME. */
export interface FrameCopy {
  /** Destination node. */
  to: number;
  /** Payload bytes to include (`frame.data[frame.start .. frame.start + length)`). */
  length: number;
  /** EXT_FRAME flags byte. */
  flags: number;
  /** Why. */
  kind: "tee" | "watch" | "redirect";
}

/** Which rule list and rule decided. */
export interface FilterDecision {
  /** Base rules or a capability. */
  list: "rules" | "capability";
  /** Capability ID when `list` is "capability". */
  capabilityId?: number;
  /** Verdict of that list. */
  verdict: RuleVerdict;
  /** Index of the deciding rule in that list (-1: the list ran out). */
  ruleIndex: number;
  /** The deciding rule. */
  rule?: Rule;
}

/**
 * What to do with the frame. `accept`: deliver / send normally; `super-accept` (inbound only):
 * deliver and skip the bridging checks; `redirect`: do not deliver / send it, the redirect copy
 * replaces it; `drop`. `copies` are to be sent in order in every case but `drop`.
 */
export interface FilterResult {
  /** The outcome. */
  action: "drop" | "accept" | "super-accept" | "redirect";
  /** EXT_FRAME copies to send (TEE/WATCH, then the redirect). */
  copies: FrameCopy[];
  /** The deciding list and rule (for a final drop after no capability matched: the base list). */
  decidedBy: FilterDecision;
  /** QoS bucket from a PRIORITY action (outbound). */
  qosBucket?: number;
}

const decoded = new WeakMap<readonly RawRule[], Rule[]>();
const tagMaps = new WeakMap<readonly Tag[], Map<number, number>>();

/** Typed rules for a wire rule list, decoded once per list object. */
export function typedRules(raw: readonly RawRule[]): Rule[] {
  let r = decoded.get(raw);
  if (!r) {
    r = decodeRules(raw);
    decoded.set(raw, r);
  }
  return r;
}

function ourTags(tags: readonly Tag[]): Map<number, number> {
  let m = tagMaps.get(tags);
  if (!m) {
    m = new Map();
    for (const t of tags) if (!m.has(t.id)) m.set(t.id, t.value);
    tagMaps.set(tags, m);
  }
  return m;
}

function peerLookup(p: FilterContext["peerTags"]): (id: number) => number | undefined {
  if (!p) return () => undefined;
  if (typeof p === "function") return p;
  return (id) => p.get(id);
}

function authIp(f: FrameInfo): InetAddress | undefined {
  return f.authIpOffset < 0
    ? undefined
    : new InetAddress(f.data.subarray(f.authIpOffset, f.authIpOffset + f.authIpLength));
}

/** IPv6 inside our own 6PLANE /40 or RFC4193 /88 while NDP emulation is on (reference check). */
function ndpEmulated(nc: NetworkConfig, ip: InetAddress): boolean {
  if (ip.family !== 6 || (nc.flags & NETCONF_FLAG_ENABLE_IPV6_NDP_EMULATION) === 0) return false;
  const prefixes: [InetAddress, number][] = [
    [sixPlaneAddress(nc.networkId, nc.issuedTo), 5],
    [rfc4193Address(nc.networkId, nc.issuedTo), 11],
  ];
  for (const [mine, n] of prefixes) {
    if (!nc.staticIps.some((s) => s.ipEquals(mine))) continue;
    let same = true;
    for (let j = 0; j < n; j++) if (ip.ip[j] !== mine.ip[j]) same = false;
    if (same) return true;
  }
  return false;
}

function ownershipBits(ctx: FilterContext, inbound: boolean, f: FrameInfo): bigint {
  let bits = f.neighborSolicitation ? Characteristic.SENDER_IP_AUTHENTICATED : 0n;
  const ip = authIp(f);
  const coos = inbound ? ctx.peerCoos ?? [] : ctx.networkConfig.coos;
  if (
    ip && (coos.some((c) => cooOwnsIp(c, ip)) || (inbound && ndpEmulated(ctx.networkConfig, ip)))
  ) {
    bits |= Characteristic.SENDER_IP_AUTHENTICATED;
  }
  if (coos.some((c) => cooOwnsMac(c, f.macSource))) {
    bits |= Characteristic.SENDER_MAC_AUTHENTICATED;
  }
  return bits;
}

function evalContext(ctx: FilterContext, inbound: boolean): RuleEvalContext {
  const nc = ctx.networkConfig;
  const mine = ourTags(nc.tags);
  return {
    inbound,
    ourAddress: ctx.ourAddress,
    ztSource: inbound ? ctx.peerAddress : ctx.ourAddress,
    ztDest: inbound ? ctx.ourAddress : ctx.peerAddress,
    ourTag: (id) => mine.get(id),
    peerTag: peerLookup(ctx.peerTags),
    ownership: (f) => ownershipBits(ctx, inbound, f),
    unsupportedMatchResult: (nc.flags & NETCONF_FLAG_RULES_RESULT_OF_UNSUPPORTED_MATCH) !== 0,
    random: ctx.random,
  };
}

function decision(
  list: "rules" | "capability",
  rules: readonly Rule[],
  r: RuleListResult,
  capabilityId?: number,
): FilterDecision {
  const d: FilterDecision = { list, verdict: r.verdict, ruleIndex: r.ruleIndex };
  if (capabilityId !== undefined) d.capabilityId = capabilityId;
  if (r.ruleIndex >= 0) d.rule = rules[r.ruleIndex];
  return d;
}

const accepts = (v: RuleVerdict) => v === "accept" || v === "redirect" || v === "super-accept";

function filter(ctx: FilterContext, f: FrameInfo, inbound: boolean): FilterResult {
  const nc = ctx.networkConfig;
  const ec = evalContext(ctx, inbound);
  const flags = inbound ? EXT_FRAME_FLAGS_IN : EXT_FRAME_FLAGS_OUT;
  const base = typedRules(nc.rules);
  const b = evaluateRules(base, f, ec);
  const copies: FrameCopy[] = [];
  const teeOk = inbound || !ctx.noTee;
  const addCopy = (r: RuleListResult) => {
    if (r.copy && teeOk) {
      copies.push({
        to: r.copy.address,
        length: r.copy.length,
        flags: r.copy.watch ? flags.watch : flags.tee,
        kind: r.copy.watch ? "watch" : "tee",
      });
    }
  };
  let decidedBy = decision("rules", base, b);
  let final: RuleListResult | undefined = accepts(b.verdict) ? b : undefined;

  if (b.verdict === "no-match") {
    const caps = inbound ? ctx.peerCapabilities ?? [] : nc.capabilities;
    for (const cap of caps) {
      const rules = typedRules(cap.rules);
      const c = evaluateRules(rules, f, ec);
      if (accepts(c.verdict)) {
        addCopy(c);
        final = c;
        decidedBy = decision("capability", rules, c, cap.id);
        break;
      }
    }
  }

  let result: FilterResult;
  if (!final) {
    result = { action: "drop", copies: [], decidedBy };
  } else {
    addCopy(b);
    let action: FilterResult["action"] = inbound && final.verdict === "super-accept"
      ? "super-accept"
      : "accept";
    const to = final.ztDest;
    const orig = inbound ? ctx.ourAddress : ctx.peerAddress;
    if (to !== orig && to !== 0) {
      copies.push({ to, length: f.length, flags: flags.redirect, kind: "redirect" });
      action = "redirect";
    }
    result = { action, copies, decidedBy };
    if (final.qosBucket !== undefined && !inbound) result.qosBucket = final.qosBucket;
  }
  ctx.counters?.record(nc.networkId, inbound, result.action !== "drop", f.length);
  return result;
}

/**
 * Outbound filtering (spec §8.4): base rules, then on no match our own capabilities (config
 * order) until one accepts. Never returns "super-accept".
 */
export function filterOutbound(ctx: FilterContext, frame: FrameInfo): FilterResult {
  return filter(ctx, frame, false);
}

/**
 * Inbound filtering (spec §8.5): base rules with `inbound` set, then on no match the
 * capabilities the sender presented until one accepts.
 */
export function filterInbound(ctx: FilterContext, frame: FrameInfo): FilterResult {
  return filter(ctx, frame, true);
}

/** The reference's inbound return code: 0 drop (or redirected), 1 accept, 2 super-accept. */
export function inboundCode(r: FilterResult): 0 | 1 | 2 {
  return r.action === "accept" ? 1 : r.action === "super-accept" ? 2 : 0;
}
