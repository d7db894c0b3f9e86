// The data plane's rules hook: filters each frame with the network's rules and the peer's credentials, sends TEE/WATCH/REDIRECT copies, counts verdicts (spec §8.3-8.5).
import { Address } from "../vl1/address.ts";
import { MAX_PACKET_LENGTH, Verb } from "../vl1/packet.ts";
import { writeExtFrameHeader } from "../vl1/verbs/frame.ts";
import type { DataPlaneNetwork, DataPlaneNode, FilterFrame, FrameFilter } from "./frames.ts";
import { isMulticastMac } from "./mac.ts";
import type { Membership } from "./membership.ts";
import { NETCONF_FLAG_DISABLE_COMPRESSION, type NetworkConfig } from "./network_config.ts";
import { RuleCounters } from "./rules/counters.ts";
import {
  type FilterContext,
  filterInbound,
  filterOutbound,
  type FilterResult,
  inboundCode,
  typedRules,
} from "./rules/filter.ts";
import { parseFrame } from "./rules/frame_info.ts";

/** Construction options of {@link RulesFilter}. */
export interface RulesFilterOptions {
  /** The VL1 node: our address, and where EXT_FRAME copies are sent. */
  node: Pick<DataPlaneNode, "address" | "sendPacket">;
  /** Counters to record verdicts in (default: a fresh {@link RuleCounters}). */
  counters?: RuleCounters;
  /** Random source for MATCH_RANDOM (4 bytes per draw; without it only p = 1.0 matches). */
  random?: (n: number) => Uint8Array;
}

/** The last frame's verdict, kept for tests and tracing (overwritten on every call). */
export interface RulesFilterLast {
  /** Direction. */
  inbound: boolean;
  /** Network. */
  networkId: bigint;
  /** The other end (0 for a multicast pre-check). */
  peer: number;
  /** The full filter result (undefined when the accept-all fast path decided). */
  result: FilterResult | undefined;
}

/** Whether a rule list is exactly `accept;` (the controller's default): nothing to evaluate. */
function acceptsAll(nc: NetworkConfig): boolean {
  if (nc.rules.length !== 1) return false;
  const r = typedRules(nc.rules)[0];
  return r !== undefined && r.kind === "accept";
}

/**
 * A {@link FrameFilter} backed by the rules engine. Outbound: the network's base rules, then our
 * own capabilities, with the destination member's tags. Inbound: base rules, then the
 * capabilities the sender presented, with the sender's tags and certificates of ownership -
 * credentials count only while usable under our config (`ctmd`, revocations). TEE/WATCH copies
 * and REDIRECTs are sent here as EXT_FRAME (our credentials pushed first); a redirected frame
 * is reported as "do not send / deliver". Per-recipient checks of a multicast (`dest` != 0 with a
 * multicast destination MAC) make no TEE/WATCH copies and are not counted - the pre-check with
 * `dest` = 0 is.
 */
export class RulesFilter implements FrameFilter {
  /** Accepted / dropped counts per network. */
  readonly counters: RuleCounters;
  /** The last verdict (for tests and debugging; one object, updated in place per frame). */
  last: RulesFilterLast | undefined;
  readonly #node: Pick<DataPlaneNode, "address" | "sendPacket">;
  readonly #random: (() => number) | undefined;
  readonly #tx = new Uint8Array(MAX_PACKET_LENGTH);
  readonly #addrs = new Map<number, Address>();

  /** A filter sending copies through `opts.node`. */
  constructor(opts: RulesFilterOptions) {
    this.#node = opts.node;
    this.counters = opts.counters ?? new RuleCounters();
    const rnd = opts.random;
    this.#random = rnd
      ? () => {
        const b = rnd(4);
        return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
      }
      : undefined;
  }

