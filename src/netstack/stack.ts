// NetStack: one userspace IP host on an Ethernet link (sans-I/O): ARP/NDP, IPv4/IPv6, ICMP echo, UDP and TCP sockets; time is passed in, tick(now) returns the next deadline.
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, parseArp, writeArp } from "./arp.ts";
import type { ByteQueue } from "./byte_queue.ts";
import {
  ETH_ARP,
  ETH_HLEN,
  ETH_IPV4,
  ETH_IPV6,
  MAC_BROADCAST,
  newFrame,
  parseEth,
} from "./ethernet.ts";
import {
  ICMP6_ECHO_REPLY,
  ICMP6_ECHO_REQUEST,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  NDP_NA,
  NDP_NS,
  ndpBody,
  parseIcmp4,
  parseIcmp6,
  parseNdp,
  writeIcmp4,
  writeIcmp6,
} from "./icmp.ts";
import { inPrefix, type IpAddr, ipEqual, ipKey, isUnspecified, parseIp } from "./ip_addr.ts";
import { parseIpv4, Reassembler, writeIpv4Header } from "./ipv4.ts";
import {
  linkLocalFromMac,
  multicastMac,
  parseIpv6,
  solicitedNode,
  writeIpv6Header,
} from "./ipv6.ts";
import { DEFAULT_TCP_CONFIG, type TcpConfig, TcpConnection } from "./tcp.ts";
import {
  ACK,
  parseTcp,
  RST,
  SYN,
  tcpOptionsLen,
  type TcpOut,
  type TcpSegment,
  writeTcp,
} from "./tcp_segment.ts";
import { parseUdp, writeUdp } from "./udp.ts";

/** An address assigned to the stack's interface. */
export interface StackAddress {
  ip: IpAddr;
  /** Prefix length (on-link range). */
  bits: number;
}

/** A route: destinations in `target/bits` go via `via` (on-link if absent). */
export interface StackRoute {
  target: IpAddr;
  bits: number;
  via?: IpAddr;
}

/** Limits that keep the stack's memory bounded. */
export interface StackLimits {
  /** Most TCP connections (all states). */
  maxConnections: number;
  /** Neighbor cache entries. */
  maxNeighbors: number;
  /** Packets queued per unresolved neighbor. */
  maxPendingPerNeighbor: number;
  /** Bytes queued for all unresolved neighbors together (beyond, new packets are dropped). */
  maxPendingBytes: number;
  /** Neighbor entry lifetime, ms. */
  neighborTtl: number;
  /** Most UDP datagrams queued per socket. */
  udpQueue: number;
}

/** Construction options of {@link NetStack}. */
export interface NetStackOptions {
  /** Our MAC (48-bit number). */
  mac: number;
  /** Link MTU (IP packet size). */
  mtu: number;
  /** Sends one Ethernet frame on the link. */
  send: (frame: Uint8Array) => void;
  /** Random bytes (ISNs, ephemeral ports, IP ids). */
  random: (n: number) => Uint8Array;
  /** TCP tunables (merged over {@link DEFAULT_TCP_CONFIG}). */
  tcp?: Partial<TcpConfig>;
  /** Limits (merged over {@link DEFAULT_STACK_LIMITS}). */
  limits?: Partial<StackLimits>;
}

/** Defaults of {@link StackLimits}. */
export const DEFAULT_STACK_LIMITS: StackLimits = {
  maxConnections: 4096,
  maxNeighbors: 1024,
  maxPendingPerNeighbor: 32,
  maxPendingBytes: 1 << 20,
  neighborTtl: 300_000,
  udpQueue: 256,
};

/** Counters of the stack (monotonic). */
export interface StackCounters {
  framesIn: number;
  framesOut: number;
  /** Frames dropped as malformed (any layer). */
  malformed: number;
  /** Frames not for us (other MAC/IP, unknown protocol). */
  ignored: number;
  /** Packets dropped for lack of a neighbor or a route. */
  unreachable: number;
  /** SYNs dropped because a listener's backlog was full or the connection cap was hit. */
  synDropped: number;
  /** RSTs sent for segments to no connection. */
  rstSent: number;
  echoRepliesSent: number;
}

interface Neighbor {
  mac: number | undefined;
  expires: number;
  /** Frames waiting for resolution (IP packets without Ethernet header). */
  pending: { type: number; packet: Uint8Array }[];
  nextQuery: number;
  queries: number;
}

