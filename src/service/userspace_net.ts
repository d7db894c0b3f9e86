// Userspace networking: a NetStack per joined network plugged in where the TAP goes (a Tap that is a frame port), timers driven here, and Deno.Conn-shaped overlay connections.
import { type IpAddr, ipKey, ipText, parseIp } from "../netstack/ip_addr.ts";
import {
  NetStack,
  type NetStackOptions,
  type TcpListener,
  type UdpSocket,
} from "../netstack/stack.ts";
import type { TcpConnection } from "../netstack/tcp.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { Route } from "../vl2/network_config.ts";
import {
  desiredAddresses,
  desiredRoutes,
  type ManagedPolicy,
  type SystemRoute,
} from "./managed_diff.ts";
import type { ApplyReport } from "./managed_routes.ts";
import { OverlayResolver, type OverlayResolverOptions } from "./overlay_resolver.ts";
import type { DnsEntry } from "./resolv_conf.ts";
import type {
  FrameCallback,
  MulticastSubscription,
  RoundEndCallback,
  Tap,
  TapCounters,
} from "./tap.ts";

/** Options of {@link UserspaceNet}. */
export interface UserspaceNetOptions {
  /** Clock (default Date.now). */
  now?: () => number;
  /** Random bytes (default crypto.getRandomValues). */
  random?: (n: number) => Uint8Array;
  /** TCP/stack tunables passed to every stack. */
  tcp?: NetStackOptions["tcp"];
  limits?: NetStackOptions["limits"];
}

/** TCP receive window of the stacks when UDP goes through node:dgram (see transportOpened). */
export const SLOW_TRANSPORT_WINDOW = 64 * 1024;

function defaultRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function macNumber(mac: number | Uint8Array): number {
  if (typeof mac === "number") return mac;
  let v = 0;
  for (const b of mac.subarray(0, 6)) v = v * 256 + b;
  return v;
}

function inetToIp(a: InetAddress): { ip: IpAddr; bits: number } | undefined {
  const ip = parseIp(a.toIpString());
  return ip ? { ip, bits: a.port } : undefined;
}

/**
 * All userspace stacks of a service, one per network port, and the sockets API over them:
 * {@link connect}, {@link listen}, {@link udp}. Pass {@link createTap} to the data plane instead
 * of the kernel TAP.
 */
export class UserspaceNet {
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;
  readonly #opts: UserspaceNetOptions;
  readonly #taps = new Set<UserspaceTap>();
  readonly #listens = new Map<
    number,
    {
      backlog: number;
      onConn: (c: TcpConnection, tap: UserspaceTap) => void;
      ls: Map<UserspaceTap, TcpListener>;
    }
  >();
  /** Called when a port gets its addresses (for waiting until the network is usable). */
  readonly #waiters = new Set<() => void>();
  /** Names under the networks' DNS domains (after {@link enableNames}). */
  #names: OverlayResolver | undefined;

  constructor(opts: UserspaceNetOptions = {}) {
    this.#opts = { ...opts };
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? defaultRandom;
  }

  /**
   * Adjusts the TCP tunables of stacks made from now on. With the node:dgram transport the
   * receive window is kept at {@link SLOW_TRANSPORT_WINDOW}: that transport loses bursts larger
   * than its socket buffer, and a window that fits keeps the sender from overrunning it.
   */
  transportOpened(kind: string): void {
    if (kind === "dgram" && this.#opts.tcp?.recvBuffer === undefined) {
      this.#opts.tcp = { ...this.#opts.tcp, recvBuffer: SLOW_TRANSPORT_WINDOW };
    }
  }

