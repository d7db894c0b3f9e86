// Linux UDP I/O through Deno FFI: batched receive (recvmmsg, GRO split) and send (sendto, sendmmsg rings, GSO) on sockets from udp_socket.ts.
//
// Receiving: the sockets are watched by the process's one poll loop (ffi/reactor.ts, shared with
// the TAP devices); the JS thread drains each readable socket with synchronous `recvmmsg` calls into
// one preallocated buffer (batch × slot bytes) until the kernel queue is empty (bounded per
// round), handing each datagram to the callback as a view. Remote addresses are decoded from the
// raw sockaddr through a small cache, so a datagram from a known sender allocates no objects.
// Sending: `queue` copies each datagram into a per-socket ring of preallocated slots and `flush`
// hands every ring to the kernel with one `sendmmsg` per socket (called at the end of each receive
// drain round, by whoever produced a burst, when a ring fills, and from a microtask as a safety
// net, so nothing waits past the current task). `send` is a synchronous `sendto` from the
// caller's buffer (per-datagram TTL); `sendMany` batches an explicit list.
// Offloads (on by default, `offload: false` or ZT_UDP_GSO=0 in the service turns them off): a
// flush sends each run of consecutive equal-sized datagrams to one destination (the last may be
// shorter) as ONE message with a UDP_SEGMENT control message (UDP GSO), so the kernel walks its
// stack once per run instead of once per datagram; the wire still carries ordinary datagrams. A
// run the kernel refuses (path MTU smaller than the datagrams, old kernel) is resent datagram by
// datagram and that destination is not batched again. Sockets ask for UDP_GRO, so a batch
// arriving whole is received as one buffer plus its segment size and split here.
import { Reactor, type ReactorWatch } from "./reactor.ts";
import { InetAddress } from "../src/vl1/inet_address.ts";
import {
  AF_INET,
  AF_INET6,
  EAGAIN,
  EINTR,
  errno,
  libc,
  LibcError,
  MSG_DONTWAIT,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
} from "./libc.ts";
import {
  type BoundUdpSocket,
  EINVAL,
  getIntOpt,
  intOpt,
  IP_TTL,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPV6_HOPLIMIT,
  IPV6_UNICAST_HOPS,
  MSG_TRUNC,
  SO_ERROR,
  SOCKADDR_SLOT,
  SOL_SOCKET,
  SOL_UDP,
  UDP_GRO,
  writeSockaddr,
} from "./udp_socket.ts";
import {
  GSO_CONTROL,
  type GsoArea,
  IOVEC,
  MSGHDR,
  newGsoArea,
  newSendRing,
  SEND_RING,
  SEND_SLOT,
  type SendRing,
  setPtr,
  stage,
} from "./udp_send_ring.ts";

export {
  bindUdpSocket,
  type BoundUdpSocket,
  DEFAULT_SOCKET_BUFFER,
  EADDRINUSE,
  EADDRNOTAVAIL,
  EAFNOSUPPORT,
} from "./udp_socket.ts";
export { SEND_RING, SEND_SLOT } from "./udp_send_ring.ts";

/** Datagrams per `recvmmsg` call by default. */
export const DEFAULT_BATCH = 64;
/** Bytes per receive slot by default (ZeroTier packets are far smaller). */
export const DEFAULT_SLOT = 16384;
/** Most `recvmmsg` calls per socket per poll round before polling again (lets timers run). */
export const MAX_BATCHES_PER_ROUND = 16;
/** A drain of at most this many datagrams in a stream asks for receive moderation. */
export const MODERATE_MAX_DATAGRAMS = 4;
/** "In a stream": the previous drain that took data was less than this long ago, ms. */
export const MODERATE_STREAM_GAP_MS = 0.5;
/**
 * Bulk, not an exchange: a drain asks for moderation only if its datagrams average at least this
 * many bytes. Small datagrams in quick succession are pings, RPCs, games or voice, whose next
 * request waits for the answer to this one: a nap would add to every round trip (a flood ping
 * between two zt nodes took 0.25 ms a round trip with it, 0.15 without).
 */
export const MODERATE_MIN_AVG_BYTES = 512;

/**
 * Whether a drain that took `datagrams` datagrams of `bytes` bytes in all, `sinceLastMs` after the
 * previous drain that took data, asks the reactor for receive moderation: a bulk stream arriving a
 * few datagrams at a time (e.g. from a sender without UDP GSO, as ZeroTier One sends).
 */
