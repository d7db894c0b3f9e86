// GRO-style coalescing of TCP segments written to a TAP: buffers frames, merges consecutive segments of a flow into one GSO super-frame, writes them in order.
//
// Frames are copied on `add` (the caller's buffer is reused) and leave through the sink on
// `flush`, each preceded by a virtio-net header: merged ones as a TCPV4/TCPV6 super-frame with a
// partial checksum, everything else with a zeroed header (the kernel checks it as usual). A
// segment is merged only when Linux GRO would merge it, and only after its checksums verified:
// the kernel trusts the checksum of a merged frame, so a corrupt segment must reach it alone.
// Order within a flow is kept; frames of different flows may be reordered.
import {
  foldSum,
  inetChecksum,
  pseudoSumV4,
  pseudoSumV6,
  setIpv4HeaderChecksum,
} from "./inet_checksum.ts";
import {
  VNET_F_NEEDS_CSUM,
  VNET_GSO_TCPV4,
  VNET_GSO_TCPV6,
  VNET_HDR_LEN,
  writeVnetHdr,
} from "./virtio_net_hdr.ts";

/**
 * Writes `buf[0, length)` (virtio-net header + frame) to the device; `frames` is how many frames
 * handed to `add` it carries. `buf` is only valid during the call.
 */
export type CoalesceSink = (buf: Uint8Array, length: number, frames: number) => void;

/** Limits of a {@link TcpCoalescer}. */
export interface CoalesceOptions {
  /** Buffered bytes (headers included) that force a flush (default 256 KiB). */
  maxBytes?: number;
  /** Flows merged at once; one more forces a flush (default 16, each owns a 64 KiB buffer). */
  maxFlows?: number;
  /** Buffered frames that force a flush (default 1024). */
  maxFrames?: number;
}

/** Counters of a {@link TcpCoalescer} (monotonic). */
export interface CoalesceCounters {
  /** Frames handed to `add`. */
  framesIn: number;
  /** Sink calls. */
  writes: number;
  /** Sink calls carrying a merged super-frame (two or more segments). */
  coalescedWrites: number;
  /** Frames that went out inside merged super-frames (frames per merged write = this / that). */
  coalescedFrames: number;
  /** TCP segments left unmerged because a checksum (IPv4 header or TCP) was wrong. */
  badChecksums: number;
  /** Frames too big to buffer (dropped). */
  oversize: number;
  /** Flushes forced by a limit (bytes, flows, frames) rather than by the caller. */
  limitFlushes: number;
}

/** Bytes of one merge buffer: virtio-net header + Ethernet header + largest IP packet. */
const GROUP_BUFFER = VNET_HDR_LEN + 14 + 65535;
/** Unmerged frames are placed at multiples of this in the arena (one prebuilt view per cell). */
const CELL = 128;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const PROTO_TCP = 6;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;
/** Frame offset inside a merge buffer. */
const F = VNET_HDR_LEN;
/** #parse: not IP/TCP we can tie to a flow (ARP, UDP, ICMP, VLAN-tagged, runts). */
const KIND_OTHER = 0;
/** #parse: IP that may carry TCP but has no usable TCP header (fragments, extension headers). */
const KIND_TCP_PIECE = 1;
/** #parse: a TCP segment of a known flow that must not be merged. */
const KIND_TCP = 2;
/** #parse: a TCP segment that may be merged. */
const KIND_MERGEABLE = 3;

/** Zeroed {@link CoalesceCounters}. */
function newCoalesceCounters(): CoalesceCounters {
  return {
    framesIn: 0,
    writes: 0,
    coalescedWrites: 0,
    coalescedFrames: 0,
    badChecksums: 0,
    oversize: 0,
    limitFlushes: 0,
  };
}