/** A TCP listener. */
export class TcpListener {
  /** Port listened on. */
  readonly port: number;
  /** Most connections waiting (handshaking + not yet accepted). */
  readonly backlog: number;
  /** Connections established and not yet accepted. */
  readonly queue: TcpConnection[] = [];
  /** Handshakes in progress. */
  embryonic = 0;
  /** Called when a connection is added to {@link queue}. */
  onAccept: (() => void) | undefined;
  closed = false;
  /** @internal */
  constructor(port: number, backlog: number) {
    this.port = port;
    this.backlog = backlog;
  }
  /** Takes the next established connection. */
  accept(): TcpConnection | undefined {
    return this.queue.shift();
  }
}

/** A received UDP datagram. */
export interface UdpMessage {
  from: IpAddr;
  port: number;
  data: Uint8Array;
}

/** A bound UDP socket. */
export class UdpSocket {
  /** Bound port. */
  readonly port: number;
  /** Received datagrams (bounded; drops beyond). */
  readonly queue: UdpMessage[] = [];
  /** Called on each arrival. */
  onMessage: (() => void) | undefined;
  /** Datagrams dropped because the queue was full. */
  dropped = 0;
  readonly #stack: NetStack;
  /** @internal */
  constructor(stack: NetStack, port: number) {
    this.#stack = stack;
    this.port = port;
  }
  /** Sends `data` to `ip`:`port`; false if there is no route or it is too big. */
  send(now: number, ip: IpAddr, port: number, data: Uint8Array): boolean {
    return this.#stack.sendUdp(now, this.port, ip, port, data);
  }
  /** Unbinds. */
  close(): void {
    this.#stack.unbindUdp(this.port);
  }
}

/** An echo reply received (for ping). */
export interface EchoReply {
  from: IpAddr;
  id: number;
  seq: number;
  data: Uint8Array;
}