export function asksModeration(datagrams: number, bytes: number, sinceLastMs: number): boolean {
  return datagrams > 0 && datagrams <= MODERATE_MAX_DATAGRAMS &&
    sinceLastMs < MODERATE_STREAM_GAP_MS && bytes >= datagrams * MODERATE_MIN_AVG_BYTES;
}
/** Most waits (<= 1 ms each) for send-buffer room per ring flush before the rest is dropped. */
const MAX_SEND_STALLS = 4;

const CONTROL_SLOT = 64; // room for two CMSG_SPACE(sizeof(int)) = 24 (TTL and GRO)
/** Most datagrams in one GSO message (the kernel's limit is 64 or 128 depending on version). */
export const GSO_MAX_SEGMENTS = 64;
/** Most payload bytes in one GSO message (fits one IPv4 or IPv6 packet of at most 64 KiB). */
export const GSO_MAX_BYTES = 65000;
/** Receive slot size when UDP_GRO is on: a coalesced batch can be a whole 64 KiB packet. */
export const GRO_SLOT = 65536;
/**
 * Buffers per recvmmsg call when UDP_GRO is on (each slot is {@link GRO_SLOT} bytes, each buffer
 * carries up to ~45 datagrams). The receive area stays resident once the kernel filled it: 8 is
 * 512 KiB. An iperf3 receiver averaged 7.2 buffers per call with 32 slots (all 32 were full in 59
 * of 3,538 calls); a full call is followed by another at once.
 */
export const GRO_BATCH = 8;
const REMOTE_CACHE_MAX = 4096;

/** Called for each datagram: `data` is a view into a reused buffer (copy what you keep). */
export type UdpDatagramCallback = (socketId: number, remote: InetAddress, data: Uint8Array) => void;

/** Options of {@link LinuxUdp.start}. */
export interface LinuxUdpOptions {
  /** Receives every datagram (exceptions are caught, counted and passed to `onError`). */
  onPacket: UdpDatagramCallback;
  /** Told about callback exceptions and unexpected socket errors. */
  onError?: (e: unknown) => void;
  /** Datagrams per recvmmsg / sendmmsg call (1..1024, default 64). */
  batch?: number;
  /** Bytes per receive slot (larger datagrams are dropped and counted; default 16384). */
  slotBytes?: number;
  /** Parse IP_TTL / IPV6_HOPLIMIT control messages (sockets bound with `receiveTtl`). */
  receiveTtl?: boolean;
  /**
   * Use UDP GSO for batched sends and UDP GRO on receive where the kernel has them (default
   * true; GRO only with the default slot size or `slotBytes` >= {@link GRO_SLOT}).
   */
  offload?: boolean;
}

/** Counters of a {@link LinuxUdp}. */
export interface LinuxUdpCounters {
  /** Datagrams delivered to the callback. */
  received: number;
  /** Bytes delivered. */
  receivedBytes: number;
  /** Datagrams handed to the kernel. */
  sent: number;
  /** Bytes handed to the kernel. */
  sentBytes: number;
  /** Sends that failed (unreachable, bad address, ...). */
  sendErrors: number;
  /** Sends dropped because the socket buffer stayed full (EAGAIN). */
  sendDropped: number;
  /** Completed nonblocking polls. */
  polls: number;
  /** recvmmsg calls that returned datagrams (received / batches = datagrams per call). */
  batches: number;
  /** recvmmsg calls that filled the whole batch (the batch size limited the call). */
  fullBatches: number;
  /** Datagrams copied into a send ring by `queue`. */
  queued: number;
  /** Send syscalls made (sendto + sendmmsg; sent / sendCalls = datagrams per call). */
  sendCalls: number;
  /** Datagrams larger than a slot (dropped). */
  truncated: number;
  /** Callback exceptions. */
  callbackErrors: number;
  /** GSO messages sent (each carried 2 or more datagrams). */
  gsoMessages: number;
  /** Datagrams sent inside GSO messages. */
  gsoDatagrams: number;
  /** GSO messages the kernel refused (their datagrams were resent one by one). */
  gsoFallbacks: number;
  /** Received buffers that held several coalesced datagrams (UDP GRO). */
  groBuffers: number;
  /** Datagrams split out of coalesced buffers. */
  groDatagrams: number;
}

/**
 * A set of bound UDP sockets with one receive loop (see the file comment). Socket ids are 1..n
 * in the order given. Create with {@link LinuxUdp.start}; stop with {@link LinuxUdp.close}.
 */
