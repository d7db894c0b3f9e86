// One TCP connection per RFC 9293 (sans-I/O): handshake, RTO (RFC 6298), NewReno (RFC 5681/6582), window scaling, keepalive, close, RST, TIME_WAIT.
import { ByteQueue } from "./byte_queue.ts";
import {
  ACK,
  FIN,
  MAX_SACK_BLOCKS,
  PSH,
  RST,
  SYN,
  type TcpOut,
  type TcpSegment,
} from "./tcp_segment.ts";

/** Connection states (RFC 9293 §3.3.2). */
export type TcpState =
  | "SYN_SENT"
  | "SYN_RCVD"
  | "ESTABLISHED"
  | "FIN_WAIT_1"
  | "FIN_WAIT_2"
  | "CLOSE_WAIT"
  | "CLOSING"
  | "LAST_ACK"
  | "TIME_WAIT"
  | "CLOSED";

/** Tunables of TCP connections (all times in ms). */
export interface TcpConfig {
  /** Send buffer bytes. */
  sendBuffer: number;
  /** Receive buffer bytes (the most we advertise). */
  recvBuffer: number;
  /** Our window-scale shift offered on SYN. */
  wscale: number;
  /** Initial RTO (RFC 6298: 1 s). */
  initialRto: number;
  /** Lower bound of the RTO. */
  minRto: number;
  /** Upper bound of the RTO. */
  maxRto: number;
  /** SYN retransmissions before giving up. */
  synRetries: number;
  /** Data retransmissions (consecutive timeouts) before giving up. */
  maxRetries: number;
  /** Delayed-ACK timeout. */
  delayedAck: number;
  /** Maximum segment lifetime; TIME_WAIT lasts 2 MSL. */
  msl: number;
  /** FIN_WAIT_2 timeout once we closed. */
  finWait2Timeout: number;
  /** Keepalive: idle time before probes (0 = off), interval, probes. */
  keepIdle: number;
  keepInterval: number;
  keepCount: number;
  /** Most out-of-order segments held. */
  maxOutOfOrder: number;
}

/** Defaults of {@link TcpConfig}. */
export const DEFAULT_TCP_CONFIG: TcpConfig = {
  sendBuffer: 256 * 1024,
  recvBuffer: 256 * 1024,
  wscale: 7,
  initialRto: 1000,
  minRto: 200,
  maxRto: 60_000,
  synRetries: 6,
  maxRetries: 12,
  delayedAck: 40,
  msl: 30_000,
  finWait2Timeout: 60_000,
  keepIdle: 0,
  keepInterval: 75_000,
  keepCount: 9,
  maxOutOfOrder: 512,
};

/** Counters of a connection (for tests and stats). */
export interface TcpCounters {
  segmentsIn: number;
  segmentsOut: number;
  retransmits: number;
  rtoFires: number;
  fastRetransmits: number;
  partialAcks: number;
  dupAcksIn: number;
  outOfOrderIn: number;
  keepaliveProbes: number;
  /** Zero-window probes sent by the persist timer. */
  windowProbes: number;
}

/** Events a connection reports to its owner. */
export interface TcpEvents {
  /** Handshake done. */
  onConnected?(): void;
  /** New bytes can be read. */
  onData?(): void;
  /** Send buffer space freed. */
  onWritable?(): void;
  /** The peer closed its side (FIN received and in order). */
  onEnd?(): void;
  /** The connection is gone; `error` says why if not an orderly close. */
  onClose?(error?: string): void;
}

/** Sends one segment (the stack wraps it in IP). */
export type SegmentSink = (
  s: TcpOut,
  payload: ByteQueue | undefined,
  offset: number,
  len: number,
) => void;

const MOD = 0x1_0000_0000;
function seqAdd(a: number, n: number): number {
  return (a + n) % MOD >>> 0;
}
function seqDiff(a: number, b: number): number {
  return ((a - b) | 0);
}
function lt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}
function le(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}

interface OooSeg {
  seq: number;
  data: Uint8Array;
}

/** A TCP connection; created by {@link NetStack} (active or passive). */
export class TcpConnection {
  /** Local and remote endpoints (addresses as the stack keeps them). */
  readonly localIp: Uint8Array;
  readonly localPort: number;
  readonly remoteIp: Uint8Array;
  readonly remotePort: number;
  /** Event callbacks (set by the owner). */
  events: TcpEvents = {};
  /** Counters. */
  readonly counters: TcpCounters = {
    segmentsIn: 0,
    segmentsOut: 0,
    retransmits: 0,
    rtoFires: 0,
    fastRetransmits: 0,
    partialAcks: 0,
    dupAcksIn: 0,
    outOfOrderIn: 0,
    keepaliveProbes: 0,
    windowProbes: 0,
  };
  /** Flight size and cwnd at the last congestion signal (fast retransmit or RTO). */
  readonly lastLoss = { flight: 0, cwnd: 0 };
  #state: TcpState;
  readonly #cfg: TcpConfig;
  readonly #sink: SegmentSink;
  /** Called once when the connection reaches CLOSED (the stack forgets it). */
  onGone: (() => void) | undefined;