  /** A new unopened port (use as the data plane's `createTap`). */
  createTap(): Tap {
    return new UserspaceTap(this, this.#opts, this.#now, this.#random);
  }

  /** The open ports. */
  taps(): UserspaceTap[] {
    return [...this.#taps];
  }

  /** Every address of every port (text/bits). */
  addresses(): string[] {
    return this.taps().flatMap((t) =>
      t.stack?.addresses.map((a) => `${ipText(a.ip)}/${a.bits}`) ?? []
    );
  }

  /** @internal */
  attach(t: UserspaceTap): void {
    this.#taps.add(t);
    for (const [port, l] of this.#listens) this.#listenOn(t, port, l);
  }
  /** @internal */
  detach(t: UserspaceTap): void {
    this.#taps.delete(t);
    for (const l of this.#listens.values()) l.ls.delete(t);
  }
  /** @internal a port's addresses changed */
  addressesChanged(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves once some port has an address of `family` (or rejects after `timeoutMs`). */
  waitForAddress(family: 4 | 6 = 4, timeoutMs = 30_000): Promise<void> {
    const has = () =>
      this.taps().some((t) =>
        t.stack?.addresses.some((a) => a.ip.length === (family === 4 ? 4 : 16))
      );
    if (has()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = () => {
        if (!has()) return;
        clearTimeout(timer);
        this.#waiters.delete(w);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        reject(new Error(`zt: no IPv${family} address on any network after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(w);
    });
  }

  /** The port whose addresses reach `ip` (most specific prefix), else the first with its family. */
  tapFor(ip: IpAddr): UserspaceTap | undefined {
    let best: UserspaceTap | undefined;
    let bestBits = -1;
    for (const t of this.#taps) {
      for (const a of t.stack?.addresses ?? []) {
        if (a.ip.length !== ip.length) continue;
        const bits = prefixMatch(ip, a.ip) >= a.bits ? a.bits : -1;
        if (bits > bestBits || (!best && bits < 0)) {
          best = t;
          bestBits = Math.max(bits, bestBits);
        }
      }
    }
    return best;
  }

  /**
   * Turns on names: {@link resolve} (and {@link connect} with a name) asks the DNS servers of
   * the network whose domain holds the name, over the overlay. `domains` gives the joined
   * networks' DNS (see `networkDomains`).
   */
  enableNames(
    domains: () => DnsEntry[],
    o: Omit<OverlayResolverOptions, "domains" | "udp"> = {},
  ): OverlayResolver {
    this.#names = new OverlayResolver({
      now: this.#now,
      random: this.#random,
      ...o,
      domains,
      udp: (towards) => this.udp(0, towards),
    });
    return this.#names;
  }

  /**
   * The overlay IP of `host`: itself if an IP, else its address from the DNS of the network
   * whose domain holds it. Names outside every such domain are refused (the host's resolver is
   * never asked: its answer would bypass the overlay).
   * @throws Error (a `ResolveError` for names) saying why.
   */
  async resolve(host: string): Promise<string> {
    if (parseIp(host)) return host;
    if (!this.#names) {
      throw new Error(`zt: ${host} is not an IP address, and names are off (no network DNS)`);
    }
    return await this.#names.resolve(host);
  }

  /**
   * Opens a TCP connection into the overlay to an IP or to a name under a joined network's DNS
   * domain (see {@link resolve}).
   * @throws Error if the name does not resolve, no network reaches `host`, or the connection
   * fails.
   */
  async connect(host: string, port: number, timeoutMs = 30_000): Promise<OverlayConn> {
    const ip = parseIp(await this.resolve(host));
    if (!ip) throw new Error(`zt: not an IP address: ${host}`);
    const t = this.tapFor(ip);
    if (!t?.stack) throw new Error(`zt: no network reaches ${host}`);
    const c = t.stack.connect(this.#now(), ip, port);
    const conn = new OverlayConn(c, t);
    t.kick();
    await conn.connected(timeoutMs);
    return conn;
  }

  /** Listens on TCP `port` on every network (present and future). */
  listen(port: number, backlog = 128): OverlayListener {
    if (this.#listens.has(port)) throw new Error(`zt: TCP port ${port} is already listened on`);
    const listener = new OverlayListener(port, () => this.#unlisten(port));
    const entry = {
      backlog,
      ls: new Map<UserspaceTap, TcpListener>(),
      onConn: (c: TcpConnection, t: UserspaceTap) => listener.push(new OverlayConn(c, t)),
    };
    this.#listens.set(port, entry);
    for (const t of this.#taps) this.#listenOn(t, port, entry);
    return listener;
  }

  /**
   * Sends ICMP/ICMPv6 echo requests to `host` (one a second, up to `timeoutMs`); resolves with
   * the round-trip time of the first reply in ms.
   * @throws Error when no network reaches `host` or no reply came in time.
   */
  async ping(host: string, timeoutMs = 5000): Promise<number> {
    const ip = parseIp(host);
    if (!ip) throw new Error(`zt: not an IP address: ${host}`);
    const t = this.tapFor(ip);
    if (!t?.stack) throw new Error(`zt: no network reaches ${host}`);
    const stack = t.stack;
    const id = this.#random(2).reduce((a, b) => (a << 8) | b, 0);
    const sent = new Map<number, number>();
    return await new Promise<number>((resolve, reject) => {
      let seq = 0;
      const prev = stack.onEchoReply;
      const done = () => {
        clearInterval(timer);
        clearTimeout(deadline);
        stack.onEchoReply = prev;
      };
      stack.onEchoReply = (r) => {
        prev?.(r);
        const at = sent.get(r.seq);
        if (r.id !== id || at === undefined) return;
        done();
        resolve(this.#now() - at);
      };
      const send = () => {
        sent.set(++seq, this.#now());
        stack.ping(this.#now(), ip, id, seq, new Uint8Array(32));
        t.kick();
      };
      const timer = setInterval(send, 1000);
      const deadline = setTimeout(() => {
        done();
        reject(new Error(`zt: no echo reply from ${host} in ${timeoutMs} ms`));
      }, timeoutMs);
      send();
    });
  }

  /** A UDP socket on `port` (0 = ephemeral) on the port that reaches `towards` (or the first). */
  udp(port = 0, towards?: string): OverlayUdp {
    const ip = towards ? parseIp(towards) : undefined;
    const t = ip ? this.tapFor(ip) : this.taps().find((x) => x.stack);
    if (!t?.stack) throw new Error("zt: no network is up");
    return new OverlayUdp(t.stack.bindUdp(port), t, this.#now);
  }

  #listenOn(
    t: UserspaceTap,
    port: number,
    e: {
      backlog: number;
      onConn: (c: TcpConnection, t: UserspaceTap) => void;
      ls: Map<UserspaceTap, TcpListener>;
    },
  ): void {
    if (!t.stack || e.ls.has(t)) return;
    const l = t.stack.listen(port, e.backlog);
    l.onAccept = () => {
      for (let c = l.accept(); c; c = l.accept()) e.onConn(c, t);
    };
    e.ls.set(t, l);
  }

  #unlisten(port: number): void {
    const e = this.#listens.get(port);
    if (!e) return;
    this.#listens.delete(port);
    for (const [t, l] of e.ls) t.stack?.unlisten(this.#now(), l);
  }
}

function prefixMatch(a: IpAddr, b: IpAddr): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ^ b[i];
    if (x === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(x) - 24;
  }
  return n;
}

/** A network port backed by a {@link NetStack} instead of a kernel TAP. */
export class UserspaceTap implements Tap {
  /** The stack (after open). */
  stack: NetStack | undefined;
  readonly counters: TapCounters = {
    framesRead: 0,
    framesWritten: 0,
    writeErrors: 0,
    polls: 0,
    callbackErrors: 0,
  };
  readonly offload = false;
  #name = "";
  #addresses: InetAddress[] = [];
  #routes: SystemRoute[] = [];
  #cb: FrameCallback | undefined;
  #onError: ((e: unknown) => void) | undefined;
  #onRoundEnd: RoundEndCallback | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #kickQueued = false;
  #closed = false;
  readonly #net: UserspaceNet;
  readonly #opts: UserspaceNetOptions;
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;

  /** @internal */
  constructor(
    net: UserspaceNet,
    opts: UserspaceNetOptions,
    now: () => number,
    random: (n: number) => Uint8Array,
  ) {
    this.#net = net;
    this.#opts = opts;
    this.#now = now;
    this.#random = random;
  }

  get deviceName(): string {
    return this.#name;
  }
  get addresses(): InetAddress[] {
    return this.#addresses;
  }
  get routes(): SystemRoute[] {
    return this.#routes;
  }

  open(name: string, mac: number | Uint8Array, mtu: number): Promise<void> {
    this.#name = name;
    this.stack = new NetStack({
      mac: macNumber(mac),
      mtu,
      random: this.#random,
      tcp: this.#opts.tcp,
      limits: this.#opts.limits,
      send: (f) => {
        if (!this.#cb || this.#closed) return;
        this.counters.framesRead++;
        try {
          this.#cb(f);
        } catch (e) {
          this.counters.callbackErrors++;
          this.#onError?.(e);
        }
      },
    });
    this.#net.attach(this);
    return Promise.resolve();
  }

  /** A frame from the overlay for the stack. */
  write(frame: Uint8Array, start = 0, end = frame.length): boolean {
    if (!this.stack || this.#closed) return false;
    this.counters.framesWritten++;
    // the stack copies whatever it keeps: a view into the caller's buffer is enough
    this.stack.input(this.#now(), frame.subarray(start, end));
    this.kick();
    return true;
  }

  onFrame(cb: FrameCallback, onError?: (e: unknown) => void, onRoundEnd?: RoundEndCallback): void {
    this.#cb = cb;
    this.#onError = onError;
    this.#onRoundEnd = onRoundEnd;
  }

  setMtu(mtu: number): void {
    if (this.stack) this.stack.mtu = mtu;
  }

  setAddresses(addresses: InetAddress[]): Promise<ApplyReport> {
    this.#addresses = [...addresses];
    this.stack?.setAddresses(addresses.flatMap((a) => inetToIp(a) ?? []));
    this.#net.addressesChanged();
    return Promise.resolve({ ran: [], failed: [] });
  }

  setRoutes(routes: SystemRoute[]): Promise<ApplyReport> {
    this.#routes = [...routes];
    return Promise.resolve({ ran: [], failed: [] });
  }

  syncManaged(
    assigned: InetAddress[],
    routes: Route[],
    policy: ManagedPolicy,
  ): Promise<ApplyReport> {
    // the same policy as the kernel TAP (allowManaged / allowGlobal / allowDefault)
    const addrs = desiredAddresses(assigned, policy);
    const rts = desiredRoutes(routes, assigned, addrs, policy);
    this.#routes = rts;
    this.stack?.setRoutes(rts.flatMap((r) => {
      const t = inetToIp(r.target);
      if (!t) return [];
      const via = r.via ? parseIp(r.via.toIpString()) : undefined;
      return [{ target: t.ip, bits: t.bits, ...(via ? { via } : {}) }];
    }));
    return this.setAddresses(addrs);
  }

  multicastGroups(): MulticastSubscription[] {
    return this.stack?.multicastGroups() ?? [];
  }

  close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.stack) {
      for (const c of this.stack.connections()) {
        c.abort(this.#now(), "network left");
      }
    }
    this.#net.detach(this);
    return Promise.resolve();
  }

  /** Runs the stack's timers soon (after the current burst) and re-arms the wake-up timer. */
  kick(): void {
    if (this.#kickQueued || this.#closed) return;
    this.#kickQueued = true;
    queueMicrotask(() => {
      this.#kickQueued = false;
      this.#run();
    });
  }

  #run(): void {
    if (!this.stack || this.#closed) return;
    const next = this.stack.tick(this.#now());
    this.#onRoundEnd?.();
    if (next === Infinity) return;
    if (this.#timer !== undefined && next >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#run();
    }, Math.max(0, next - this.#now()));
  }
}

/** A TCP connection in the overlay with the shape of `Deno.Conn` (read/write/close, streams). */
export class OverlayConn {
  readonly #c: TcpConnection;
  readonly #tap: UserspaceTap;
  #error: string | undefined;
  #closed = false;
  /** Pending reads/writes/connect waiting for any event (all are woken). */
  #waiters: (() => void)[] = [];
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  /** @internal */
  constructor(c: TcpConnection, tap: UserspaceTap) {
    this.#c = c;
    this.#tap = tap;
    const wake = () => this.#wakeAll();
    c.events = {
      onConnected: wake,
      onData: wake,
      onWritable: wake,
      onEnd: wake,
      onClose: (e) => {
        if (e) this.#error = e;
        wake();
      },
    };
  }

  /** The underlying stack connection (counters, state). */
  get tcp(): TcpConnection {
    return this.#c;
  }
  /** Local address (overlay). */
  get localAddr(): Deno.NetAddr {
    return { transport: "tcp", hostname: ipText(this.#c.localIp), port: this.#c.localPort };
  }
  /** Remote address (overlay). */
  get remoteAddr(): Deno.NetAddr {
    return { transport: "tcp", hostname: ipText(this.#c.remoteIp), port: this.#c.remotePort };
  }

  #waitEvent(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }

  #wakeAll(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }

  /** @internal resolves when established; rejects on failure or timeout. */
  async connected(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#c.state === "SYN_SENT" || this.#c.state === "SYN_RCVD") {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.#c.abort(Date.now(), "connect timed out");
        this.#tap.kick();
        throw new Error(
          `zt: connect to ${ipKey(this.#c.remoteIp)}:${this.#c.remotePort} timed out`,
        );
      }
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.#waitEvent(), new Promise<void>((r) => (t = setTimeout(r, left)))]);
      clearTimeout(t);
    }
    if (this.#c.state === "CLOSED") {
      throw new Error(
        `zt: connect to ${ipText(this.#c.remoteIp)}:${this.#c.remotePort}: ${
          this.#error ?? "closed"
        }`,
      );
    }
  }

  /** Reads into `p`; null at end of stream. @throws Error if reset. */
  async read(p: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#c.readable > 0) {
        const b = this.#c.read(Date.now(), p.length);
        p.set(b);
        this.#tap.kick();
        return b.length;
      }
      if (this.#c.eof || this.#closed) return null;
      if (this.#c.state === "CLOSED") {
        if (this.#error) throw new Deno.errors.ConnectionReset(this.#error);
        return null;
      }
      await this.#waitEvent();
    }
  }

  /** Writes some of `p` (at least one byte); returns how many. @throws Error if closed. */
  async write(p: Uint8Array): Promise<number> {
    if (p.length === 0) return 0;
    for (;;) {
      if (this.#closed) throw new Deno.errors.BadResource("zt: connection closed");
      const st = this.#c.state;
      if (st !== "ESTABLISHED" && st !== "CLOSE_WAIT") {
        throw new Deno.errors.BrokenPipe(`zt: connection ${this.#error ?? "closed"}`);
      }
      const n = this.#c.write(Date.now(), p.slice(0, Math.min(p.length, this.#c.writable)));
      if (n > 0) {
        this.#tap.kick();
        return n;
      }
      await this.#waitEvent();
    }
  }

  /** Writes all of `p`. */
  async writeAll(p: Uint8Array): Promise<void> {
    for (let off = 0; off < p.length;) off += await this.write(p.subarray(off));
  }

  /** Sends FIN (no more writes). */
  closeWrite(): Promise<void> {
    this.#c.close(Date.now());
    this.#tap.kick();
    return Promise.resolve();
  }

  /** Closes (orderly: queued data is still sent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#c.close(Date.now());
    this.#tap.kick();
    this.#wakeAll();
  }

  /** Aborts with RST. */
  abort(): void {
    this.#closed = true;
    this.#c.abort(Date.now());
    this.#tap.kick();
    this.#wakeAll();
  }

  /** Reading side as a stream. */
  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (ctl) => {
        const buf = new Uint8Array(65536);
        const n = await this.read(buf);
        if (n === null) ctl.close();
        else ctl.enqueue(buf.subarray(0, n));
      },
      cancel: () => this.close(),
    });
    return this.#readable;
  }

  /** Writing side as a stream (closing it sends FIN). */
  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.writeAll(chunk),
      close: () => this.closeWrite(),
      abort: () => this.abort(),
    });
    return this.#writable;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A TCP listener in the overlay with the shape of `Deno.Listener` (accept, async iteration). */
export class OverlayListener implements AsyncIterable<OverlayConn> {
  /** Port listened on. */
  readonly port: number;
  readonly #queue: OverlayConn[] = [];
  /** Waiting accept()/receive() calls (all woken on an arrival). */
  #waiters: (() => void)[] = [];
  #closed = false;
  readonly #onClose: () => void;

  /** @internal */
  constructor(port: number, onClose: () => void) {
    this.port = port;
    this.#onClose = onClose;
  }

  /** @internal */
  push(c: OverlayConn): void {
    if (this.#closed) return c.abort();
    this.#queue.push(c);
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }

  /** Listening address (any overlay address). */
  get addr(): Deno.NetAddr {
    return { transport: "tcp", hostname: "0.0.0.0", port: this.port };
  }

  /** The next connection. @throws Deno.errors.BadResource once closed. */
  async accept(): Promise<OverlayConn> {
    for (;;) {
      const c = this.#queue.shift();
      if (c) return c;
      if (this.#closed) throw new Deno.errors.BadResource("zt: listener closed");
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  /** Stops listening. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    for (const c of this.#queue.splice(0)) c.abort();
    for (const w of this.#waiters.splice(0)) w();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<OverlayConn> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource) return;
        throw e;
      }
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A UDP socket in the overlay. */
export class OverlayUdp {
  readonly #s: UdpSocket;
  readonly #tap: UserspaceTap;
  readonly #now: () => number;
  /** Waiting accept()/receive() calls (all woken on an arrival). */
  #waiters: (() => void)[] = [];

  /** @internal */
  constructor(s: UdpSocket, tap: UserspaceTap, now: () => number) {
    this.#s = s;
    this.#tap = tap;
    this.#now = now;
    s.onMessage = () => {
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) w();
    };
  }

  /** Bound port. */
  get port(): number {
    return this.#s.port;
  }

  /** Sends a datagram; false if there is no route. */
  send(data: Uint8Array, host: string, port: number): boolean {
    const ip = parseIp(host);
    if (!ip) throw new Error(`zt: not an IP address: ${host}`);
    const ok = this.#s.send(this.#now(), ip, port, data);
    this.#tap.kick();
    return ok;
  }

  #closed = false;

  /** The next datagram with its sender. @throws Deno.errors.BadResource once closed. */
  async receive(): Promise<[Uint8Array, Deno.NetAddr]> {
    for (;;) {
      if (this.#closed) throw new Deno.errors.BadResource("zt: UDP socket closed");
      const m = this.#s.queue.shift();
      if (m) return [m.data, { transport: "udp", hostname: ipText(m.from), port: m.port }];
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  /** Unbinds (pending receive() calls throw). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#s.close();
    for (const w of this.#waiters.splice(0)) w();
  }
}