export class LinuxUdp {
  /** The sockets, id = index + 1. */
  readonly sockets: readonly BoundUdpSocket[];
  /** Counters. */
  readonly counters: LinuxUdpCounters = {
    received: 0,
    receivedBytes: 0,
    sent: 0,
    sentBytes: 0,
    sendErrors: 0,
    sendDropped: 0,
    polls: 0,
    batches: 0,
    fullBatches: 0,
    queued: 0,
    sendCalls: 0,
    truncated: 0,
    callbackErrors: 0,
    gsoMessages: 0,
    gsoDatagrams: 0,
    gsoFallbacks: 0,
    groBuffers: 0,
    groDatagrams: 0,
  };
  /** TTL / hop limit of the datagram being delivered (with `receiveTtl`; else -1). */
  lastTtl = -1;
  readonly #onPacket: UdpDatagramCallback;
  readonly #onError: ((e: unknown) => void) | undefined;
  readonly #batch: number;
  readonly #slot: number;
  readonly #receiveTtl: boolean;
  /** UDP GSO for ring flushes. */
  readonly #gso: boolean;
  /** Some socket has UDP_GRO on: receive slots are 64 KiB and control messages are parsed. */
  readonly #gro: boolean;
  /** Destinations a GSO message to failed (sent datagram by datagram from then on). */
  readonly #noGso = new WeakSet<InetAddress>();
  #closed = false;
  /** The reactor's watches of the sockets (index i <-> socket i). */
  #watches: ReactorWatch[] = [];
  /** The reactor watching the sockets (receive moderation). */
  #reactor: Reactor | undefined;
  /** When a drain last took data (performance.now(), ms). */
  #lastDataDrain = -Infinity;
  // receive area: [data batch*slot][names batch*32][iovecs batch*16][mmsghdrs batch*64][control]
  readonly #rx: Uint8Array;
  readonly #rxMsgs: Uint8Array; // view of the mmsghdr array (for the FFI call)
  readonly #rxU32: Uint32Array; // the mmsghdr array as u32 words
  readonly #rxView: DataView; // the whole receive area
  readonly #namesOff: number;
  readonly #controlOff: number;
  // send area for sendmmsg (same layout), allocated on first use
  #tx: Uint8Array | undefined;
  #txMsgs: Uint8Array | undefined;
  #txU32: Uint32Array | undefined;
  #txIov: Uint32Array | undefined;
  readonly #sa = new Uint8Array(SOCKADDR_SLOT);
  #saFor: InetAddress | undefined;
  #saLen = 0;
  readonly #ttlOpt = new Uint8Array(4);
  readonly #v4Cache = new Map<number, InetAddress>();
  readonly #v6Cache = new Map<number, InetAddress>();
  /** Send ring per socket index (allocated on first use). */
  readonly #rings: (SendRing | undefined)[];
  #flushScheduled = false;
  readonly #flushTask = () => {
    this.#flushScheduled = false;
    this.flush();
  };

  private constructor(sockets: BoundUdpSocket[], opts: LinuxUdpOptions) {
    this.sockets = sockets;
    this.#rings = new Array(sockets.length).fill(undefined);
    this.#onPacket = opts.onPacket;
    this.#onError = opts.onError;
    const offload = opts.offload ?? true;
    this.#gso = offload;
    let gro = false;
    // UDP_GRO needs 64 KiB slots (a smaller one would truncate a coalesced buffer)
    if (offload && (opts.slotBytes === undefined || opts.slotBytes >= GRO_SLOT)) {
      const one = intOpt(1);
      for (const s of sockets) {
        if (libc().setsockopt(s.fd, SOL_UDP, UDP_GRO, one, 4) === 0) gro = true;
      }
    }
    this.#gro = gro;
    const batch = opts.batch ?? (gro ? GRO_BATCH : DEFAULT_BATCH);
    this.#batch = Math.max(1, Math.min(1024, Math.floor(batch)));
    const slot = Math.max(opts.slotBytes ?? DEFAULT_SLOT, gro ? GRO_SLOT : 0);
    this.#slot = Math.max(64, Math.min(65536, Math.floor(slot)));
    this.#receiveTtl = opts.receiveTtl ?? false;
    const area = LinuxUdp.#area(this.#batch, this.#slot, this.#receiveTtl || gro);
    this.#rx = area.buf;
    this.#rxMsgs = area.msgs;
    this.#rxU32 = area.u32;
    this.#rxView = new DataView(area.buf.buffer);
    this.#namesOff = area.namesOff;
    this.#controlOff = area.controlOff;
  }

  /** Allocates one mmsghdr area with every pointer filled in. */
  static #area(batch: number, slot: number, control: boolean) {
    const namesOff = batch * slot;
    const iovOff = namesOff + batch * SOCKADDR_SLOT;
    const msgsOff = iovOff + batch * IOVEC;
    const controlOff = msgsOff + batch * MSGHDR;
    const size = controlOff + (control ? batch * CONTROL_SLOT : 0);
    const buf = new Uint8Array(size);
    const base = Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf));
    const dv = new DataView(buf.buffer);
    for (let i = 0; i < batch; i++) {
      const iov = iovOff + i * IOVEC;
      dv.setBigUint64(iov, base + BigInt(i * slot), true);
      dv.setBigUint64(iov + 8, BigInt(slot), true);
      const m = msgsOff + i * MSGHDR;
      dv.setBigUint64(m, base + BigInt(namesOff + i * SOCKADDR_SLOT), true); // msg_name
      dv.setUint32(m + 8, SOCKADDR_SLOT, true); // msg_namelen
      dv.setBigUint64(m + 16, base + BigInt(iov), true); // msg_iov
      dv.setBigUint64(m + 24, 1n, true); // msg_iovlen
      if (control) {
        dv.setBigUint64(m + 32, base + BigInt(controlOff + i * CONTROL_SLOT), true);
        dv.setBigUint64(m + 40, BigInt(CONTROL_SLOT), true);
      }
    }
    const msgs = buf.subarray(msgsOff, msgsOff + batch * MSGHDR);
    const u32 = new Uint32Array(buf.buffer, msgsOff, batch * (MSGHDR / 4));
    return { buf, msgs, u32, namesOff, iovOff, controlOff };
  }

  /**
   * Takes ownership of `sockets` (closed by {@link close}, also if this throws) and starts
   * receiving: each socket is watched by `reactor` (default: the process-wide
   * {@link Reactor.shared}), which drains it when readable and flushes the send rings once per
   * round. @throws Error if the reactor cannot start.
   */
  static start(sockets: BoundUdpSocket[], opts: LinuxUdpOptions, reactor?: Reactor): LinuxUdp {
    const u = new LinuxUdp(sockets, opts);
    const r = reactor ?? Reactor.shared();
    u.#reactor = r;
    try {
      sockets.forEach((s, i) => {
        u.#watches.push(
          r.watch(
            s.fd,
            (rev) => u.#onReady(i, rev),
            i === 0 ? u.#roundEnd : undefined,
            (e) => u.#report(e),
          ),
        );
      });
    } catch (e) {
      for (const w of u.#watches) void w.close();
      for (const s of sockets) libc().close(s.fd);
      throw e;
    }
    return u;
  }

  /** The reactor's round end: what the handlers sent during the round, one sendmmsg per socket. */
  readonly #roundEnd = (): void => this.flush();

  /** Closes a socket that was bound but never handed to {@link start}. */
  static closeSocket(s: BoundUdpSocket): void {
    if (s.fd >= 0) libc().close(s.fd);
    s.fd = -1;
  }

  /** The socket to use for `remote`: `id` if it has the right family, else the first that does. */
  #pick(id: number, family: 4 | 6): BoundUdpSocket | undefined {
    const i = this.#pickIndex(id, family);
    return i < 0 ? undefined : this.sockets[i];
  }

  /** Index of the socket {@link #pick} chooses, or -1. */
  #pickIndex(id: number, family: 4 | 6): number {
    const ss = this.sockets;
    const s = ss[id - 1];
    if (s !== undefined && s.family === family) return id - 1;
    for (let i = 0; i < ss.length; i++) if (ss[i].family === family) return i;
    return -1;
  }

  /**
   * Queues one datagram for the next {@link flush}, copying `data` into the socket's send ring
   * (so the caller may reuse its buffer at once). Same socket choice as {@link send}. Datagrams
   * leave in queue order per socket: one with a `ttl` (> 0, applied to it alone) or larger than
   * {@link SEND_SLOT} first flushes the ring, then goes out through {@link send}. A full ring is
   * flushed at once; otherwise a flush is scheduled as a microtask. Returns false without a
   * socket of the remote's family or after close (send failures at flush time are counted).
   */
  queue(id: number, remote: InetAddress, data: Uint8Array, ttl?: number): boolean {
    if (this.#closed) return false;
    const idx = this.#pickIndex(id, remote.family);
    if (idx < 0) return false;
    let r = this.#rings[idx];
    const len = data.length;
    if ((ttl !== undefined && ttl > 0) || len > SEND_SLOT) {
      return this.send(idx + 1, remote, data, ttl); // flushes the ring first
    }
    if (r === undefined) r = this.#rings[idx] = newSendRing();
    const k = stage(r, remote, data);
    r.count = k + 1;
    this.counters.queued++;
    if (k + 1 === SEND_RING) this.#flushRing(idx, r);
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flushTask);
    }
    return true;
  }

  /**
   * A rehearsal of {@link queue} (see `Core.rehearse`): the datagram is written into the ring's
   * next free slot but not counted in, and `sendmmsg` is called with no message (the kernel
   * returns 0 at once). Nothing is sent, counted or scheduled.
   */
  rehearseQueue(id: number, remote: InetAddress, data: Uint8Array): void {
    if (this.#closed) return;
    const idx = this.#pickIndex(id, remote.family);
    if (idx < 0 || data.length > SEND_SLOT) return;
    const r = this.#rings[idx] ??= newSendRing();
    if (r.count >= SEND_RING) return;
    stage(r, remote, data);
    const s = this.sockets[idx];
    if (s.fd >= 0) libc().sendmmsg(s.fd, r.msgs, 0, 0);
  }

  /** Hands every queued datagram to the kernel: one `sendmmsg` per socket with a non-empty ring. */
  flush(): void {
    const rings = this.#rings;
    for (let i = 0; i < rings.length; i++) {
      const r = rings[i];
      if (r !== undefined && r.count > 0) this.#flushRing(i, r);
    }
  }

  /** Sends ring `r` of socket index `idx` (EAGAIN: waits <= 1 ms, a few times, then drops). */
  #flushRing(idx: number, r: SendRing): void {
    const count = r.count;
    r.count = 0;
    const s = this.sockets[idx];
    if (this.#closed || s.fd < 0) return;
    if (this.#gso && count > 1) this.#sendRingGso(s, r, count);
    else this.#sendMessages(s, r, undefined, 0, count);
  }

  /**
   * Hands messages [from, to) to the kernel with as few `sendmmsg` calls as it takes. Without
   * `g` they are the ring's own (message j = datagram j); with `g`, GSO message j carries ring
   * datagrams [g.runStart[j], g.runEnd[j]). EAGAIN: waits <= 1 ms a few times, then drops the
   * rest. A failed datagram is skipped and counted; a refused GSO message is resent datagram by
   * datagram and its destination is not batched again.
   */
  #sendMessages(s: BoundUdpSocket, r: SendRing, g: GsoArea | undefined, from: number, to: number) {
    const l = libc();
    const c = this.counters;
    const msgs = g ? g.msgs : r.msgs;
    let off = from;
    let stalls = 0;
    while (off < to) {
      c.sendCalls++;
      const n = l.sendmmsg(s.fd, off === 0 ? msgs : msgs.subarray(off * MSGHDR), to - off, 0);
      if (n > 0) {
        for (let j = off; j < off + n; j++) {
          const a = g ? g.runStart[j] : j, b = g ? g.runEnd[j] : j + 1;
          for (let d = a; d < b; d++) c.sentBytes += r.lens[d];
          c.sent += b - a;
          if (b - a > 1) {
            c.gsoMessages++;
            c.gsoDatagrams += b - a;
          }
        }
        off += n;
        continue;
      }
      const code = errno();
      if (code === EINTR) continue;
      if (code === EAGAIN) {
        if (stalls++ < MAX_SEND_STALLS) {
          this.#waitWritable(s.fd);
          continue;
        }
        // the socket stays full: drop the rest of this round
        c.sendDropped += g ? g.runEnd[to - 1] - g.runStart[off] : to - off;
        return;
      }
      const a = g ? g.runStart[off] : off, b = g ? g.runEnd[off] : off + 1;
      if (b - a > 1) {
        // refused as a batch (EINVAL/EMSGSIZE: path MTU below the datagram size, old kernel...)
        c.gsoFallbacks++;
        this.#noGso.add(r.remotes[a]!);
        this.#sendMessages(s, r, undefined, a, b);
      } else {
        c.sendErrors++; // this datagram failed (unreachable, ...): skip it, send the rest
        if (g && code === EINVAL) this.#noGso.add(r.remotes[a]!);
      }
      off++;
    }
  }

  /**
   * Sends ring datagrams [0, count) grouping each run of equal-sized datagrams to one destination
   * (the run's last may be shorter) into one GSO message; a refused GSO message is resent
   * datagram by datagram and its destination is not batched again.
   */
  #sendRingGso(s: BoundUdpSocket, r: SendRing, count: number): void {
    const g = r.gso ?? (r.gso = newGsoArea(r));
    const lens = r.lens, remotes = r.remotes, u32 = g.u32, ringU32 = r.u32;
    let m = 0;
    for (let k = 0; k < count;) {
      const size = lens[k];
      let end = k + 1;
      if (!this.#noGso.has(r.remotes[k]!)) {
        let total = size;
        while (
          end < count && end - k < GSO_MAX_SEGMENTS && remotes[end] === remotes[k] &&
          lens[end] <= size &&
          total + lens[end] <= GSO_MAX_BYTES
        ) {
          total += lens[end];
          end++;
          if (lens[end - 1] < size) break; // a shorter datagram ends the run
        }
      }
      const segs = end - k;
      const w = (m * MSGHDR) >> 2;
      setPtr(u32, w, g.namesPtr + k * SOCKADDR_SLOT); // msg_name
      u32[w + 2] = ringU32[((k * MSGHDR) >> 2) + 2]; // msg_namelen
      setPtr(u32, w + 4, g.iovPtr + k * IOVEC); // msg_iov
      u32[w + 6] = segs; // msg_iovlen (low half)
      u32[w + 10] = segs > 1 ? GSO_CONTROL : 0; // msg_controllen (low half)
      if (segs > 1) g.dv.setUint16(g.controlOff + m * GSO_CONTROL + 16, size, true);
      g.runStart[m] = k;
      g.runEnd[m] = end;
      m++;
      k = end;
    }
    this.#sendMessages(s, r, g, 0, m);
  }

  /**
   * Sends one datagram synchronously from `data` (not retained). `id` picks the socket (an
   * unknown id or one of the other family: the first socket of the remote's family). `ttl` > 0
   * sets IP_TTL / IPV6_UNICAST_HOPS for this datagram only. On EAGAIN waits up to 1 ms for room
   * once, then drops (counted). Datagrams this socket has {@link queue}d go first (ordering).
   * Returns whether the kernel took it.
   */
  send(id: number, remote: InetAddress, data: Uint8Array, ttl?: number): boolean {
    if (this.#closed) return false;
    const idx = this.#pickIndex(id, remote.family);
    if (idx < 0) return false;
    const s = this.sockets[idx];
    const ring = this.#rings[idx];
    if (ring !== undefined && ring.count > 0) this.#flushRing(idx, ring);
    const l = libc();
    if (this.#saFor !== remote) {
      this.#saLen = writeSockaddr(this.#sa, 0, remote);
      this.#saFor = remote;
    }
    const withTtl = ttl !== undefined && ttl > 0 && ttl < 256;
    if (withTtl) this.#setTtl(s, ttl);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        this.counters.sendCalls++;
        const n = l.sendto(s.fd, data, data.length, 0, this.#sa, this.#saLen);
        if (n >= 0) {
          this.counters.sent++;
          this.counters.sentBytes += data.length;
          return true;
        }
        const code = errno();
        if (code === EINTR) continue;
        if (code === EAGAIN && attempt === 0) {
          this.#waitWritable(s.fd);
          continue;
        }
        if (code === EAGAIN) this.counters.sendDropped++;
        else this.counters.sendErrors++;
        return false;
      }
      this.counters.sendDropped++;
      return false;
    } finally {
      if (withTtl) this.#setTtl(s, -1);
    }
  }

  /** Sets the unicast TTL / hop limit of `s` (-1 = the system default). */
  #setTtl(s: BoundUdpSocket, ttl: number): void {
    new DataView(this.#ttlOpt.buffer).setInt32(0, ttl, true);
    if (s.family === 4) libc().setsockopt(s.fd, IPPROTO_IP, IP_TTL, this.#ttlOpt, 4);
    else libc().setsockopt(s.fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, this.#ttlOpt, 4);
  }

  /** Blocks the JS thread up to 1 ms until `fd` is writable (the send buffer drains fast). */
  #waitWritable(fd: number): void {
    const p = new Uint8Array(8);
    const dv = new DataView(p.buffer);
    dv.setInt32(0, fd, true);
    dv.setInt16(4, POLLOUT, true);
    libc().poll(p, 1n, 1);
  }

  /**
   * Sends `datas[0..count)` with as few `sendmmsg` calls as the batch size allows, each datagram
   * to `remotes` (one address for all, or one per datagram), copying them into a staging buffer.
   * Datagrams larger than a slot or of a family without a socket are skipped. Returns the number
   * the kernel took.
   */
  sendMany(
    id: number,
    remotes: InetAddress | readonly InetAddress[],
    datas: readonly Uint8Array[],
    count = datas.length,
  ): number {
    if (this.#closed) return 0;
    this.flush(); // queued datagrams go first
    if (!this.#tx) {
      const a = LinuxUdp.#area(this.#batch, this.#slot, false);
      this.#tx = a.buf;
      this.#txMsgs = a.msgs;
      this.#txU32 = a.u32;
      this.#txIov = new Uint32Array(a.buf.buffer, a.iovOff, this.#batch * (IOVEC / 4));
    }
    const tx = this.#tx, u32 = this.#txU32!, msgs = this.#txMsgs!, u32Iov = this.#txIov!;
    const l = libc();
    let total = 0;
    let i = 0;
    const n = Math.min(count, datas.length);
    while (i < n) {
      // group consecutive datagrams for the same socket
      let s: BoundUdpSocket | undefined;
      let k = 0;
      while (i < n && k < this.#batch) {
        const r = Array.isArray(remotes) ? (remotes as InetAddress[])[i] : remotes as InetAddress;
        const d = datas[i];
        const rs = r ? this.#pick(id, r.family) : undefined;
        if (!r || !rs || d.length > this.#slot) {
          this.counters.sendErrors++;
          i++;
          continue;
        }
        if (s && rs !== s) break;
        s = rs;
        tx.set(d, k * this.#slot);
        const saLen = writeSockaddr(tx, this.#namesOff + k * SOCKADDR_SLOT, r);
        const w = (k * MSGHDR) >> 2;
        u32[w + 2] = saLen; // msg_namelen
        u32Iov[(k * IOVEC + 8) >> 2] = d.length; // iov_len (low half)
        k++;
        i++;
      }
      if (!s || k === 0) continue;
      let off = 0;
      let stalls = 0;
      while (off < k) {
        this.counters.sendCalls++;
        const r = l.sendmmsg(s.fd, msgs.subarray(off * MSGHDR), k - off, 0);
        if (r > 0) {
          off += r;
          continue;
        }
        const code = errno();
        if (code === EINTR) continue;
        if (code === EAGAIN && stalls++ === 0) {
          this.#waitWritable(s.fd);
          continue;
        }
        // skip the datagram that failed
        if (code === EAGAIN) this.counters.sendDropped++;
        else this.counters.sendErrors++;
        off++;
      }
      for (let j = 0; j < k; j++) {
        const sent = u32[(j * MSGHDR + 56) >> 2];
        if (sent > 0) {
          total++;
          this.counters.sent++;
          this.counters.sentBytes += sent;
        }
        u32[(j * MSGHDR + 56) >> 2] = 0;
      }
    }
    return total;
  }

  /** Decodes the sender of receive slot `i`, from the cache when seen before. */
  #remote(i: number): InetAddress | undefined {
    const b = this.#rx;
    const o = this.#namesOff + i * SOCKADDR_SLOT;
    const fam = b[o] | (b[o + 1] << 8);
    const port = (b[o + 2] << 8) | b[o + 3];
    if (fam === AF_INET) {
      const key = ((b[o + 4] << 24 | b[o + 5] << 16 | b[o + 6] << 8 | b[o + 7]) >>> 0) * 65536 +
        port;
      let a = this.#v4Cache.get(key);
      if (a === undefined) {
        if (this.#v4Cache.size >= REMOTE_CACHE_MAX) this.#v4Cache.clear();
        a = new InetAddress(b.subarray(o + 4, o + 8), port);
        this.#v4Cache.set(key, a);
      }
      return a;
    }
    if (fam !== AF_INET6) return undefined;
    let h = 0x811c9dc5 ^ port;
    for (let j = o + 8; j < o + 24; j++) h = Math.imul(h ^ b[j], 0x01000193);
    let a = this.#v6Cache.get(h);
    if (a !== undefined && a.port === port) {
      const ip = a.ip;
      let same = true;
      for (let j = 0; j < 16; j++) {
        if (ip[j] !== b[o + 8 + j]) {
          same = false;
          break;
        }
      }
      if (same) return a;
    }
    if (this.#v6Cache.size >= REMOTE_CACHE_MAX) this.#v6Cache.clear();
    a = new InetAddress(b.subarray(o + 8, o + 24), port);
    this.#v6Cache.set(h, a);
    return a;
  }

  /**
   * Reads the control messages of slot `i`: sets {@link lastTtl} (-1 if absent) and returns the
   * UDP GRO segment size (0 if the buffer holds one datagram).
   */
  #control(i: number): number {
    const w = (i * MSGHDR) >> 2;
    const clen = Math.min(this.#rxU32[w + 10], CONTROL_SLOT); // msg_controllen (low half)
    const base = this.#controlOff + i * CONTROL_SLOT;
    const dv = this.#rxView;
    let ttl = -1;
    let gso = 0;
    for (let o = 0; o + 20 <= clen;) {
      const len = dv.getUint32(base + o, true); // cmsg_len (low half)
      if (len < 16 || o + len > clen) break;
      const level = dv.getInt32(base + o + 8, true);
      const type = dv.getInt32(base + o + 12, true);
      const value = dv.getInt32(base + o + 16, true);
      if (level === SOL_UDP && type === UDP_GRO) gso = value;
      else if (
        (level === IPPROTO_IP && type === IP_TTL) ||
        (level === IPPROTO_IPV6 && type === IPV6_HOPLIMIT)
      ) ttl = value;
      o += (len + 7) & ~7;
    }
    this.lastTtl = ttl;
    return gso;
  }

  /** Delivers what socket `index` has queued now (bounded); returns the datagram count. */
  drainSocket(index: number): number {
    const bytesBefore = this.counters.receivedBytes;
    const got = this.#drainSocket(index);
    // receive moderation: a few large datagrams again right after the last large ones is a bulk
    // stream that arrives a datagram at a time: take it in larger rounds (small ones - a ping,
    // ACKs - never ask for it, so they read no clock)
    const bytes = this.counters.receivedBytes - bytesBefore;
    if (got > 0 && bytes >= got * MODERATE_MIN_AVG_BYTES) {
      const now = performance.now();
      if (asksModeration(got, bytes, now - this.#lastDataDrain)) this.#reactor?.moderate();
      this.#lastDataDrain = now;
    }
    return got;
  }

  #drainSocket(index: number): number {
    const s = this.sockets[index];
    if (!s || this.#closed) return 0;
    const l = libc();
    const u32 = this.#rxU32;
    const rx = this.#rx;
    const batch = this.#batch;
    const slot = this.#slot;
    const id = index + 1;
    const cb = this.#onPacket;
    const control = this.#receiveTtl || this.#gro;
    let total = 0;
    let used = batch; // entries whose namelen/controllen need resetting
    for (let round = 0; round < MAX_BATCHES_PER_ROUND && !this.#closed; round++) {
      for (let i = 0; i < used; i++) {
        const w = (i * MSGHDR) >> 2;
        u32[w + 2] = SOCKADDR_SLOT;
        if (control) u32[w + 10] = CONTROL_SLOT;
      }
      const n = l.recvmmsg(s.fd, this.#rxMsgs, batch, MSG_DONTWAIT, null);
      if (n <= 0) {
        if (n < 0) {
          const code = errno();
          if (code === EINTR) {
            used = 0;
            continue;
          }
          if (code !== EAGAIN) this.#report(new LibcError(`recvmmsg ${s.local}`, code));
        }
        break;
      }
      used = n;
      this.counters.batches++;
      if (n === batch) this.counters.fullBatches++;
      for (let i = 0; i < n && !this.#closed; i++) {
        const w = (i * MSGHDR) >> 2;
        const len = u32[w + 14];
        if ((u32[w + 12] & MSG_TRUNC) !== 0 || len > slot) {
          this.counters.truncated++;
          continue;
        }
        const remote = this.#remote(i);
        if (remote === undefined) continue;
        const seg = control ? this.#control(i) : 0;
        const start = i * slot;
        if (seg > 0 && seg < len) {
          // several datagrams coalesced by UDP GRO: every one seg bytes, the last maybe shorter
          this.counters.groBuffers++;
          for (let o = 0; o < len && !this.#closed; o += seg) {
            const end = Math.min(len, o + seg);
            total++;
            this.counters.groDatagrams++;
            this.counters.received++;
            this.counters.receivedBytes += end - o;
            try {
              cb(id, remote, rx.subarray(start + o, start + end));
            } catch (e) {
              this.counters.callbackErrors++;
              this.#report(e);
            }
          }
          continue;
        }
        total++;
        this.counters.received++;
        this.counters.receivedBytes += len;
        try {
          cb(id, remote, rx.subarray(start, start + len));
        } catch (e) {
          this.counters.callbackErrors++;
          this.#report(e);
        }
      }
      if (n < batch) break; // the queue is most likely empty; poll will tell
    }
    return total;
  }

  #report(e: unknown): void {
    try {
      this.#onError?.(e);
    } catch {
      // an error handler that throws must not stop the loop
    }
  }

  /** One socket's poll result: drains it when readable, reports socket errors. */
  #onReady(i: number, rev: number): void {
    if (this.#closed) return;
    this.counters.polls++;
    if (rev & POLLIN) this.drainSocket(i);
    if (rev & POLLNVAL) {
      this.#report(new Error(`UDP socket ${this.sockets[i].local} is no longer open`));
      void this.#watches[i]?.close();
    } else if (rev & (POLLERR | POLLHUP)) {
      // a pending socket error (e.g. from ICMP): read it to clear the condition
      const code = getIntOpt(this.sockets[i].fd, SOL_SOCKET, SO_ERROR);
      if (code > 0) this.#report(new LibcError(`UDP socket ${this.sockets[i].local}`, code));
    }
  }

  /** Stops watching the sockets (promptly: the reactor is woken) and closes them. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush(); // what was queued still leaves
    this.#closed = true;
    await Promise.all(this.#watches.map((w) => w.close()));
    this.#watches = [];
    const l = libc();
    for (const s of this.sockets) {
      if (s.fd >= 0) l.close(s.fd);
      s.fd = -1;
    }
  }
}
