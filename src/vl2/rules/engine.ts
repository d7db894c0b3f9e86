// Evaluates one rule list against one frame exactly as spec §8.3 describes (`_doZtFilter`).
import type { FrameInfo } from "./frame_info.ts";
import { Characteristic, type Rule } from "./rule_types.ts";

/** Outcome of one rule list. */
export type RuleVerdict = "no-match" | "drop" | "redirect" | "accept" | "super-accept";

/** A TEE / WATCH copy target chosen by a rule list. */
export interface RuleCopyTarget {
  /** Node to send the copy to. */
  address: number;
  /** Bytes of the payload to copy: min(frame length, rule length), or the whole frame if 0. */
  length: number;
  /** WATCH (as opposed to TEE). */
  watch: boolean;
}

/** What {@link evaluateRules} needs besides the rules and the frame. */
export interface RuleEvalContext {
  /** Evaluating a received frame (sets the `inbound` characteristic and changes tag logic). */
  inbound: boolean;
  /** Our own address. */
  ourAddress: number;
  /** ZeroTier source of the frame (us on outbound, the sender on inbound). */
  ztSource: number;
  /** ZeroTier destination (0 for multicast / bridged). */
  ztDest: number;
  /** Our own tag value for a tag id (from our network config), or undefined. */
  ourTag(id: number): number | undefined;
  /** The remote member's (valid) tag value, or undefined if unknown / no membership. */
  peerTag(id: number): number | undefined;
  /**
   * SENDER_IP_AUTHENTICATED / SENDER_MAC_AUTHENTICATED bits for this frame; called at most once
   * per evaluation, only if a CHARACTERISTICS rule is reached.
   */
  ownership(frame: FrameInfo): bigint;
  /** Result of match types this engine does not know (netconf flag 0x08). */
  unsupportedMatchResult: boolean;
  /** A fresh u32 for MATCH_RANDOM; without it the draw is 0xffffffff (only p = 1.0 matches). */
  random?: () => number;
}

/** Result of evaluating one rule list. */
export interface RuleListResult {
  /** The verdict. */
  verdict: RuleVerdict;
  /** Index of the rule that decided (the action returned), -1 if the list ran out. */
  ruleIndex: number;
  /** ZeroTier destination after evaluation (changed by REDIRECT). */
  ztDest: number;
  /** Last TEE / WATCH target taken, if any. */
  copy?: RuleCopyTarget;
  /** QoS bucket set by PRIORITY (0..8, else 4). */
  qosBucket?: number;
}

const YES = 1, NO = 0, HARD_YES = 2, HARD_NO = 3;
type MatchOutcome = 0 | 1 | 2 | 3;
const b01 = (x: boolean): MatchOutcome => (x ? YES : NO);

function ipv4Contains(rule: Uint8Array, bits: number, d: Uint8Array, off: number): boolean {
  if (bits === 0) return true;
  const n = Math.min(bits, 32);
  const a = ((rule[0] << 24) | (rule[1] << 16) | (rule[2] << 8) | rule[3]) >>> 0;
  const b = ((d[off] << 24) | (d[off + 1] << 16) | (d[off + 2] << 8) | d[off + 3]) >>> 0;
  return Math.floor(a / 2 ** (32 - n)) === Math.floor(b / 2 ** (32 - n));
}

/** IPv6: (addr & mask) must equal the rule's IP unmasked (reference behavior). */
function ipv6Contains(rule: Uint8Array, bits: number, d: Uint8Array, off: number): boolean {
  let left = Math.min(bits, 128);
  for (let i = 0; i < 16; i++, left -= 8) {
    const m = left >= 8 ? 0xff : left <= 0 ? 0 : (0xff << (8 - left)) & 0xff;
    if ((d[off + i] & m) !== rule[i]) return false;
  }
  return true;
}