  /** Outbound check (see {@link FrameFilter.filterOutbound}); sends copies; false = do not send. */
  filterOutbound(frame: FilterFrame): boolean {
    const { net, peer: dest, srcMac, dstMac, etherType, payload, start, end, now } = frame;
    const nc = net.config;
    if (!nc) return false;
    const perRecipient = dest !== 0 && isMulticastMac(dstMac);
    if (acceptsAll(nc)) {
      if (!perRecipient) this.counters.record(nc.networkId, false, true, end - start);
      this.#setLast(false, nc.networkId, dest, undefined);
      return true;
    }
    const m = dest !== 0 ? net.membership?.(dest, false) : undefined;
    const ctx = this.#context(nc, dest, m);
    if (perRecipient) ctx.noTee = true;
    else ctx.counters = this.counters;
    const f = parseFrame(srcMac, dstMac, etherType, payload, start, end);
    const r = filterOutbound(ctx, f);
    this.#setLast(false, nc.networkId, dest, r);
    if (r.action === "drop") return false;
    this.#sendCopies(now, net, nc, r, srcMac, dstMac, etherType, payload, start);
    return r.action !== "redirect";
  }

  /** Whether `nc`'s rules accept every frame (no per-frame evaluation needed). */
  acceptsAll(nc: NetworkConfig): boolean {
    return acceptsAll(nc);
  }

  /** Inbound check (see {@link FrameFilter.filterInbound}); sends copies; 0 = do not deliver. */
  filterInbound(frame: FilterFrame): 0 | 1 | 2 {
    const { net, peer: source, srcMac, dstMac, etherType, payload, start, end, now } = frame;
    const nc = net.config;
    if (!nc) return 0;
    if (acceptsAll(nc)) {
      this.counters.record(nc.networkId, true, true, end - start);
      this.#setLast(true, nc.networkId, source, undefined);
      return 1;
    }
    const ctx = this.#context(nc, source, net.membership?.(source, false));
    ctx.counters = this.counters;
    const f = parseFrame(srcMac, dstMac, etherType, payload, start, end);
    const r = filterInbound(ctx, f);
    this.#setLast(true, nc.networkId, source, r);
    if (r.action !== "drop") {
      this.#sendCopies(now, net, nc, r, srcMac, dstMac, etherType, payload, start);
    }
    return inboundCode(r);
  }

  /** Records the verdict in {@link last} (no object per frame). */
  #setLast(inbound: boolean, networkId: bigint, peer: number, result: FilterResult | undefined) {
    const l = this.last;
    if (!l) {
      this.last = { inbound, networkId, peer, result };
      return;
    }
    l.inbound = inbound;
    l.networkId = networkId;
    l.peer = peer;
    l.result = result;
  }

  /** The filter context; the peer's credentials are read lazily (only if a rule needs them). */
  #context(nc: NetworkConfig, peer: number, m: Membership | undefined): FilterContext {
    const ctx: FilterContext = {
      networkConfig: nc,
      ourAddress: this.#node.address.value,
      peerAddress: peer,
      random: this.#random,
    };
    if (m) {
      ctx.peerTags = (id) => m.usableTag(id, nc)?.value;
      Object.defineProperties(ctx, {
        peerCapabilities: { get: () => m.usableCapabilities(nc), enumerable: true },
        peerCoos: { get: () => m.usableCoos(nc), enumerable: true },
      });
    }
    return ctx;
  }

  #sendCopies(
    now: number,
    net: DataPlaneNetwork,
    nc: NetworkConfig,
    r: FilterResult,
    srcMac: number,
    dstMac: number,
    etherType: number,
    payload: Uint8Array,
    start: number,
  ): void {
    if (r.copies.length === 0) return;
    const tx = this.#tx;
    const compress = (nc.flags & NETCONF_FLAG_DISABLE_COMPRESSION) === 0;
    for (const c of r.copies) {
      const n = writeExtFrameHeader(tx, 0, nc.networkId, c.flags, dstMac, srcMac, etherType);
      const len = Math.min(c.length, tx.length - n, payload.length - start);
      if (len < 0) continue;
      tx.set(payload.subarray(start, start + len), n);
      net.pushCredentials(now, c.to);
      this.#node.sendPacket(now, this.#addr(c.to), Verb.EXT_FRAME, tx.subarray(0, n + len), {
        compress,
        encrypt: true,
      });
    }
  }

  #addr(a: number): Address {
    let x = this.#addrs.get(a);
    if (!x) {
      if (this.#addrs.size >= 1024) this.#addrs.clear();
      x = new Address(a);
      this.#addrs.set(a, x);
    }
    return x;
  }
}

/** The {@link RuleCounters} behind a frame filter, if it is a {@link RulesFilter}. */
export function ruleCountersOf(filter: FrameFilter | undefined): RuleCounters | undefined {
  return filter instanceof RulesFilter ? filter.counters : undefined;
}