const V4_BROADCAST = new Uint8Array([255, 255, 255, 255]);
const ALL_NODES = new Uint8Array([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

/** The userspace IP host. */
export class NetStack {
  /** Our MAC. */
  readonly mac: number;
  /** Counters. */
  readonly counters: StackCounters = {
    framesIn: 0,
    framesOut: 0,
    malformed: 0,
    ignored: 0,
    unreachable: 0,
    synDropped: 0,
    rstSent: 0,
    echoRepliesSent: 0,
  };
  /** Echo replies to our pings. */
  onEchoReply: ((r: EchoReply) => void) | undefined;
  #mtu: number;
  readonly #send: (frame: Uint8Array) => void;
  readonly #random: (n: number) => Uint8Array;
  readonly #tcpCfg: TcpConfig;
  readonly #limits: StackLimits;
  #addresses: StackAddress[] = [];
  #routes: StackRoute[] = [];
  readonly #linkLocal: IpAddr;
  readonly #neighbors = new Map<string, Neighbor>();
  readonly #conns = new Map<string, TcpConnection>();
  readonly #listeners = new Map<number, TcpListener>();
  readonly #udp = new Map<number, UdpSocket>();
  readonly #reasm = new Reassembler();
  /** Lazy min-heap of [deadline, connection key]. */
  #heap: [number, TcpConnection][] = [];
  #ipId: number;
  #nextEphemeral: number;
  /** The latest time the stack was given (input, tick, socket calls). */
  #clock = 0;
  /** Bytes of packets waiting for neighbor resolution. */
  #pendingBytes = 0;

  constructor(opts: NetStackOptions) {
    this.mac = opts.mac;
    this.#mtu = opts.mtu;
    this.#send = opts.send;
    this.#random = opts.random;
    this.#tcpCfg = { ...DEFAULT_TCP_CONFIG, ...opts.tcp };
    this.#limits = { ...DEFAULT_STACK_LIMITS, ...opts.limits };
    this.#linkLocal = linkLocalFromMac(opts.mac);
    const r = opts.random(4);
    this.#ipId = (r[0] << 8) | r[1];
    this.#nextEphemeral = 49152 + (((r[2] << 8) | r[3]) % 16384);
  }

  /** Link MTU. */
  get mtu(): number {
    return this.#mtu;
  }
  set mtu(v: number) {
    this.#mtu = Math.max(1280, Math.min(9000, v));
  }

  /** Assigned addresses. */
  get addresses(): StackAddress[] {
    return [...this.#addresses];
  }
  /** Replaces the assigned addresses. */
  setAddresses(a: StackAddress[]): void {
    this.#addresses = a.map((x) => ({ ip: x.ip.slice(), bits: x.bits }));
  }
  /** Replaces the routes. */
  setRoutes(r: StackRoute[]): void {
    this.#routes = r.map((x) => ({ target: x.target.slice(), bits: x.bits, via: x.via?.slice() }));
  }
  /** The IPv6 link-local address (fe80::/64 from our MAC). */
  get linkLocal(): IpAddr {
    return this.#linkLocal;
  }
  /** Number of TCP connections in any state. */
  get connectionCount(): number {
    return this.#conns.size;
  }
  /** Number of neighbor entries. */
  get neighborCount(): number {
    return this.#neighbors.size;
  }
  /** IPv4 fragments in reassembly. */
  get reassemblyPending(): number {
    return this.#reasm.pending;
  }
  /** Every TCP connection (for stats and tests). */
  connections(): TcpConnection[] {
    return [...this.#conns.values()];
  }

  /** Ethernet multicast groups to subscribe to: (broadcast, IPv4) per IPv4 address, solicited-node MACs. */
  multicastGroups(): { mac: number; adi: number }[] {
    const out: { mac: number; adi: number }[] = [];
    for (const a of this.#addresses) {
      if (a.ip.length === 4) {
        out.push({
          mac: MAC_BROADCAST,
          adi: ((a.ip[0] << 24) | (a.ip[1] << 16) | (a.ip[2] << 8) | a.ip[3]) >>> 0,
        });
      } else out.push({ mac: multicastMac(solicitedNode(a.ip)), adi: 0 });
    }
    out.push({ mac: multicastMac(solicitedNode(this.#linkLocal)), adi: 0 });
    out.push({ mac: multicastMac(ALL_NODES), adi: 0 });
    return out;
  }

  // ---- sockets ---------------------------------------------------------------------------------

  /** Listens on TCP `port` with at most `backlog` pending connections. */
  listen(port: number, backlog = 128): TcpListener {
    if (!(port > 0 && port < 65536)) throw new RangeError(`zt: bad TCP port ${port}`);
    if (this.#listeners.has(port)) throw new Error(`zt: TCP port ${port} is already listened on`);
    const l = new TcpListener(port, Math.max(1, backlog));
    this.#listeners.set(port, l);
    return l;
  }

  /** Stops listening (pending, unaccepted connections are reset). */
  unlisten(now: number, l: TcpListener): void {
    if (this.#listeners.get(l.port) === l) this.#listeners.delete(l.port);
    l.closed = true;
    for (const c of l.queue.splice(0)) c.abort(now);
  }

  /**
   * Opens a TCP connection to `ip`:`port` (SYN sent now).
   * @throws Error when there is no source address for `ip` or too many connections.
   */
  connect(now: number, ip: IpAddr, port: number, localPort?: number): TcpConnection {
    this.#clock = Math.max(this.#clock, now);
    if (!(port > 0 && port < 65536)) throw new RangeError(`zt: bad TCP port ${port}`);
    const src = this.#sourceFor(ip);
    if (!src || !this.#nextHop(ip)) {
      throw new Error(`zt: no route to ${ipKey(ip)} (not on the network and no managed route)`);
    }
    if (this.#conns.size >= this.#limits.maxConnections) {
      throw new Error(`zt: too many TCP connections (${this.#limits.maxConnections})`);
    }
    let lport = localPort ?? 0;
    if (!lport) {
      for (let i = 0; i < 16384; i++) {
        const p = this.#nextEphemeral;
        this.#nextEphemeral = p >= 65535 ? 49152 : p + 1;
        if (!this.#conns.has(connKey(ip, port, p)) && !this.#listeners.has(p)) {
          lport = p;
          break;
        }
      }
      if (!lport) throw new Error("zt: no free local TCP port");
    }
    const c = this.#newConn(now, src, lport, ip, port);
    c.openActive(now);
    this.#schedule(c);
    return c;
  }

  /** Binds UDP `port` (0 = ephemeral). */
  bindUdp(port = 0): UdpSocket {
    let p = port;
    if (!p) {
      for (let i = 0; i < 16384 && !p; i++) {
        const q = this.#nextEphemeral;
        this.#nextEphemeral = q >= 65535 ? 49152 : q + 1;
        if (!this.#udp.has(q)) p = q;
      }
    }
    if (!(p > 0 && p < 65536)) throw new RangeError(`zt: bad UDP port ${port}`);
    if (this.#udp.has(p)) throw new Error(`zt: UDP port ${p} is already bound`);
    const s = new UdpSocket(this, p);
    this.#udp.set(p, s);
    return s;
  }

  /** @internal */
  unbindUdp(port: number): void {
    this.#udp.delete(port);
  }

  /** @internal sends a UDP datagram. */
  sendUdp(now: number, sport: number, ip: IpAddr, dport: number, data: Uint8Array): boolean {
    this.#clock = Math.max(this.#clock, now);
    const src = this.#sourceFor(ip);
    if (!src) return false;
    const hdr = ip.length === 4 ? 20 : 40;
    if (hdr + 8 + data.length > this.#mtu) return false;
    const l4 = new Uint8Array(8 + data.length);
    writeUdp(l4, 0, sport, dport, src, ip, data);
    return this.#sendIp(now, src, ip, 17, l4);
  }

  /** Sends an ICMP/ICMPv6 echo request. */
  ping(now: number, ip: IpAddr, id: number, seq: number, data = new Uint8Array(0)): boolean {
    this.#clock = Math.max(this.#clock, now);
    const src = this.#sourceFor(ip);
    if (!src) return false;
    const body = new Uint8Array(4 + data.length);
    body.set([id >> 8, id & 0xff, seq >> 8, seq & 0xff], 0);
    body.set(data, 4);
    const l4 = new Uint8Array(4 + body.length);
    if (ip.length === 4) writeIcmp4(l4, 0, ICMP_ECHO_REQUEST, 0, body);
    else writeIcmp6(l4, 0, ICMP6_ECHO_REQUEST, 0, body, src, ip);
    return this.#sendIp(now, src, ip, ip.length === 4 ? 1 : 58, l4);
  }

  // ---- time ------------------------------------------------------------------------------------

  /** Runs timers due at `now`; returns the next deadline (ms, Infinity if none). */
  tick(now: number): number {
    this.#clock = Math.max(this.#clock, now);
    const h = this.#heap;
    while (h.length > 0 && h[0][0] <= now) {
      const [, c] = heapPop(h);
      if (c.state === "CLOSED" || c.deadline > now) {
        if (c.state !== "CLOSED" && c.deadline !== Infinity && c.deadline > now) {
          heapPush(h, [c.deadline, c]);
        }
        continue;
      }
      c.tick(now);
      this.#schedule(c);
    }
    if (h.length > 4 * this.#conns.size + 64) {
      this.#heap = [];
      for (const c of this.#conns.values()) this.#schedule(c);
    }
    this.#reasm.expire(now);
    for (const [k, n] of this.#neighbors) {
      if (n.mac === undefined && n.nextQuery <= now) {
        if (n.queries >= 3) {
          this.counters.unreachable += n.pending.length;
          this.#dropNeighbor(k);
        } else this.#query(now, n, k);
      } else if (n.mac !== undefined && n.expires <= now) this.#dropNeighbor(k);
    }
    let next = this.#heap.length > 0 ? this.#heap[0][0] : Infinity;
    next = Math.min(next, this.#reasm.nextDeadline());
    for (const n of this.#neighbors.values()) {
      if (n.mac === undefined) next = Math.min(next, n.nextQuery);
    }
    return next;
  }

  // ---- input -----------------------------------------------------------------------------------

  /** Handles one Ethernet frame from the link. Never throws on malformed input. */
  input(now: number, frame: Uint8Array): void {
    this.#clock = Math.max(this.#clock, now);
    this.counters.framesIn++;
    try {
      this.#input(now, frame);
    } catch (_e) {
      // a parser bug must not take the stack down: count and drop
      this.counters.malformed++;
    }
  }

  #input(now: number, frame: Uint8Array): void {
    const eth = parseEth(frame);
    if (!eth) return void this.counters.malformed++;
    const multicast = Math.floor(eth.dst / 0x100_0000_0000) & 1;
    if (eth.dst !== this.mac && !multicast) return void this.counters.ignored++;
    if (eth.type === ETH_ARP) return this.#arp(now, frame, eth.src);
    if (eth.type === ETH_IPV4) return this.#ipv4(now, frame, eth.src);
    if (eth.type === ETH_IPV6) return this.#ipv6(now, frame, eth.src);
    this.counters.ignored++;
  }

  #arp(now: number, frame: Uint8Array, srcMac: number): void {
    const p = parseArp(frame, ETH_HLEN);
    if (!p) return void this.counters.malformed++;
    if (p.senderMac !== srcMac && p.senderMac !== 0) return void this.counters.malformed++;
    const ours = this.#hasAddress(p.targetIp);
    // learn/update (RFC 826: update if known; add if we are the target)
    const key = ipKey(p.senderIp);
    if (!isUnspecified(p.senderIp) && (ours || this.#neighbors.has(key))) {
      this.#learn(now, key, p.senderMac);
    }
    if (ours && p.op === ARP_REQUEST) {
      const f = newFrame(srcMac, this.mac, ETH_ARP, ARP_LEN);
      writeArp(f, ETH_HLEN, {
        op: ARP_REPLY,
        senderMac: this.mac,
        senderIp: p.targetIp,
        targetMac: p.senderMac,
        targetIp: p.senderIp,
      });
      this.#out(f);
    }
  }

  #ipv4(now: number, frame: Uint8Array, _srcMac: number): void {
    const ip = parseIpv4(frame, ETH_HLEN);
    if (!ip) return void this.counters.malformed++;
    if (!this.#hasAddress(ip.dst) && !ipEqual(ip.dst, V4_BROADCAST)) {
      return void this.counters.ignored++;
    }
    let bytes = ip.bytes, start = ip.payloadStart, end = ip.payloadEnd;
    if (ip.mf || ip.fragOffset > 0) {
      const whole = this.#reasm.add(now, ip);
      if (!whole) return;
      bytes = whole;
      start = 0;
      end = whole.length;
    }
    this.#l4(now, ip.proto, ip.src, ip.dst, bytes, start, end);
  }

  #ipv6(now: number, frame: Uint8Array, srcMac: number): void {
    const ip = parseIpv6(frame, ETH_HLEN);
    if (!ip) return void this.counters.malformed++;
    const dst = ip.dst;
    const mine = this.#hasAddress(dst) || ipEqual(dst, this.#linkLocal) ||
      ipEqual(dst, ALL_NODES) ||
      (dst[0] === 0xff && dst[1] === 0x02 && dst[11] === 1 && dst[12] === 0xff &&
        [...this.#v6Addresses()].some((a) => ipEqual(solicitedNode(a), dst)));
    if (!mine) return void this.counters.ignored++;
    if (ip.next === 58) {
      const m = parseIcmp6(ip.bytes, ip.payloadStart, ip.payloadEnd, ip.src, ip.dst);
      if (!m) return void this.counters.malformed++;
      if (m.type === NDP_NS || m.type === NDP_NA) {
        if (ip.hopLimit !== 255) return void this.counters.malformed++;
        const nd = parseNdp(m);
        if (!nd) return void this.counters.malformed++;
        if (m.type === NDP_NS) {
          if (!isUnspecified(ip.src)) this.#learn(now, ipKey(ip.src), nd.mac ?? srcMac);
          const target = nd.target;
          if (!this.#v6Addresses().some((a) => ipEqual(a, target))) return;
          const dstIp = isUnspecified(ip.src) ? ALL_NODES : ip.src;
          const body = ndpBody(target, this.mac, 2, 0x60);
          const l4 = new Uint8Array(4 + body.length);
          writeIcmp6(l4, 0, NDP_NA, 0, body, target, dstIp);
          this.#sendIpTo(
            target,
            dstIp,
            58,
            l4,
            isUnspecified(ip.src) ? multicastMac(ALL_NODES) : srcMac,
            255,
          );
        } else {
          const k = ipKey(nd.target);
          if (this.#neighbors.has(k)) this.#learn(now, k, nd.mac ?? srcMac);
        }
        return;
      }
      if (m.type === ICMP6_ECHO_REQUEST && m.code === 0) {
        if (dst[0] === 0xff) return;
        const body = m.bytes.slice(m.bodyStart, m.end);
        const l4 = new Uint8Array(4 + body.length);
        writeIcmp6(l4, 0, ICMP6_ECHO_REPLY, 0, body, dst, ip.src);
        this.counters.echoRepliesSent++;
        this.#sendIp(now, dst, ip.src, 58, l4);
        return;
      }
      if (m.type === ICMP6_ECHO_REPLY && m.end - m.bodyStart >= 4) {
        this.#echoReply(ip.src, m.bytes, m.bodyStart, m.end);
        return;
      }
      return void this.counters.ignored++;
    }
    this.#l4(now, ip.next, ip.src, dst, ip.bytes, ip.payloadStart, ip.payloadEnd);
  }

  #echoReply(from: IpAddr, b: Uint8Array, start: number, end: number): void {
    this.onEchoReply?.({
      from,
      id: (b[start] << 8) | b[start + 1],
      seq: (b[start + 2] << 8) | b[start + 3],
      data: b.slice(start + 4, end),
    });
  }

  #l4(
    now: number,
    proto: number,
    src: IpAddr,
    dst: IpAddr,
    b: Uint8Array,
    start: number,
    end: number,
  ): void {
    if (proto === 6) {
      const seg = parseTcp(b, start, end, src, dst);
      if (!seg) return void this.counters.malformed++;
      return this.#tcp(now, src, dst, seg);
    }
    if (proto === 17) {
      const d = parseUdp(b, start, end, src, dst);
      if (!d) return void this.counters.malformed++;
      const s = this.#udp.get(d.dstPort);
      if (!s) return void this.counters.ignored++;
      if (s.queue.length >= this.#limits.udpQueue) {
        s.dropped++;
        return;
      }
      s.queue.push({ from: src, port: d.srcPort, data: b.slice(d.payloadStart, d.payloadEnd) });
      s.onMessage?.();
      return;
    }
    if (proto === 1 && src.length === 4) {
      const m = parseIcmp4(b, start, end);
      if (!m) return void this.counters.malformed++;
      if (m.type === ICMP_ECHO_REQUEST && m.code === 0 && !ipEqual(dst, V4_BROADCAST)) {
        const body = m.bytes.slice(m.bodyStart, m.end);
        const l4 = new Uint8Array(4 + body.length);
        writeIcmp4(l4, 0, ICMP_ECHO_REPLY, 0, body);
        this.counters.echoRepliesSent++;
        this.#sendIp(now, dst, src, 1, l4);
      } else if (m.type === ICMP_ECHO_REPLY && m.end - m.bodyStart >= 4) {
        this.#echoReply(src, m.bytes, m.bodyStart, m.end);
      }
      return;
    }
    this.counters.ignored++;
  }

  #tcp(now: number, src: IpAddr, dst: IpAddr, seg: TcpSegment): void {
    const c = this.#conns.get(connKey(src, seg.srcPort, seg.dstPort));
    if (c) {
      c.input(now, seg);
      this.#schedule(c);
      return;
    }
    const l = this.#listeners.get(seg.dstPort);
    if (l && (seg.flags & (SYN | ACK | RST)) === SYN) {
      if (
        l.embryonic + l.queue.length >= l.backlog || this.#conns.size >= this.#limits.maxConnections
      ) {
        this.counters.synDropped++;
        return;
      }
      const nc = this.#newConn(now, dst, seg.dstPort, src, seg.srcPort);
      l.embryonic++;
      let counted = true;
      const uncount = () => {
        if (counted) {
          counted = false;
          l.embryonic--;
        }
      };
      nc.events = {
        onConnected: () => {
          uncount();
          if (l.closed) return nc.abort(now);
          l.queue.push(nc);
          l.onAccept?.();
        },
        onClose: uncount,
      };
      nc.openPassive(now, seg);
      this.#schedule(nc);
      return;
    }
    if (seg.flags & RST) return;
    // no connection: RST (RFC 9293 §3.10.7.1)
    const len = seg.payloadEnd - seg.payloadStart + ((seg.flags & SYN) ? 1 : 0) +
      ((seg.flags & 1) ? 1 : 0);
    const out: TcpOut = (seg.flags & ACK)
      ? { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: seg.ack, ack: 0, flags: RST, window: 0 }
      : {
        srcPort: seg.dstPort,
        dstPort: seg.srcPort,
        seq: 0,
        ack: (seg.seq + len) >>> 0,
        flags: RST | ACK,
        window: 0,
      };
    this.counters.rstSent++;
    this.#sendSegment(now, dst, src, out, undefined, 0, 0);
  }

  // ---- output ----------------------------------------------------------------------------------

  #newConn(
    now: number,
    localIp: IpAddr,
    lport: number,
    remoteIp: IpAddr,
    rport: number,
  ): TcpConnection {
    const r = this.#random(4);
    const iss = ((r[0] << 24) | (r[1] << 16) | (r[2] << 8) | r[3]) >>> 0;
    const mss = this.#mtu - (remoteIp.length === 4 ? 40 : 60);
    const key = connKey(remoteIp, rport, lport);
    const c = new TcpConnection({
      localIp,
      localPort: lport,
      remoteIp,
      remotePort: rport,
      iss,
      mss,
      cfg: this.#tcpCfg,
      now,
      // segments go out at the stack's latest time (a connection lives long past `now`)
      sink: (s, q, off, len) => this.#sendSegment(this.#clock, localIp, remoteIp, s, q, off, len),
    });
    c.onGone = () => {
      if (this.#conns.get(key) === c) this.#conns.delete(key);
    };
    this.#conns.set(key, c);
    return c;
  }

  #schedule(c: TcpConnection): void {
    const d = c.deadline;
    if (d !== Infinity && c.state !== "CLOSED") heapPush(this.#heap, [d, c]);
  }

  #sendSegment(
    now: number,
    src: IpAddr,
    dst: IpAddr,
    s: TcpOut,
    q: ByteQueue | undefined,
    off: number,
    len: number,
  ): void {
    const hlen = 20 + tcpOptionsLen(s);
    const l4 = new Uint8Array(hlen + len);
    if (q && len > 0) q.copyTo(l4, hlen, off, len);
    writeTcp(l4, 0, s, src, dst, l4, hlen, hlen + len);
    this.#sendIp(now, src, dst, 6, l4);
  }

  #sendIp(now: number, src: IpAddr, dst: IpAddr, proto: number, l4: Uint8Array): boolean {
    if (dst.length === 4 && ipEqual(dst, V4_BROADCAST)) {
      return this.#sendIpTo(src, dst, proto, l4, MAC_BROADCAST);
    }
    if (dst.length === 16 && dst[0] === 0xff) {
      return this.#sendIpTo(src, dst, proto, l4, multicastMac(dst));
    }
    const hop = this.#nextHop(dst);
    if (!hop) {
      this.counters.unreachable++;
      return false;
    }
    const key = ipKey(hop);
    let n = this.#neighbors.get(key);
    if (n?.mac !== undefined && n.expires > now) return this.#sendIpTo(src, dst, proto, l4, n.mac);
    if (!n) {
      if (this.#neighbors.size >= this.#limits.maxNeighbors) {
        this.#dropNeighbor(this.#neighbors.keys().next().value as string);
      }
      n = { mac: undefined, expires: 0, pending: [], nextQuery: now, queries: 0 };
      this.#neighbors.set(key, n);
    } else if (n.mac !== undefined) {
      n.mac = undefined;
      n.queries = 0;
      n.nextQuery = now;
    }
    if (n.pending.length >= this.#limits.maxPendingPerNeighbor) {
      this.#pendingBytes -= n.pending.shift()!.packet.length;
      this.counters.unreachable++;
    }
    const packet = this.#ipPacket(src, dst, proto, l4);
    if (this.#pendingBytes + packet.length > this.#limits.maxPendingBytes) {
      this.counters.unreachable++;
    } else {
      this.#pendingBytes += packet.length;
      n.pending.push({ type: dst.length === 4 ? ETH_IPV4 : ETH_IPV6, packet });
    }
    if (n.nextQuery <= now) this.#query(now, n, key);
    return true;
  }

  #ipPacket(src: IpAddr, dst: IpAddr, proto: number, l4: Uint8Array, hopLimit = 64): Uint8Array {
    const hdr = dst.length === 4 ? 20 : 40;
    const p = new Uint8Array(hdr + l4.length);
    if (dst.length === 4) {
      writeIpv4Header(p, 0, src, dst, proto, l4.length, this.#ipId, hopLimit);
      this.#ipId = (this.#ipId + 1) & 0xffff;
    } else writeIpv6Header(p, 0, src, dst, proto, l4.length, hopLimit);
    p.set(l4, hdr);
    return p;
  }

  #sendIpTo(
    src: IpAddr,
    dst: IpAddr,
    proto: number,
    l4: Uint8Array,
    mac: number,
    hopLimit = 64,
  ): boolean {
    const hdr = dst.length === 4 ? 20 : 40;
    const f = newFrame(mac, this.mac, dst.length === 4 ? ETH_IPV4 : ETH_IPV6, hdr + l4.length);
    if (dst.length === 4) {
      writeIpv4Header(f, ETH_HLEN, src, dst, proto, l4.length, this.#ipId, hopLimit);
      this.#ipId = (this.#ipId + 1) & 0xffff;
    } else writeIpv6Header(f, ETH_HLEN, src, dst, proto, l4.length, hopLimit);
    f.set(l4, ETH_HLEN + hdr);
    this.#out(f);
    return true;
  }

  #query(now: number, n: Neighbor, key: string): void {
    n.queries++;
    n.nextQuery = now + 1000;
    const target = parseKey(key);
    if (!target) return;
    const src = this.#sourceFor(target);
    if (!src) return;
    if (target.length === 4) {
      const f = newFrame(MAC_BROADCAST, this.mac, ETH_ARP, ARP_LEN);
      writeArp(f, ETH_HLEN, {
        op: ARP_REQUEST,
        senderMac: this.mac,
        senderIp: src,
        targetMac: 0,
        targetIp: target,
      });
      this.#out(f);
    } else {
      const sn = solicitedNode(target);
      const body = ndpBody(target, this.mac, 1);
      const l4 = new Uint8Array(4 + body.length);
      writeIcmp6(l4, 0, NDP_NS, 0, body, src, sn);
      this.#sendIpTo(src, sn, 58, l4, multicastMac(sn), 255);
    }
  }

  #learn(now: number, key: string, mac: number): void {
    let n = this.#neighbors.get(key);
    if (!n) {
      if (this.#neighbors.size >= this.#limits.maxNeighbors) {
        this.#dropNeighbor(this.#neighbors.keys().next().value as string);
      }
      n = { mac, expires: 0, pending: [], nextQuery: 0, queries: 0 };
      this.#neighbors.set(key, n);
    }
    n.mac = mac;
    n.expires = now + this.#limits.neighborTtl;
    n.queries = 0;
    for (const p of n.pending.splice(0)) {
      this.#pendingBytes -= p.packet.length;
      const f = newFrame(mac, this.mac, p.type, p.packet.length);
      f.set(p.packet, ETH_HLEN);
      this.#out(f);
    }
  }

  /** Forgets a neighbor entry and its queued packets. */
  #dropNeighbor(key: string): void {
    const n = this.#neighbors.get(key);
    if (!n) return;
    for (const p of n.pending) this.#pendingBytes -= p.packet.length;
    this.#neighbors.delete(key);
  }

  /** Bytes queued for neighbor resolution (bounded by `maxPendingBytes`). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  #out(f: Uint8Array): void {
    this.counters.framesOut++;
    this.#send(f);
  }

  #hasAddress(ip: IpAddr): boolean {
    for (const a of this.#addresses) if (ipEqual(a.ip, ip)) return true;
    return ip.length === 16 && ipEqual(ip, this.#linkLocal);
  }

  #v6Addresses(): IpAddr[] {
    return [...this.#addresses.filter((a) => a.ip.length === 16).map((a) => a.ip), this.#linkLocal];
  }

  #sourceFor(dst: IpAddr): IpAddr | undefined {
    let best: StackAddress | undefined;
    for (const a of this.#addresses) {
      if (a.ip.length !== dst.length) continue;
      if (inPrefix(dst, a.ip, a.bits) && (!best || a.bits > best.bits)) best = a;
    }
    if (best) return best.ip;
    if (dst.length === 16 && dst[0] === 0xfe && (dst[1] & 0xc0) === 0x80) return this.#linkLocal;
    return this.#addresses.find((a) => a.ip.length === dst.length)?.ip;
  }

  #nextHop(dst: IpAddr): IpAddr | undefined {
    for (const a of this.#addresses) {
      if (a.ip.length === dst.length && inPrefix(dst, a.ip, a.bits)) return dst;
    }
    if (dst.length === 16 && dst[0] === 0xfe && (dst[1] & 0xc0) === 0x80) return dst;
    let best: StackRoute | undefined;
    for (const r of this.#routes) {
      if (r.target.length !== dst.length || !inPrefix(dst, r.target, r.bits)) continue;
      if (!best || r.bits > best.bits) best = r;
    }
    if (!best) return undefined;
    return best.via && !isUnspecified(best.via) ? best.via : dst;
  }
}

function connKey(remote: IpAddr, rport: number, lport: number): string {
  return `${ipKey(remote)}|${rport}|${lport}`;
}

/** The address of a neighbor key (keys are {@link ipKey} text). */
function parseKey(key: string): IpAddr | undefined {
  return parseIp(key);
}

function heapPush(h: [number, TcpConnection][], e: [number, TcpConnection]): void {
  h.push(e);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p][0] <= h[i][0]) break;
    [h[p], h[i]] = [h[i], h[p]];
    i = p;
  }
}

function heapPop(h: [number, TcpConnection][]): [number, TcpConnection] {
  const top = h[0];
  const last = h.pop()!;
  if (h.length > 0) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && h[l][0] < h[m][0]) m = l;
      if (r < h.length && h[r][0] < h[m][0]) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
  return top;
}