  // send side
  readonly #iss: number;
  #sndUna: number;
  #sndNxt: number;
  #sndMax: number;
  #sndWnd = 0;
  #sndWl1 = 0;
  #sndWl2 = 0;
  #sndScale = 0;
  readonly #sendBuf = new ByteQueue();
  /** Sequence number of the first byte in the send buffer. */
  #bufSeq: number;
  #closeRequested = false;
  /** Sequence number of our FIN once sent. */
  #finSeq: number | undefined;
  #mss: number;
  readonly #ourMss: number;
  #cwnd: number;
  #ssthresh = 0x7fff_ffff;
  #dupAcks = 0;
  #inRecovery = false;
  #recover: number;
  #srtt = -1;
  #rttvar = 0;
  #rto: number;
  #retries = 0;
  #timedSeq: number | undefined;
  #timedAt = 0;

  // receive side
  #irs = 0;
  #rcvNxt = 0;
  #rcvScale = 0;
  #offerScale: boolean;
  readonly #recvBuf = new ByteQueue();
  #ooo: OooSeg[] = [];
  #peerFinSeq: number | undefined;
  #peerClosed = false;
  /** The peer sent SACK-permitted: our pure ACKs carry SACK blocks for out-of-order data. */
  #peerSackOk = false;
  /** Sequence number of the latest out-of-order segment kept (its block is reported first). */
  #lastOooSeq: number | undefined;
  #lastAdvertised = 0;
  #unackedSegs = 0;

  // timers (absolute ms, Infinity = off)
  #rtoAt = Infinity;
  #ackAt = Infinity;
  #keepAt = Infinity;
  #closeAt = Infinity;
  #keepProbes = 0;
  #closedReported = false;

  /** @internal created by the stack. */
  constructor(
    opts: {
      localIp: Uint8Array;
      localPort: number;
      remoteIp: Uint8Array;
      remotePort: number;
      iss: number;
      mss: number;
      cfg: TcpConfig;
      sink: SegmentSink;
      now: number;
    },
  ) {
    this.localIp = opts.localIp;
    this.localPort = opts.localPort;
    this.remoteIp = opts.remoteIp;
    this.remotePort = opts.remotePort;
    this.#cfg = opts.cfg;
    this.#sink = opts.sink;
    this.#iss = opts.iss >>> 0;
    this.#sndUna = this.#iss;
    this.#sndNxt = this.#iss;
    this.#sndMax = this.#iss;
    this.#recover = this.#iss;
    this.#bufSeq = seqAdd(this.#iss, 1);
    this.#ourMss = opts.mss;
    this.#mss = opts.mss;
    this.#cwnd = Math.min(10 * opts.mss, Math.max(2 * opts.mss, 14600));
    this.#rto = opts.cfg.initialRto;
    this.#offerScale = true;
    this.#state = "CLOSED";
  }