function readInteger(f: FrameInfo, idx: number, little: boolean, bits: number): bigint {
  const bytes = Math.ceil(bits / 8);
  let x = 0n;
  if (!little) {
    const i0 = idx + (8 - bytes);
    if (i0 + bytes <= f.length) {
      for (let i = i0; i < i0 + bytes; i++) x = (x << 8n) | BigInt(f.data[f.start + i]);
    }
    return x & ((1n << BigInt(bits)) - 1n);
  }
  if (idx + bytes <= f.length) {
    for (let i = idx; i < idx + bytes; i++) x = (x >> 8n) | (BigInt(f.data[f.start + i]) << 56n);
  }
  return x >> BigInt(64 - bits);
}

/** Packet characteristics bits (spec §8.3) except the lazily computed ownership bits. */
function characteristics(f: FrameInfo, inbound: boolean): bigint {
  let cf = inbound ? Characteristic.INBOUND : 0n;
  if (f.multicast) cf |= Characteristic.MULTICAST;
  if (f.broadcast) cf |= Characteristic.BROADCAST;
  return cf | BigInt(f.tcpFlags);
}

/**
 * Evaluates `rules` against frame `f` (spec §8.3): match sets AND/OR-combined with NOT, short
 * circuit on a false set, "hard" results that ignore NOT, skip-drop for unknown remote tags,
 * TEE/WATCH/REDIRECT with their no-op and super-accept cases. Pure; never throws.
 */