/**
 * Buffers frames bound for a TAP with IFF_VNET_HDR and writes them through a sink, merging TCP
 * segments of one flow the way Linux GRO does: same MACs, IPv4 without options and not
 * fragmented (or IPv6 with next header TCP), same addresses and ports, TTL/TOS (hop limit, traffic
 * class, flow label), DF bit (and IPv4 IDs counting up when DF is clear), ACK number, window and
 * TCP option bytes; flags exactly ACK, PSH allowed on the last segment; sequence numbers exactly
 * following; every piece the size of the first except a smaller last one; at most 65535 IP
 * bytes; IPv4 header and TCP checksums verified. Allocation-free after warm-up except one
 * `subarray` per copied frame.
 */
export class TcpCoalescer {
  /** Counters (a throwaway set stands in during {@link rehearse}). */
  counters: CoalesceCounters = newCoalesceCounters();
  #scratchCounters: CoalesceCounters | undefined;
  readonly #sink: CoalesceSink;
  readonly #maxBytes: number;
  readonly #maxFlows: number;
  readonly #maxFrames: number;
  // unmerged frames: arena cells with one view each (so the sink needs no new view)
  readonly #arena: Uint8Array;
  readonly #cellViews: Uint8Array[];
  #cellsUsed = 0;
  // pending items in arrival order: >= 0 a merge group, < 0 the arena cell -(v + 1)
  readonly #items: Int32Array;
  readonly #itemLen: Int32Array;
  #nItems = 0;
  #pendingBytes = 0;
  // merge groups (a flow's run of segments), struct-of-arrays
  readonly #gBuf: (Uint8Array | undefined)[];
  readonly #gOpen: Uint8Array;
  readonly #gV6: Uint8Array;
  readonly #gPsh: Uint8Array;
  readonly #gDf: Uint8Array;
  readonly #gIpHl: Int32Array;
  readonly #gThl: Int32Array;
  readonly #gGso: Int32Array;
  readonly #gTotal: Int32Array;
  readonly #gSegs: Int32Array;
  readonly #gId0: Int32Array;
  readonly #gNextSeq: Float64Array;
  #nGroups = 0;
  #flushing = false;
  // the frame being added, as parsed by #parse
  #ip = 0;
  #v6 = false;
  #ipHl = 0;
  #tcp = 0;
  #thl = 0;
  #ipEnd = 0;