  /** Current state. */
  get state(): TcpState {
    return this.#state;
  }
  /** Congestion window, bytes. */
  get cwnd(): number {
    return this.#cwnd;
  }
  /** Slow-start threshold, bytes. */
  get ssthresh(): number {
    return this.#ssthresh;
  }
  /** Current retransmission timeout, ms. */
  get rto(): number {
    return this.#rto;
  }
  /** Smoothed RTT, ms (-1 before the first sample). */
  get srtt(): number {
    return this.#srtt;
  }
  /** Effective send MSS. */
  get mss(): number {
    return this.#mss;
  }
  /** Bytes sent and not yet acknowledged. */
  get inFlight(): number {
    return seqDiff(this.#sndNxt, this.#sndUna);
  }
  /** Whether NewReno fast recovery is in progress. */
  get inRecovery(): boolean {
    return this.#inRecovery;
  }
  /** Bytes ready to read. */
  get readable(): number {
    return this.#recvBuf.length;
  }
  /** Free space in the send buffer. */
  get writable(): number {
    if (this.#closeRequested || !this.#canSendData()) return 0;
    return Math.max(0, this.#cfg.sendBuffer - this.#sendBuf.length);
  }
  /** Bytes in the send buffer (unsent or unacknowledged). */
  get unsent(): number {
    return this.#sendBuf.length;
  }
  /** Whether the peer has closed its sending side and all its data was read. */
  get eof(): boolean {
    return this.#peerClosed && this.#recvBuf.length === 0;
  }
  /** Approximate bytes of memory held by buffers (for bounds tests). */
  get bufferedBytes(): number {
    let o = 0;
    for (const s of this.#ooo) o += s.data.length;
    return this.#sendBuf.length + this.#recvBuf.length + o;
  }

  /** @internal active open: sends SYN. */
  openActive(now: number): void {
    this.#state = "SYN_SENT";
    this.#sendSyn(now, false);
  }

  /** @internal passive open from a SYN the listener accepted. */
  openPassive(now: number, syn: TcpSegment): void {
    this.#irs = syn.seq;
    this.#rcvNxt = seqAdd(syn.seq, 1);
    this.#negotiate(syn);
    this.#sndWnd = syn.window;
    this.#sndWl1 = syn.seq;
    this.#state = "SYN_RCVD";
    this.#sendSyn(now, true);
  }

  /**
   * Queues bytes to send; returns how many were taken (bounded by the send buffer). The array
   * is kept by reference: do not modify it after.
   */
  write(now: number, data: Uint8Array): number {
    if (this.#closeRequested || !this.#canSendData()) return 0;
    const n = Math.min(data.length, this.#cfg.sendBuffer - this.#sendBuf.length);
    if (n <= 0) return 0;
    this.#sendBuf.push(n === data.length ? data : data.subarray(0, n));
    if (this.#state !== "SYN_SENT" && this.#state !== "SYN_RCVD") this.#output(now);
    return n;
  }

  /** Reads up to `max` bytes (empty when none); may send a window update. */
  read(now: number, max = Infinity): Uint8Array {
    const before = this.#rcvWindow();
    const out = this.#recvBuf.take(max);
    if (out.length > 0) {
      const after = this.#rcvWindow();
      if (
        this.#isSynchronized() && !this.#peerClosed &&
        (after - this.#lastAdvertised >= 2 * this.#ourMss ||
          (before < this.#ourMss && after >= this.#ourMss))
      ) {
        this.#sendAck(now);
      }
    }
    return out;
  }

  /** Orderly close: FIN after the queued data. */
  close(now: number): void {
    if (this.#closeRequested) return;
    this.#closeRequested = true;
    switch (this.#state) {
      case "SYN_SENT":
        this.#finish(undefined);
        return;
      case "SYN_RCVD":
      case "ESTABLISHED":
        this.#state = "FIN_WAIT_1";
        break;
      case "CLOSE_WAIT":
        this.#state = "LAST_ACK";
        break;
      default:
        return;
    }
    this.#output(now);
  }

  /** Abortive close: sends RST and forgets the connection. */
  abort(now: number, reason = "aborted"): void {
    if (this.#state === "CLOSED") return;
    if (this.#isSynchronized() || this.#state === "SYN_RCVD") {
      this.#emit(now, { seq: this.#sndNxt, ack: this.#rcvNxt, flags: RST | ACK }, undefined, 0, 0);
    }
    this.#finish(reason);
  }

  /** The earliest timer deadline (Infinity if none). */
  get deadline(): number {
    return Math.min(this.#rtoAt, this.#ackAt, this.#keepAt, this.#closeAt);
  }

  /** Runs the timers due at `now`. */
  tick(now: number): void {
    if (this.#closeAt <= now) {
      this.#closeAt = Infinity;
      this.#finish(this.#state === "TIME_WAIT" ? undefined : "timed out");
      return;
    }
    if (this.#ackAt <= now) {
      this.#ackAt = Infinity;
      this.#sendAck(now);
    }
    if (this.#rtoAt <= now) {
      this.#rtoAt = Infinity;
      this.#onRto(now);
      if (this.#state === "CLOSED") return;
    }
    if (this.#keepAt <= now) {
      this.#keepAt = Infinity;
      this.#onKeepalive(now);
    }
  }

  /** Processes one incoming segment for this connection. */
  input(now: number, seg: TcpSegment): void {
    this.counters.segmentsIn++;
    if (this.#cfg.keepIdle > 0 && this.#isSynchronized()) {
      this.#keepProbes = 0;
      this.#keepAt = now + this.#cfg.keepIdle;
    }
    if (this.#state === "SYN_SENT") return this.#inputSynSent(now, seg);
    const len = seg.payloadEnd - seg.payloadStart;
    // 1. sequence acceptability
    if (!this.#acceptable(seg.seq, len + ((seg.flags & (SYN | FIN)) ? 1 : 0))) {
      if (!(seg.flags & RST)) {
        if (this.#state === "TIME_WAIT" && (seg.flags & FIN)) {
          this.#closeAt = now + 2 * this.#cfg.msl;
        }
        this.#sendAck(now);
      }
      return;
    }
    // 2. RST (RFC 5961: exact match resets, in-window gets a challenge ACK)
    if (seg.flags & RST) {
      if (seg.seq === this.#rcvNxt) this.#finish("connection reset by peer");
      else this.#sendAck(now);
      return;
    }
    // 3. SYN in a synchronized state: challenge ACK
    if (seg.flags & SYN) {
      if (this.#state === "SYN_RCVD" && seg.seq === this.#irs) this.#sendSyn(now, true);
      else this.#sendAck(now);
      return;
    }
    // 4. ACK
    if (!(seg.flags & ACK)) return;
    if (this.#state === "SYN_RCVD") {
      if (lt(this.#sndUna, seg.ack) && le(seg.ack, this.#sndMax)) {
        this.#state = this.#closeRequested ? "FIN_WAIT_1" : "ESTABLISHED";
        this.#sndWnd = seg.window << this.#sndScale;
        this.#sndWl1 = seg.seq;
        this.#sndWl2 = seg.ack;
        this.#retries = 0;
        this.#established(now);
      } else {
        this.#emit(now, { seq: seg.ack, ack: 0, flags: RST }, undefined, 0, 0);
        return;
      }
    }
    if (!this.#processAck(now, seg, len)) return;
    if ((this.#state as TcpState) === "CLOSED") return;
    // 5. data
    if (len > 0) this.#processData(now, seg, len);
    // 6. FIN
    if (seg.flags & FIN) {
      const finSeq = seqAdd(seg.seq, len);
      if (this.#peerFinSeq === undefined) this.#peerFinSeq = finSeq;
      this.#checkFin(now);
      this.#sendAck(now);
    }
    const st = this.#state as TcpState;
    if (st !== "CLOSED" && st !== "TIME_WAIT") this.#output(now);
  }

  // ---- private ---------------------------------------------------------------------------------

  #isSynchronized(): boolean {
    return this.#state !== "SYN_SENT" && this.#state !== "SYN_RCVD" && this.#state !== "CLOSED";
  }

  #canSendData(): boolean {
    return this.#state === "SYN_SENT" || this.#state === "SYN_RCVD" ||
      this.#state === "ESTABLISHED" || this.#state === "CLOSE_WAIT";
  }

  #rcvWindow(): number {
    // out-of-order data sits inside the advertised window; it does not shrink it
    return Math.max(0, this.#cfg.recvBuffer - this.#recvBuf.length);
  }

  #acceptable(seq: number, len: number): boolean {
    const wnd = Math.max(this.#rcvWindow(), this.#lastAdvertised);
    if (len === 0) {
      return wnd === 0 ? seq === this.#rcvNxt : le(this.#rcvNxt, seq) &&
          lt(seq, seqAdd(this.#rcvNxt, wnd)) || seq === this.#rcvNxt;
    }
    if (wnd === 0) return false;
    const end = seqAdd(seq, len - 1);
    return (le(this.#rcvNxt, seq) && lt(seq, seqAdd(this.#rcvNxt, wnd))) ||
      (le(this.#rcvNxt, end) && lt(end, seqAdd(this.#rcvNxt, wnd)));
  }

  #negotiate(syn: TcpSegment): void {
    this.#peerSackOk = syn.sackOk === true;
    if (syn.mss !== undefined && syn.mss > 0) {
      this.#mss = Math.max(64, Math.min(this.#ourMss, syn.mss));
    } else this.#mss = Math.min(this.#ourMss, 536);
    if (syn.wscale !== undefined && this.#offerScale) {
      this.#sndScale = syn.wscale;
      this.#rcvScale = this.#cfg.wscale;
    } else {
      this.#sndScale = 0;
      this.#rcvScale = 0;
      this.#offerScale = false;
    }
    this.#cwnd = Math.min(10 * this.#mss, Math.max(2 * this.#mss, 14600));
  }

  #inputSynSent(now: number, seg: TcpSegment): void {
    if (seg.flags & ACK) {
      if (le(seg.ack, this.#iss) || lt(this.#sndMax, seg.ack)) {
        if (!(seg.flags & RST)) {
          this.#emit(now, { seq: seg.ack, ack: 0, flags: RST }, undefined, 0, 0);
        }
        return;
      }
    }
    if (seg.flags & RST) {
      if (seg.flags & ACK) this.#finish("connection refused");
      return;
    }
    if (!(seg.flags & SYN)) return;
    this.#irs = seg.seq;
    this.#rcvNxt = seqAdd(seg.seq, 1);
    this.#negotiate(seg);
    if (seg.flags & ACK) {
      this.#sndUna = seg.ack;
      this.#sndNxt = seqDiff(seg.ack, this.#sndNxt) > 0 ? seg.ack : this.#sndNxt;
      this.#sndWnd = seg.window << this.#sndScale;
      this.#sndWl1 = seg.seq;
      this.#sndWl2 = seg.ack;
      this.#state = "ESTABLISHED";
      this.#rtoAt = Infinity;
      this.#retries = 0;
      if (this.#timedSeq !== undefined) this.#rttSample(now - this.#timedAt);
      this.#timedSeq = undefined;
      this.#established(now);
      this.#sendAck(now);
      this.#output(now);
    } else {
      // simultaneous open
      this.#state = "SYN_RCVD";
      this.#sndWnd = seg.window;
      this.#sendSyn(now, true);
    }
  }

  #established(now: number): void {
    if (this.#cfg.keepIdle > 0) this.#keepAt = now + this.#cfg.keepIdle;
    this.events.onConnected?.();
  }

  #sendSyn(now: number, withAck: boolean): void {
    const wnd = Math.min(0xffff, this.#rcvWindow());
    this.#emit(
      now,
      {
        seq: this.#iss,
        ack: withAck ? this.#rcvNxt : 0,
        flags: withAck ? SYN | ACK : SYN,
        window: wnd,
        mss: this.#ourMss,
        ...(this.#offerScale ? { wscale: this.#cfg.wscale } : {}),
        // we generate SACK blocks as a receiver (received blocks are not used as a sender)
        sackOk: true,
      },
      undefined,
      0,
      0,
    );
    if (this.#sndNxt === this.#iss) {
      this.#sndNxt = seqAdd(this.#iss, 1);
      this.#sndMax = this.#sndNxt;
      this.#timedSeq = this.#iss;
      this.#timedAt = now;
    }
    this.#rtoAt = now + this.#rto;
  }

  /** Processes the ACK field; false if the segment must be dropped (it acks unsent data). */
  #processAck(now: number, seg: TcpSegment, len: number): boolean {
    const ack = seg.ack;
    if (lt(this.#sndMax, ack)) {
      this.#sendAck(now);
      return false;
    }
    const wnd = seg.window << this.#sndScale;
    if (wnd === 0) this.#retries = 0; // a live peer with a closed window (persist state)
    if (le(ack, this.#sndUna)) {
      // duplicate ACK (RFC 5681 §2)
      if (
        ack === this.#sndUna && len === 0 && !(seg.flags & (FIN | SYN)) && wnd === this.#sndWnd &&
        this.#sndMax !== this.#sndUna
      ) {
        this.counters.dupAcksIn++;
        this.#dupAcks++;
        // RFC 6582 §3.2 step 2: not again for losses of the window already being recovered
        if (this.#dupAcks === 3 && !this.#inRecovery && le(this.#recover, ack)) {
          const flight = seqDiff(this.#sndMax, this.#sndUna);
          this.lastLoss.flight = flight;
          this.lastLoss.cwnd = this.#cwnd;
          this.#ssthresh = Math.max(Math.floor(flight / 2), 2 * this.#mss);
          this.#recover = this.#sndMax;
          this.#inRecovery = true;
          this.counters.fastRetransmits++;
          this.#retransmitFirst(now);
          this.#cwnd = this.#ssthresh + 3 * this.#mss;
        } else if (this.#dupAcks > 3 && this.#inRecovery) {
          this.#cwnd += this.#mss;
        }
      }
      this.#updateWindow(seg, wnd);
      return true;
    }
    // new data acknowledged
    const acked = seqDiff(ack, this.#sndUna);
    if (this.#timedSeq !== undefined && lt(this.#timedSeq, ack)) {
      this.#rttSample(now - this.#timedAt);
      this.#timedSeq = undefined;
    }
    this.#sndUna = ack;
    if (lt(this.#sndNxt, ack)) this.#sndNxt = ack;
    const dataAcked = Math.max(0, Math.min(seqDiff(ack, this.#bufSeq), this.#sendBuf.length));
    if (dataAcked > 0) {
      this.#sendBuf.drop(dataAcked);
      this.#bufSeq = seqAdd(this.#bufSeq, dataAcked);
    }
    this.#retries = 0;
    if (this.#inRecovery) {
      if (le(this.#recover, ack)) {
        this.#inRecovery = false;
        const flight = seqDiff(this.#sndMax, this.#sndUna);
        this.#cwnd = Math.min(this.#ssthresh, Math.max(flight, this.#mss) + this.#mss);
        this.#dupAcks = 0;
      } else {
        // partial ACK (RFC 6582 §3.2 step 5)
        this.counters.partialAcks++;
        this.#retransmitFirst(now);
        this.#cwnd = Math.max(this.#mss, this.#cwnd - acked + this.#mss);
      }
    } else {
      this.#dupAcks = 0;
      if (this.#cwnd < this.#ssthresh) this.#cwnd += Math.min(acked, this.#mss);
      else this.#cwnd += Math.max(1, Math.floor((this.#mss * this.#mss) / this.#cwnd));
    }
    this.#cwnd = Math.min(this.#cwnd, 0x3fff_ffff);
    this.#updateWindow(seg, wnd);
    this.#rtoAt = this.#sndMax === this.#sndUna ? Infinity : now + this.#rto;
    // our FIN acknowledged?
    const finAcked = this.#finSeq !== undefined && lt(this.#finSeq, this.#sndUna);
    if (finAcked) {
      if (this.#state === "FIN_WAIT_1") {
        this.#state = "FIN_WAIT_2";
        this.#closeAt = now + this.#cfg.finWait2Timeout;
      } else if (this.#state === "CLOSING") this.#enterTimeWait(now);
      else if (this.#state === "LAST_ACK") {
        this.#finish(undefined);
        return true;
      }
    }
    if (dataAcked > 0 && this.writable > 0) this.events.onWritable?.();
    return true;
  }

  #updateWindow(seg: TcpSegment, wnd: number): void {
    if (
      lt(this.#sndWl1, seg.seq) ||
      (this.#sndWl1 === seg.seq && le(this.#sndWl2, seg.ack))
    ) {
      this.#sndWnd = wnd;
      this.#sndWl1 = seg.seq;
      this.#sndWl2 = seg.ack;
    }
  }

  #processData(now: number, seg: TcpSegment, len: number): void {
    if (
      this.#state !== "ESTABLISHED" && this.#state !== "FIN_WAIT_1" && this.#state !== "FIN_WAIT_2"
    ) return;
    let seq = seg.seq;
    let start = seg.payloadStart;
    const end = seg.payloadEnd;
    // trim what we already have
    const dup = seqDiff(this.#rcvNxt, seq);
    if (dup > 0) {
      if (dup >= len) {
        this.#sendAck(now);
        return;
      }
      start += dup;
      seq = this.#rcvNxt;
    }
    const room = this.#rcvWindow();
    if (seq === this.#rcvNxt) {
      const n = Math.min(end - start, room);
      if (n <= 0) {
        this.#sendAck(now);
        return;
      }
      this.#recvBuf.push(seg.bytes.slice(start, start + n));
      this.#rcvNxt = seqAdd(this.#rcvNxt, n);
      const hadOoo = this.#ooo.length > 0;
      this.#pullOoo();
      this.events.onData?.();
      this.#unackedSegs++;
      if (hadOoo || this.#unackedSegs >= 2) this.#sendAck(now);
      else if (this.#ackAt === Infinity) this.#ackAt = now + this.#cfg.delayedAck;
    } else {
      // out of order: keep (bounded), ACK at once (dup ACK for fast retransmit)
      this.counters.outOfOrderIn++;
      const offset = seqDiff(seq, this.#rcvNxt);
      const n = Math.min(end - start, room - offset);
      if (n > 0 && this.#ooo.length < this.#cfg.maxOutOfOrder) {
        const data = seg.bytes.slice(start, start + n);
        let i = 0;
        while (i < this.#ooo.length && lt(this.#ooo[i].seq, seq)) i++;
        if (!(i < this.#ooo.length && this.#ooo[i].seq === seq && this.#ooo[i].data.length >= n)) {
          this.#ooo.splice(i, 0, { seq, data });
        }
        this.#lastOooSeq = seq;
      }
      this.#sendAck(now);
    }
  }

  #pullOoo(): void {
    while (this.#ooo.length > 0) {
      const s = this.#ooo[0];
      const over = seqDiff(this.#rcvNxt, s.seq);
      if (over < 0) break;
      this.#ooo.shift();
      if (over >= s.data.length) continue;
      const part = s.data.subarray(over);
      this.#recvBuf.push(part);
      this.#rcvNxt = seqAdd(this.#rcvNxt, part.length);
    }
  }

  #checkFin(now: number): void {
    if (this.#peerClosed || this.#peerFinSeq === undefined || this.#peerFinSeq !== this.#rcvNxt) {
      return;
    }
    this.#rcvNxt = seqAdd(this.#rcvNxt, 1);
    this.#peerClosed = true;
    this.#ooo = [];
    switch (this.#state) {
      case "ESTABLISHED":
        this.#state = "CLOSE_WAIT";
        break;
      case "FIN_WAIT_1":
        if (this.#finSeq !== undefined && lt(this.#finSeq, this.#sndUna)) this.#enterTimeWait(now);
        else this.#state = "CLOSING";
        break;
      case "FIN_WAIT_2":
        this.#enterTimeWait(now);
        break;
    }
    this.events.onEnd?.();
  }

  #enterTimeWait(now: number): void {
    this.#state = "TIME_WAIT";
    this.#rtoAt = Infinity;
    this.#keepAt = Infinity;
    this.#closeAt = now + 2 * this.#cfg.msl;
    this.#reportClosed(undefined);
  }

  #rttSample(r: number): void {
    const rtt = Math.max(0, r);
    if (this.#srtt < 0) {
      this.#srtt = rtt;
      this.#rttvar = rtt / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - rtt);
      this.#srtt = 0.875 * this.#srtt + 0.125 * rtt;
    }
    this.#rto = Math.min(
      this.#cfg.maxRto,
      Math.max(this.#cfg.minRto, this.#srtt + Math.max(1, 4 * this.#rttvar)),
    );
  }

  #onRto(now: number): void {
    if (this.#state === "SYN_SENT" || this.#state === "SYN_RCVD") {
      if (++this.#retries > this.#cfg.synRetries) {
        this.#finish("connection timed out");
        return;
      }
      this.counters.rtoFires++;
      this.counters.retransmits++;
      this.#timedSeq = undefined;
      this.#rto = Math.min(this.#cfg.maxRto, this.#rto * 2);
      this.#sendSyn(now, this.#state === "SYN_RCVD");
      return;
    }
    if (this.#sndMax === this.#sndUna && !this.#zeroWindowWait()) return;
    if (this.#sndWnd === 0 && seqDiff(this.#sndMax, this.#sndUna) <= 1) {
      // persist timer (RFC 9293 §3.8.6.1): a window probe, no congestion response; the peer
      // answering probes (ACKs with a zero window reset the retries) keeps the connection
      if (++this.#retries > this.#cfg.maxRetries) {
        this.abort(now, "connection timed out (zero window probes unanswered)");
        return;
      }
      this.counters.windowProbes++;
      this.#sndNxt = this.#sndUna;
      this.#rto = Math.min(this.#cfg.maxRto, this.#rto * 2);
      this.#output(now, true);
      if (this.#rtoAt === Infinity) this.#rtoAt = now + this.#rto;
      return;
    }
    if (++this.#retries > this.#cfg.maxRetries) {
      this.abort(now, "connection timed out");
      return;
    }
    this.counters.rtoFires++;
    if (this.#sndMax !== this.#sndUna) {
      const flight = seqDiff(this.#sndMax, this.#sndUna);
      this.lastLoss.flight = flight;
      this.lastLoss.cwnd = this.#cwnd;
      this.#ssthresh = Math.max(Math.floor(flight / 2), 2 * this.#mss);
      this.#cwnd = this.#mss;
      this.#inRecovery = false;
      this.#recover = this.#sndMax;
      this.#dupAcks = 0;
      this.#timedSeq = undefined;
      this.#sndNxt = this.#sndUna;
    }
    this.#rto = Math.min(this.#cfg.maxRto, this.#rto * 2);
    this.#output(now, true);
    if (this.#rtoAt === Infinity) this.#rtoAt = now + this.#rto;
  }

  #zeroWindowWait(): boolean {
    const offset = seqDiff(this.#sndNxt, this.#bufSeq);
    return this.#sndWnd === 0 && offset < this.#sendBuf.length;
  }

  #onKeepalive(now: number): void {
    if (!this.#isSynchronized() || this.#cfg.keepIdle <= 0) return;
    if (this.#keepProbes >= this.#cfg.keepCount) {
      this.abort(now, "connection timed out (keepalive)");
      return;
    }
    this.#keepProbes++;
    this.counters.keepaliveProbes++;
    this.#emit(
      now,
      { seq: seqAdd(this.#sndUna, MOD - 1), ack: this.#rcvNxt, flags: ACK },
      undefined,
      0,
      0,
    );
    this.#keepAt = now + this.#cfg.keepInterval;
  }

  #retransmitFirst(now: number): void {
    const offset = seqDiff(this.#sndUna, this.#bufSeq);
    const avail = this.#sendBuf.length - offset;
    const n = Math.max(0, Math.min(avail, this.#mss));
    const fin = this.#finSeq !== undefined && offset + n === this.#sendBuf.length;
    if (n === 0 && !fin) return;
    this.counters.retransmits++;
    this.#timedSeq = undefined;
    this.#emit(
      now,
      {
        seq: this.#sndUna,
        ack: this.#rcvNxt,
        flags: ACK | (n > 0 ? PSH : 0) | (fin ? FIN : 0),
      },
      this.#sendBuf,
      offset,
      n,
    );
    this.#rtoAt = now + this.#rto;
  }

  /** Sends what the windows allow (and FIN when due). */
  #output(now: number, probe = false): void {
    if (!this.#isSynchronized()) return;
    const finWanted = this.#closeRequested &&
      (this.#state === "FIN_WAIT_1" || this.#state === "LAST_ACK" || this.#state === "CLOSING");
    let sentSomething = false;
    for (let guard = 0; guard < 10_000; guard++) {
      const offset = seqDiff(this.#sndNxt, this.#bufSeq);
      const avail = this.#sendBuf.length - offset;
      const flight = seqDiff(this.#sndNxt, this.#sndUna);
      let wnd = Math.min(this.#sndWnd, this.#cwnd) - flight;
      if (probe && wnd <= 0 && flight === 0) wnd = 1; // zero-window probe / RTO resend
      if (probe && this.#sndWnd === 0 && flight === 0) wnd = 1;
      let n = Math.max(0, Math.min(avail, this.#mss, wnd));
      // avoid silly window: wait for a full segment unless it is the tail of the data
      if (n < avail && n < this.#mss && !probe && flight > 0) n = 0;
      const fin = finWanted && offset + n === this.#sendBuf.length;
      if (n === 0 && !fin) break;
      const isRetrans = lt(this.#sndNxt, this.#sndMax);
      this.#emit(
        now,
        {
          seq: this.#sndNxt,
          ack: this.#rcvNxt,
          flags: ACK | (n > 0 && n === avail ? PSH : 0) | (fin ? FIN : 0),
        },
        this.#sendBuf,
        offset,
        n,
      );
      if (isRetrans) this.counters.retransmits++;
      else if (this.#timedSeq === undefined && n > 0) {
        this.#timedSeq = this.#sndNxt;
        this.#timedAt = now;
      }
      this.#sndNxt = seqAdd(this.#sndNxt, n + (fin ? 1 : 0));
      if (lt(this.#sndMax, this.#sndNxt)) this.#sndMax = this.#sndNxt;
      if (fin) this.#finSeq = seqAdd(this.#sndNxt, MOD - 1);
      sentSomething = true;
      probe = false;
      if (fin) break;
    }
    if (sentSomething && this.#rtoAt === Infinity) this.#rtoAt = now + this.#rto;
    if (
      !sentSomething && this.#zeroWindowWait() && this.#sndMax === this.#sndUna &&
      this.#rtoAt === Infinity
    ) {
      this.#rtoAt = now + this.#rto; // persist timer
    }
  }

  #sendAck(now: number): void {
    if (this.#state === "CLOSED" || this.#state === "SYN_SENT") return;
    this.#emit(now, { seq: this.#sndNxt, ack: this.#rcvNxt, flags: ACK }, undefined, 0, 0);
  }

  #emit(
    _now: number,
    s: {
      seq: number;
      ack: number;
      flags: number;
      window?: number;
      mss?: number;
      wscale?: number;
      sackOk?: boolean;
    },
    payload: ByteQueue | undefined,
    offset: number,
    len: number,
  ): void {
    let window = s.window;
    if (window === undefined) {
      window = Math.min(0xffff, this.#rcvWindow() >> this.#rcvScale);
      this.#lastAdvertised = window << this.#rcvScale;
    }
    if (s.flags & ACK) {
      this.#ackAt = Infinity;
      this.#unackedSegs = 0;
    }
    const sack = len === 0 && (s.flags & ACK) && !(s.flags & SYN) && this.#peerSackOk &&
        this.#ooo.length > 0
      ? this.#sackBlocks()
      : undefined;
    this.counters.segmentsOut++;
    this.#sink(
      {
        srcPort: this.localPort,
        dstPort: this.remotePort,
        seq: s.seq,
        ack: s.ack,
        flags: s.flags,
        window,
        ...(s.mss !== undefined ? { mss: s.mss } : {}),
        ...(s.wscale !== undefined ? { wscale: s.wscale } : {}),
        ...(s.sackOk ? { sackOk: true } : {}),
        ...(sack ? { sack } : {}),
      },
      payload,
      offset,
      len,
    );
  }

  /** SACK blocks of the out-of-order data, the one holding the latest arrival first (RFC 2018 §4). */
  #sackBlocks(): [number, number][] {
    const blocks: [number, number][] = [];
    for (const o of this.#ooo) {
      const end = seqAdd(o.seq, o.data.length);
      const last = blocks[blocks.length - 1];
      if (last && le(o.seq, last[1])) {
        if (lt(last[1], end)) last[1] = end;
      } else blocks.push([o.seq, end]);
    }
    const latest = this.#lastOooSeq;
    const first = latest === undefined
      ? -1
      : blocks.findIndex(([l, r]) => le(l, latest) && lt(latest, r));
    if (first > 0) blocks.unshift(...blocks.splice(first, 1));
    return blocks.slice(0, MAX_SACK_BLOCKS);
  }

  #reportClosed(error: string | undefined): void {
    if (this.#closedReported) return;
    this.#closedReported = true;
    this.events.onClose?.(error);
  }

  #finish(error: string | undefined): void {
    if (this.#state === "CLOSED") return;
    this.#state = "CLOSED";
    this.#rtoAt =
      this.#ackAt =
      this.#keepAt =
      this.#closeAt =
        Infinity;
    this.#ooo = [];
    this.#reportClosed(error);
    this.onGone?.();
  }
}