export function evaluateRules(
  rules: readonly Rule[],
  f: FrameInfo,
  ctx: RuleEvalContext,
): RuleListResult {
  let setMatches = true;
  let skipDrop = false;
  let superAccept = false;
  let ztDest = ctx.ztDest;
  let copy: RuleCopyTarget | undefined;
  let ownership: bigint | undefined;
  const done = (verdict: RuleVerdict, ruleIndex: number, qosBucket?: number): RuleListResult => {
    const r: RuleListResult = { verdict, ruleIndex, ztDest };
    if (copy) r.copy = copy;
    if (qosBucket !== undefined) r.qosBucket = qosBucket;
    return r;
  };

  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    // Actions.
    switch (r.kind) {
      case "drop":
      case "accept":
      case "break":
      case "priority":
      case "tee":
      case "watch":
      case "redirect":
        if (!setMatches) {
          if (
            ctx.inbound && (r.kind === "tee" || r.kind === "watch" || r.kind === "redirect") &&
            r.address === ctx.ourAddress
          ) superAccept = true;
          setMatches = true;
          continue;
        }
        switch (r.kind) {
          case "priority":
            return done("accept", i, r.bucket <= 8 ? r.bucket : 4);
          case "drop":
            if (skipDrop) {
              skipDrop = false;
              continue;
            }
            return done("drop", i);
          case "accept":
            return done(superAccept ? "super-accept" : "accept", i);
          case "break":
            return done("no-match", i);
          default: {
            const a = r.address;
            if (a === ctx.ztSource) continue;
            if (a === ctx.ourAddress) {
              if (ctx.inbound) return done("super-accept", i);
              continue;
            }
            if (a === ztDest) continue;
            if (r.kind === "redirect") {
              ztDest = a;
              return done("redirect", i);
            }
            copy = {
              address: a,
              length: r.length !== 0 && f.length > r.length ? r.length : f.length,
              watch: r.kind === "watch",
            };
            continue;
          }
        }
    }
    if (r.kind === "unknown" && r.id <= 15) {
      // Unknown actions are no-ops, but still close a set that did not match.
      setMatches = true;
      continue;
    }

    // Matches.
    if (!setMatches && !r.or) continue;
    let m: MatchOutcome;
    switch (r.kind) {
      case "ztSource":
        m = b01(r.address === ctx.ztSource);
        break;
      case "ztDest":
        m = b01(r.address === ztDest);
        break;
      case "vlanId":
        m = b01(r.value === f.vlanId);
        break;
      case "vlanPcp":
      case "vlanDei":
        m = b01(r.value === 0);
        break;
      case "macSource":
        m = b01(r.mac === f.macSource);
        break;
      case "macDest":
        m = b01(r.mac === f.macDest);
        break;
      case "ipv4Source":
      case "ipv4Dest":
        m = f.ipVersion === 4
          ? b01(ipv4Contains(
            r.ip,
            r.bits,
            f.data,
            r.kind === "ipv4Source" ? f.ipSourceOffset : f.ipDestOffset,
          ))
          : HARD_NO;
        break;
      case "ipv6Source":
      case "ipv6Dest":
        m = f.ipVersion === 6
          ? b01(ipv6Contains(
            r.ip,
            r.bits,
            f.data,
            r.kind === "ipv6Source" ? f.ipSourceOffset : f.ipDestOffset,
          ))
          : HARD_NO;
        break;
      case "ipTos": {
        const t = f.tos & r.mask;
        m = f.ipVersion === 0 ? HARD_NO : b01(t >= r.start && t <= r.end);
        break;
      }
      case "ipProtocol":
        m = f.protocol < 0 ? HARD_NO : b01(f.protocol === r.protocol);
        break;
      case "etherType":
        m = b01(r.etherType === f.etherType);
        break;
      case "icmp":
        if (f.icmpType < 0 || f.icmpType !== r.icmpType) m = HARD_NO;
        else if (r.icmpCode !== null) m = b01(f.icmpCode === r.icmpCode);
        else m = HARD_YES;
        break;
      case "sourcePort":
      case "destPort": {
        if (f.ipVersion === 0 || f.l4Offset < 0) {
          m = HARD_NO;
          break;
        }
        const p = r.kind === "sourcePort" ? f.sourcePort : f.destPort;
        const present = f.ipVersion === 4 ? p >= 0 : p > 0;
        m = b01(present && p >= r.start && p <= r.end);
        break;
      }
      case "characteristics": {
        if (ownership === undefined) ownership = ctx.ownership(f);
        m = b01((characteristics(f, ctx.inbound) | ownership) & r.mask ? true : false);
        break;
      }
      case "frameSize":
        m = b01(f.length >= r.start && f.length <= r.end);
        break;
      case "random": {
        const x = ctx.random ? ctx.random() >>> 0 : 0xffffffff;
        m = b01(x <= r.probability);
        break;
      }
      case "tagsDifference":
      case "tagsAnd":
      case "tagsOr":
      case "tagsXor":
      case "tagsEqual": {
        const l = ctx.ourTag(r.tagId);
        if (l === undefined) {
          m = HARD_NO;
          break;
        }
        const t = ctx.peerTag(r.tagId);
        if (t === undefined) {
          if (ctx.inbound && !superAccept) m = HARD_NO;
          else {
            skipDrop = true;
            m = HARD_YES;
          }
          break;
        }
        const v = r.value >>> 0;
        switch (r.kind) {
          case "tagsDifference":
            m = b01(Math.abs(l - t) <= v);
            break;
          case "tagsAnd":
            m = b01(((l & t) >>> 0) === v);
            break;
          case "tagsOr":
            m = b01(((l | t) >>> 0) === v);
            break;
          case "tagsXor":
            m = b01(((l ^ t) >>> 0) === v);
            break;
          default:
            m = b01(l === v && t === v);
        }
        break;
      }
      case "tagSender":
      case "tagReceiver": {
        if (superAccept) {
          skipDrop = true;
          m = HARD_YES;
        } else if ((r.kind === "tagSender") === ctx.inbound) {
          // Sender on inbound / receiver on outbound: the remote member's tag.
          const t = ctx.peerTag(r.tagId);
          if (t !== undefined) m = b01(t === r.value);
          else if (r.kind === "tagReceiver") {
            skipDrop = true;
            m = HARD_YES;
          } else m = HARD_NO;
        } else {
          const l = ctx.ourTag(r.tagId);
          m = l === undefined ? HARD_NO : b01(l === r.value);
        }
        break;
      }
      case "integerRange": {
        const x = readInteger(f, r.idx, r.littleEndian, r.bits);
        const delta = BigInt.asUintN(32, r.end - r.start);
        m = b01(x >= r.start && x <= BigInt.asUintN(64, r.start + delta));
        break;
      }
      default:
        m = b01(ctx.unsupportedMatchResult);
    }
    const result = m === HARD_YES ? true : m === HARD_NO ? false : (m === YES) !== r.not;
    setMatches = r.or ? setMatches || result : setMatches && result;
  }
  return done("no-match", -1);
}