  /** @param sink where flushed writes go (e.g. `write(2)` on the TAP fd). */
  constructor(sink: CoalesceSink, opts: CoalesceOptions = {}) {
    this.#sink = sink;
    this.#maxBytes = opts.maxBytes ?? 256 * 1024;
    this.#maxFlows = Math.max(1, opts.maxFlows ?? 16);
    this.#maxFrames = Math.max(1, opts.maxFrames ?? 1024);
    const cells = Math.ceil((this.#maxBytes + GROUP_BUFFER) / CELL);
    this.#arena = new Uint8Array(cells * CELL);
    this.#cellViews = [];
    for (let k = 0; k < cells; k++) this.#cellViews.push(this.#arena.subarray(k * CELL));
    this.#items = new Int32Array(this.#maxFrames);
    this.#itemLen = new Int32Array(this.#maxFrames);
    const n = this.#maxFlows;
    this.#gBuf = new Array(n).fill(undefined);
    this.#gOpen = new Uint8Array(n);
    this.#gV6 = new Uint8Array(n);
    this.#gPsh = new Uint8Array(n);
    this.#gDf = new Uint8Array(n);
    this.#gIpHl = new Int32Array(n);
    this.#gThl = new Int32Array(n);
    this.#gGso = new Int32Array(n);
    this.#gTotal = new Int32Array(n);
    this.#gSegs = new Int32Array(n);
    this.#gId0 = new Int32Array(n);
    this.#gNextSeq = new Float64Array(n);
  }

  /** Frames buffered and not yet written. */
  get pendingFrames(): number {
    let n = 0;
    for (let i = 0; i < this.#nItems; i++) {
      const it = this.#items[i];
      n += it >= 0 ? this.#gSegs[it] : 1;
    }
    return n;
  }

  /** Bytes buffered (virtio-net headers included). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Buffers a copy of the Ethernet frame `frame[start, end)`, merging it into a pending flow when
   * allowed. May flush first when a limit is reached (sink called synchronously). Never throws
   * on malformed frames: whatever cannot be merged is written unchanged. Returns false when the
   * frame is not TCP (or was dropped): no later frame will join it, so a caller that cares about
   * latency may flush at once.
   */
  add(frame: Uint8Array, start = 0, end = frame.length): boolean {
    if (start < 0 || end > frame.length || end <= start) return false;
    const len = end - start;
    this.counters.framesIn++;
    if (len + VNET_HDR_LEN > this.#arena.length) {
      this.counters.oversize++;
      return false;
    }
    if (
      this.#nItems >= this.#maxFrames || this.#pendingBytes + VNET_HDR_LEN + len > this.#maxBytes
    ) {
      this.counters.limitFlushes++;
      this.flush();
    }
    const kind = this.#parse(frame, start, end);
    if (kind === KIND_OTHER || kind === KIND_TCP_PIECE) {
      if (kind === KIND_TCP_PIECE) this.#closeAddressPair(frame);
      this.#addUnmerged(frame, start, end);
      return kind === KIND_TCP_PIECE;
    }
    const g = this.#findFlow(frame);
    if (kind === KIND_MERGEABLE && g >= 0 && this.#canMerge(g, frame, start)) {
      this.#append(g, frame);
      return true;
    }
    if (g >= 0) this.#gOpen[g] = 0; // keeps this flow's order: nothing later joins that group
    if (kind === KIND_MERGEABLE && frame[this.#tcp + 13] === TCP_ACK) {
      if (this.#nGroups >= this.#maxFlows) {
        this.counters.limitFlushes++;
        this.flush();
      }
      this.#newGroup(frame, start, end);
    } else {
      this.#addUnmerged(frame, start, end);
    }
    return true;
  }

  /**
   * A rehearsal (see `Core.rehearse`): {@link add} and {@link flush} of one frame, counted in a
   * throwaway set; the sink is called as usual (its owner makes that call a no-op). Only when
   * nothing is buffered: false, with nothing done, otherwise.
   */
  rehearse(frame: Uint8Array, start = 0, end = frame.length): boolean {
    if (this.#nItems > 0 || this.#flushing) return false;
    const real = this.counters;
    this.counters = this.#scratchCounters ??= newCoalesceCounters();
    try {
      this.add(frame, start, end);
      this.flush();
    } finally {
      this.counters = real;
    }
    return true;
  }

  /** Writes everything buffered, in order, through the sink; then the buffers are empty. */
  flush(): void {
    if (this.#flushing || this.#nItems === 0) return;
    this.#flushing = true;
    const c = this.counters;
    try {
      for (let i = 0; i < this.#nItems; i++) {
        const it = this.#items[i];
        c.writes++;
        if (it < 0) {
          this.#sink(this.#cellViews[-it - 1], this.#itemLen[i], 1);
          continue;
        }
        const segs = this.#gSegs[it];
        const gb = this.#gBuf[it]!;
        const len = F + 14 + this.#gIpHl[it] + this.#gThl[it] + this.#gTotal[it];
        if (segs > 1) {
          this.#finishGroup(it, gb);
          c.coalescedWrites++;
          c.coalescedFrames += segs;
        } else {
          gb.fill(0, 0, F);
        }
        this.#sink(gb, len, segs);
      }
    } finally {
      this.#nItems = 0;
      this.#nGroups = 0;
      this.#cellsUsed = 0;
      this.#pendingBytes = 0;
      this.#flushing = false;
    }
  }

  // ---- private ---------------------------------------------------------------------------------

  /**
   * Classifies the frame (see the KIND_ constants). Sets #v6 and #ip for all but KIND_OTHER, the
   * other parse fields for KIND_TCP and KIND_MERGEABLE. Mergeable means structure, flags, length
   * and both checksums were checked.
   */
  #parse(b: Uint8Array, start: number, end: number): number {
    if (end - start < 14 + 20) return KIND_OTHER;
    const et = (b[start + 12] << 8) | b[start + 13];
    const ip = start + 14;
    this.#ip = ip;
    let mergeable = true;
    if (et === ETHERTYPE_IPV4) {
      if ((b[ip] >>> 4) !== 4) return KIND_OTHER;
      this.#v6 = false;
      if (b[ip + 9] !== PROTO_TCP) return KIND_OTHER;
      // a fragment other than the first has no TCP header but belongs to some TCP flow
      if ((((b[ip + 6] << 8) | b[ip + 7]) & 0x1fff) !== 0) return KIND_TCP_PIECE;
      const ihl = (b[ip] & 15) * 4;
      const total = (b[ip + 2] << 8) | b[ip + 3];
      if (ihl < 20 || total < ihl || ip + total > end) return KIND_TCP_PIECE;
      this.#ipHl = ihl;
      this.#ipEnd = ip + total;
      if (ihl !== 20 || (b[ip + 6] & 0x20) !== 0) mergeable = false; // options, MF
    } else if (et === ETHERTYPE_IPV6) {
      if (end - ip < 40 || (b[ip] >>> 4) !== 6) return KIND_OTHER;
      this.#v6 = true;
      const next = b[ip + 6];
      if (next !== PROTO_TCP) {
        // extension headers or fragments may carry TCP; UDP, ICMPv6 and "no next" do not
        return next === 17 || next === 58 || next === 59 ? KIND_OTHER : KIND_TCP_PIECE;
      }
      const pl = (b[ip + 4] << 8) | b[ip + 5];
      if (ip + 40 + pl > end) return KIND_TCP_PIECE;
      this.#ipHl = 40;
      this.#ipEnd = ip + 40 + pl;
    } else {
      return KIND_OTHER;
    }
    const tcp = ip + this.#ipHl;
    if (tcp + 20 > this.#ipEnd) return KIND_TCP_PIECE;
    const thl = (b[tcp + 12] >>> 4) * 4;
    if (thl < 20 || tcp + thl > this.#ipEnd) return KIND_TCP_PIECE;
    this.#tcp = tcp;
    this.#thl = thl;
    if (!mergeable || this.#ipEnd !== end || this.#ipEnd === tcp + thl) return KIND_TCP;
    const flags = b[tcp + 13];
    if ((flags !== TCP_ACK && flags !== (TCP_ACK | TCP_PSH)) || (b[tcp + 12] & 15) !== 0) {
      return KIND_TCP;
    }
    if (!this.#v6 && inetChecksum(b, ip, ip + 20) !== 0) {
      this.counters.badChecksums++;
      return KIND_TCP;
    }
    const tcpLen = this.#ipEnd - tcp;
    const pseudo = this.#v6
      ? pseudoSumV6(b, ip, PROTO_TCP, tcpLen)
      : pseudoSumV4(b, ip, PROTO_TCP, tcpLen);
    if (inetChecksum(b, tcp, this.#ipEnd, pseudo) !== 0) {
      this.counters.badChecksums++;
      return KIND_TCP;
    }
    return KIND_MERGEABLE;
  }

  /**
   * Closes every open group between the parsed frame's IP addresses (a fragment or a packet
   * with extension headers that may belong to one of them must not be overtaken).
   */
  #closeAddressPair(b: Uint8Array): void {
    const v6 = this.#v6 ? 1 : 0;
    for (let g = 0; g < this.#nGroups; g++) {
      if (this.#gOpen[g] === 1 && this.#gV6[g] === v6 && this.#sameAddresses(g, b)) {
        this.#gOpen[g] = 0;
      }
    }
  }

  /** Whether group `g` (of the parsed frame's family) has the parsed frame's IP addresses. */
  #sameAddresses(g: number, b: Uint8Array): boolean {
    const ip = this.#ip;
    const gb = this.#gBuf[g]!;
    // addresses: IPv4 bytes 12..20, IPv6 bytes 8..40 of the IP header
    const aTo = this.#v6 ? 40 : 20;
    for (let j = this.#v6 ? 8 : 12; j < aTo; j++) if (gb[F + 14 + j] !== b[ip + j]) return false;
    return true;
  }

  /** The open group of the parsed frame's flow (family, addresses, ports), or -1. */
  #findFlow(b: Uint8Array): number {
    const tcp = this.#tcp;
    const v6 = this.#v6 ? 1 : 0;
    for (let g = 0; g < this.#nGroups; g++) {
      if (this.#gOpen[g] === 0 || this.#gV6[g] !== v6) continue;
      const gb = this.#gBuf[g]!;
      const gtcp = F + 14 + this.#gIpHl[g];
      if (
        gb[gtcp] !== b[tcp] || gb[gtcp + 1] !== b[tcp + 1] || gb[gtcp + 2] !== b[tcp + 2] ||
        gb[gtcp + 3] !== b[tcp + 3]
      ) continue;
      if (this.#sameAddresses(g, b)) return g;
    }
    return -1;
  }

  /** Whether the mergeable segment being added continues group `g` (flow already matched). */
  #canMerge(g: number, b: Uint8Array, start: number): boolean {
    const gb = this.#gBuf[g]!;
    const ip = this.#ip;
    const tcp = this.#tcp;
    const thl = this.#thl;
    const gip = F + 14;
    const gtcp = gip + this.#gIpHl[g];
    if (thl !== this.#gThl[g]) return false;
    for (let j = 0; j < 14; j++) if (gb[F + j] !== b[start + j]) return false; // MACs, type
    if (this.#v6) {
      // version, traffic class, flow label; hop limit
      if (
        gb[gip] !== b[ip] || gb[gip + 1] !== b[ip + 1] || gb[gip + 2] !== b[ip + 2] ||
        gb[gip + 3] !== b[ip + 3] || gb[gip + 7] !== b[ip + 7]
      ) return false;
    } else {
      // TOS, TTL, DF; with DF clear the IDs must count up
      if (gb[gip + 1] !== b[ip + 1] || gb[gip + 8] !== b[ip + 8]) return false;
      const df = b[ip + 6] & 0x40 ? 1 : 0;
      if (df !== this.#gDf[g]) return false;
      if (!df && ((b[ip + 4] << 8) | b[ip + 5]) !== ((this.#gId0[g] + this.#gSegs[g]) & 0xffff)) {
        return false;
      }
    }
    // ACK number (8..12), window (14..16), options (20..thl)
    for (let j = 8; j < 12; j++) if (gb[gtcp + j] !== b[tcp + j]) return false;
    if (gb[gtcp + 14] !== b[tcp + 14] || gb[gtcp + 15] !== b[tcp + 15]) return false;
    for (let j = 20; j < thl; j++) if (gb[gtcp + j] !== b[tcp + j]) return false;
    const seq = ((b[tcp + 4] << 24) | (b[tcp + 5] << 16) | (b[tcp + 6] << 8) | b[tcp + 7]) >>> 0;
    if (seq !== this.#gNextSeq[g]) return false;
    const payload = this.#ipEnd - tcp - thl;
    if (payload > this.#gGso[g]) return false;
    if (this.#gIpHl[g] + thl + this.#gTotal[g] + payload > 65535) return false;
    return true;
  }

  /** Appends the parsed segment's payload to group `g`. */
  #append(g: number, b: Uint8Array): void {
    const gb = this.#gBuf[g]!;
    const payloadStart = this.#tcp + this.#thl;
    const payload = this.#ipEnd - payloadStart;
    const at = F + 14 + this.#gIpHl[g] + this.#gThl[g] + this.#gTotal[g];
    gb.set(b.subarray(payloadStart, this.#ipEnd), at);
    this.#gTotal[g] += payload;
    this.#gSegs[g]++;
    this.#gNextSeq[g] = (this.#gNextSeq[g] + payload) % 0x1_0000_0000;
    this.#pendingBytes += payload;
    const psh = (b[this.#tcp + 13] & TCP_PSH) !== 0;
    if (psh) this.#gPsh[g] = 1;
    if (psh || payload < this.#gGso[g]) this.#gOpen[g] = 0;
  }

  /** Starts a group with the parsed segment (ACK only, so more may follow). */
  #newGroup(b: Uint8Array, start: number, end: number): void {
    const g = this.#nGroups++;
    let gb = this.#gBuf[g];
    if (!gb) gb = this.#gBuf[g] = new Uint8Array(GROUP_BUFFER);
    gb.set(b.subarray(start, end), F);
    const tcp = this.#tcp;
    const payload = this.#ipEnd - tcp - this.#thl;
    const ip = this.#ip;
    this.#gOpen[g] = 1;
    this.#gV6[g] = this.#v6 ? 1 : 0;
    this.#gPsh[g] = 0;
    this.#gDf[g] = !this.#v6 && (b[ip + 6] & 0x40) ? 1 : 0;
    this.#gIpHl[g] = this.#ipHl;
    this.#gThl[g] = this.#thl;
    this.#gGso[g] = payload;
    this.#gTotal[g] = payload;
    this.#gSegs[g] = 1;
    this.#gId0[g] = (b[ip + 4] << 8) | b[ip + 5];
    const seq = ((b[tcp + 4] << 24) | (b[tcp + 5] << 16) | (b[tcp + 6] << 8) | b[tcp + 7]) >>> 0;
    this.#gNextSeq[g] = (seq + payload) % 0x1_0000_0000;
    this.#items[this.#nItems] = g;
    this.#itemLen[this.#nItems] = 0;
    this.#nItems++;
    this.#pendingBytes += VNET_HDR_LEN + (end - start);
  }

  /** Queues the frame unchanged (zeroed virtio-net header) in the arena. */
  #addUnmerged(b: Uint8Array, start: number, end: number): void {
    const need = Math.ceil((VNET_HDR_LEN + end - start) / CELL);
    if (this.#cellsUsed + need > this.#cellViews.length) {
      this.counters.limitFlushes++;
      this.flush();
    }
    const off = this.#cellsUsed * CELL;
    const a = this.#arena;
    a.fill(0, off, off + VNET_HDR_LEN);
    a.set(b.subarray(start, end), off + VNET_HDR_LEN);
    this.#items[this.#nItems] = -(this.#cellsUsed + 1);
    this.#itemLen[this.#nItems] = VNET_HDR_LEN + end - start;
    this.#nItems++;
    this.#cellsUsed += need;
    this.#pendingBytes += VNET_HDR_LEN + end - start;
  }

  /** Turns group `g`'s buffer into a GSO super-frame: virtio header, lengths, checksums. */
  #finishGroup(g: number, gb: Uint8Array): void {
    const ipHl = this.#gIpHl[g];
    const thl = this.#gThl[g];
    const tcpLen = thl + this.#gTotal[g];
    const ip = F + 14;
    const tcp = ip + ipHl;
    const v6 = this.#gV6[g] === 1;
    writeVnetHdr(
      gb,
      0,
      VNET_F_NEEDS_CSUM,
      v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4,
      14 + ipHl + thl,
      this.#gGso[g],
      14 + ipHl,
      16,
    );
    if (v6) {
      gb[ip + 4] = tcpLen >>> 8;
      gb[ip + 5] = tcpLen & 0xff;
    } else {
      const total = ipHl + tcpLen;
      gb[ip + 2] = total >>> 8;
      gb[ip + 3] = total & 0xff;
      setIpv4HeaderChecksum(gb, ip, ipHl);
    }
    if (this.#gPsh[g]) gb[tcp + 13] |= TCP_PSH;
    const pseudo = v6
      ? pseudoSumV6(gb, ip, PROTO_TCP, tcpLen)
      : pseudoSumV4(gb, ip, PROTO_TCP, tcpLen);
    const partial = foldSum(pseudo);
    gb[tcp + 16] = partial >>> 8;
    gb[tcp + 17] = partial & 0xff;
  }
}
