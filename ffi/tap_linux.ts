// Linux TAP device through /dev/net/tun and Deno FFI: create, set MAC/MTU/up, read and write frames.
//
// Reading: the fd is watched by the process's one poll loop (ffi/reactor.ts, shared with the UDP
// sockets); when it is readable the JS thread drains it with synchronous `read`s into one reused
// buffer until EAGAIN (bounded per round), handing each frame to the callback as a view.
//
// Offloads (default on; off with env ZT_TAP_OFFLOAD=0 or `open(..., { offload: false })`): the
// device is opened with IFF_VNET_HDR and TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, so each read
// brings a virtio-net header and the kernel may hand over TCP super-frames (up to 64 KiB) and
// frames with a partial checksum; they are segmented / completed here (src/service/tcp_segment.ts,
// virtio_net_hdr.ts) so the frame callback still sees ordinary frames of at most the MTU. Writes
// are buffered and consecutive TCP segments of a flow merged into one super-frame
// (src/service/tcp_coalesce.ts), flushed from a microtask after the caller's synchronous batch.
// If the kernel refuses any of it the device works without offloads.
import { Reactor, type ReactorWatch } from "./reactor.ts";
import {
  cString,
  EACCES,
  EAGAIN,
  EBUSY,
  EINTR,
  EINVAL,
  ENODEV,
  ENOENT,
  ENXIO,
  EPERM,
  errno,
  libc,
  LibcError,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  POLLIN,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  strerror,
} from "./libc.ts";
import { TcpSegmenter } from "./tcp_segment.ts";
import { type CoalesceCounters, TcpCoalescer } from "./tcp_coalesce.ts";
import {
  completeChecksum,
  readVnetHdr,
  VNET_F_NEEDS_CSUM,
  VNET_GSO_NONE,
  VNET_HDR_LEN,
  type VnetHdr,
} from "./virtio_net_hdr.ts";

/** The TUN/TAP clone device. */
export const TUN_PATH = "/dev/net/tun";
/** Longest interface name Linux accepts (IFNAMSIZ - 1). */
export const MAX_IFNAME = 15;
/** Largest frame the read buffer holds: MTU limit 10000 + Ethernet header, rounded up. */
export const TAP_READ_BUFFER = 16384;
/**
 * Read buffer with offloads: virtio-net header + a 64 KiB super-frame (Ethernet, up to two VLAN
 * tags, 65535 IP bytes) + slack.
 */
export const TAP_OFFLOAD_READ_BUFFER = VNET_HDR_LEN + 65535 + 14 + 8 + 256;
/**
 * Most frames delivered per poll round before polling again (lets other tasks run); a round may
 * end up to one super-frame's segments beyond it.
 */
export const MAX_DRAIN_PER_ROUND = 512;
/** A read longer than this is bulk input and vetoes the round's receive-moderation nap. */
export const MODERATE_VETO_BYTES = 512;

const TUNSETIFF = 0x400454can;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;
/** _IOW('T', 216, int): size of the virtio-net header (pointer to int). */
const TUNSETVNETHDRSZ = 0x400454d8n;
/** _IOW('T', 208, unsigned int): offloads the reader accepts (argument by value). */
const TUNSETOFFLOAD = 0x400454d0n;
const TUN_F_CSUM = 0x01;
const TUN_F_TSO4 = 0x02;
const TUN_F_TSO6 = 0x04;
const SIOCGIFFLAGS = 0x8913n;
const SIOCSIFFLAGS = 0x8914n;
const SIOCSIFMTU = 0x8922n;
const SIOCSIFHWADDR = 0x8924n;
const IFF_UP = 0x1;
const IFF_MULTICAST = 0x1000;
const ARPHRD_ETHER = 1;
const AF_INET = 2;
/** sizeof(struct ifreq) on 64-bit Linux. */
const IFREQ_SIZE = 40;

/** Base32 alphabet of the device names (RFC 4648, lower case). */
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/**
 * The reference's Linux device name for network `nwid` (spec §11.1 `portDeviceName`):
 * "zt" + base32 of the 40-bit value `((nwid XOR (nwid >> 24)) + trial) mod 2^40`, 5 bytes
 * big-endian -> 8 characters. `trial` counts up on a name collision.
 */
export function linuxTapDeviceName(nwid: bigint, trial = 0): string {
  const v = ((nwid ^ (nwid >> 24n)) + BigInt(trial)) & 0xff_ffff_ffffn;
  let out = "zt";
  for (let shift = 35n; shift >= 0n; shift -= 5n) out += BASE32[Number((v >> shift) & 31n)];
  return out;
}

/** Whether an interface called `name` exists in this network namespace. */
export function linuxInterfaceExists(name: string): boolean {
  try {
    Deno.statSync(`/proc/sys/net/ipv4/conf/${name}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first free device name for `nwid` ({@link linuxTapDeviceName} with trial 0, 1, ...), as the
 * reference picks it. `exists` is injectable for tests. @throws Error after 1000 collisions.
 */
export function pickLinuxTapDeviceName(
  nwid: bigint,
  exists: (name: string) => boolean = linuxInterfaceExists,
): string {
  for (let trial = 0; trial < 1000; trial++) {
    const name = linuxTapDeviceName(nwid, trial);
    if (!exists(name)) return name;
  }
  throw new Error(`zt: no free TAP device name for network ${nwid.toString(16).padStart(16, "0")}`);
}

/** A TAP device could not be created or configured; the message says what is missing. */
export class TapError extends Error {
  /** errno of the failing call, if any. */
  readonly errno: number | undefined;
  /**
   * @param message what went wrong and how to fix it.
   * @param code errno of the failing call.
   */
  constructor(message: string, code?: number) {
    super(message);
    this.name = "TapError";
    this.errno = code;
  }
}

/** Called with each frame read from the device; `frame` is a view valid only during the call. */
export type FrameCallback = (frame: Uint8Array) => void;

/**
 * Called after each read round (the frames queued when the poll fired, up to
 * {@link MAX_DRAIN_PER_ROUND}): the moment to flush work batched over the round's frames.
 */
export type RoundEndCallback = () => void;

/** Counters of one device (monotonic). */
export interface TapCounters {
  /** Frames handed to the frame callback. */
  framesRead: number;
  /** Frames written to the kernel. */
  framesWritten: number;
  /** Writes the kernel refused (device down, frame too big, ...). */
  writeErrors: number;
  /** Completed nonblocking polls (frames per poll = framesRead / polls). */
  polls: number;
  /** Exceptions thrown by the frame callback (caught; the loop goes on). */
  callbackErrors: number;
}

/** Offload counters of one device (monotonic; all 0 while offloads are off). */
export interface TapOffloadCounters {
  /** GSO super-frames read (TCPV4/TCPV6). */
  superFrames: number;
  /** Segments produced from them (segments per super-frame = segments / superFrames). */
  segments: number;
  /** Partial (NEEDS_CSUM) checksums completed on frames read. */
  checksumsCompleted: number;
  /** Frames read that were dropped: malformed super-frames, unusable checksum offsets. */
  readDrops: number;
  /** write(2) calls made for buffered frames. */
  writeCalls: number;
  /** Writes carrying a merged TCP super-frame. */
  coalescedWrites: number;
  /** Frames that went out inside merged super-frames (per merged write: / coalescedWrites). */
  coalescedFrames: number;
  /** TCP segments written unmerged because their checksum was wrong. */
  badChecksums: number;
  /** Merged writes the kernel refused (then written again as single segments). */
  refusedMerges: number;
}

/** Options of {@link LinuxTapDevice.open}. */
export interface TapOpenOptions {
  /**
   * Use IFF_VNET_HDR offloads (TSO / checksum offload on read, coalescing on write). Default:
   * on unless env ZT_TAP_OFFLOAD is "0". Falls back to a plain device if the kernel refuses.
   */
  offload?: boolean;
  /** The poll loop that watches the device (default: the process-wide {@link Reactor.shared}). */
  reactor?: Reactor;
}

/** Whether offloads are wanted by default (env ZT_TAP_OFFLOAD=0 turns them off). */
function offloadByEnv(): boolean {
  try {
    return Deno.env.get("ZT_TAP_OFFLOAD") !== "0";
  } catch {
    return true; // no env permission: the default
  }
}

/** MAC as 6 bytes from a 48-bit number or bytes. */
function macBytes(mac: number | Uint8Array): Uint8Array {
  if (mac instanceof Uint8Array) {
    if (mac.length !== 6) throw new RangeError("MAC must be 6 bytes");
    return mac;
  }
  if (!Number.isInteger(mac) || mac < 0 || mac > 0xffff_ffff_ffff) {
    throw new RangeError(`bad MAC ${mac}`);
  }
  const b = new Uint8Array(6);
  let v = mac;
  for (let i = 5; i >= 0; i--) {
    b[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return b;
}

/** A fresh `struct ifreq` carrying `name`. */
function ifreq(name: string): Uint8Array<ArrayBuffer> {
  const r = new Uint8Array(IFREQ_SIZE);
  r.set(new TextEncoder().encode(name).subarray(0, MAX_IFNAME));
  return r;
}

/** The NUL-terminated name in an `ifreq`. */
function ifreqName(r: Uint8Array): string {
  const end = r.subarray(0, 16).indexOf(0);
  return new TextDecoder().decode(r.subarray(0, end < 0 ? 16 : end));
}

/**
 * The real cause of a permission error at `step`: opening /dev/net/tun is refused by its mode
 * (named, with its owner and ours); creating or configuring the interface needs CAP_NET_ADMIN.
 */
export function permissionCause(
  step: string,
  stat: (path: string) => Deno.FileInfo = Deno.statSync,
  uid: number | null = Deno.uid(),
): string {
  if (step.startsWith("open")) {
    try {
      const st = stat(TUN_PATH);
      const mode = st.mode === null ? "?" : (st.mode & 0o777).toString(8).padStart(4, "0");
      return `permission denied opening ${TUN_PATH} (mode ${mode}, owner uid ${st.uid ?? "?"} ` +
        `gid ${st.gid ?? "?"}; this process runs as uid ${uid ?? "?"}): run as root, or give ` +
        `this user read/write access to ${TUN_PATH} and CAP_NET_ADMIN`;
    } catch {
      return `permission denied opening ${TUN_PATH}: run as root, or grant access to it`;
    }
  }
  return `permission denied at ${step}: creating and configuring interfaces needs ` +
    `CAP_NET_ADMIN (run as root, or grant it: setcap cap_net_admin+ep, or ` +
    `AmbientCapabilities=CAP_NET_ADMIN in a systemd unit)`;
}

/** Turns an errno from opening/creating the device into an actionable message. */
function createError(step: string, name: string, code: number): TapError {
  const what = `zt: cannot create TAP device ${name}`;
  switch (code) {
    case ENOENT:
      return new TapError(
        `${what}: ${TUN_PATH} not found (load the tun module: modprobe tun)`,
        code,
      );
    case ENXIO:
    case ENODEV:
      return new TapError(
        `${what}: the tun driver is not available (load the tun module: modprobe tun)`,
        code,
      );
    case EACCES:
    case EPERM:
      return new TapError(`${what}: ${permissionCause(step)}`, code);
    case EBUSY:
      return new TapError(`${what}: the name is already used by another device`, code);
    case EINVAL:
      return new TapError(`${what}: invalid name or an interface of another type has it`, code);
    default:
      return new TapError(`${what}: ${step}: ${strerror(code)} (errno ${code})`, code);
  }
}

/**
 * One Linux TAP interface (IFF_TAP | IFF_NO_PI, + IFF_VNET_HDR with offloads; not persistent:
 * closing the fd removes it). Create it with {@link LinuxTapDevice.open}.
 */
export class LinuxTapDevice {
  /** The kernel's name for the interface. */
  readonly name: string;
  /** Counters (frames read/written, polls, errors). */
  readonly counters: TapCounters = {
    framesRead: 0,
    framesWritten: 0,
    writeErrors: 0,
    polls: 0,
    callbackErrors: 0,
  };
  #fd: number;
  #mtu: number;
  #mac: Uint8Array;
  #closed = false;
  /** The reactor's watch of the device once reading started. */
  #watch: ReactorWatch | undefined;
  #reactor: Reactor | undefined;
  #onFrame: FrameCallback | undefined;
  #onError: ((e: unknown) => void) | undefined;
  #onRoundEnd: RoundEndCallback | undefined;
  readonly #readBuf: Uint8Array<ArrayBuffer>;
  readonly #offloadCounters: TapOffloadCounters = {
    superFrames: 0,
    segments: 0,
    checksumsCompleted: 0,
    readDrops: 0,
    writeCalls: 0,
    coalescedWrites: 0,
    coalescedFrames: 0,
    badChecksums: 0,
    refusedMerges: 0,
  };
  readonly #vnet: VnetHdr = {
    flags: 0,
    gsoType: 0,
    hdrLen: 0,
    gsoSize: 0,
    csumStart: 0,
    csumOffset: 0,
  };
  readonly #segmenter: TcpSegmenter | undefined;
  readonly #coalescer: TcpCoalescer | undefined;
  #flushQueued = false;
  /** A {@link rehearseWrite} runs: the coalescer's sink writes nothing. */
  #rehearsing = false;
  /** Delivers one segment of a super-frame (bound once: no closure per frame). */
  readonly #deliverSegment = (buf: Uint8Array, start: number, end: number): void => {
    this.#offloadCounters.segments++;
    this.#deliver(buf.subarray(start, end));
  };
  /** The coalescer's sink: one write(2) of virtio-net header + frame. */
  readonly #writeOut = (buf: Uint8Array, length: number, frames: number): void => {
    if (this.#fd < 0) {
      if (!this.#rehearsing) this.counters.writeErrors += frames;
      return;
    }
    if (this.#rehearsing) {
      libc().write(this.#fd, buf as Uint8Array<ArrayBuffer>, 0); // refused (EINVAL): no effect
      return;
    }
    this.#offloadCounters.writeCalls++;
    const n = libc().write(this.#fd, buf as Uint8Array<ArrayBuffer>, length);
    if (n === length) this.counters.framesWritten += frames;
    else if (frames > 1) this.#writeSplit(buf, length);
    else this.counters.writeErrors++;
  };
  /** Writes one segment of a refused super-frame with a zeroed header in the 10 bytes before it. */
  readonly #writeSegment = (buf: Uint8Array, start: number, end: number): void => {
    const at = start - VNET_HDR_LEN;
    buf.fill(0, at, start);
    this.#offloadCounters.writeCalls++;
    const view = buf.subarray(at, end) as Uint8Array<ArrayBuffer>;
    if (libc().write(this.#fd, view, end - at) === end - at) this.counters.framesWritten++;
    else this.counters.writeErrors++;
  };
  /**
   * The microtask after a synchronous batch of writes: flushes what was buffered, then reads
   * what the kernel queued in answer at once (an ICMP echo reply or a TCP ACK is usually already
   * there), which saves a poll wake-up per round trip.
   */
  readonly #flushTask = (): void => {
    this.#flushQueued = false;
    this.flush();
    if (this.#watch && !this.#closed) this.#readRound();
  };

  private constructor(
    fd: number,
    name: string,
    mac: Uint8Array,
    mtu: number,
    offload: boolean,
  ) {
    this.#fd = fd;
    this.name = name;
    this.#mac = mac;
    this.#mtu = mtu;
    this.#readBuf = new Uint8Array(offload ? TAP_OFFLOAD_READ_BUFFER : TAP_READ_BUFFER);
    if (offload) {
      this.#segmenter = new TcpSegmenter();
      this.#coalescer = new TcpCoalescer(this.#writeOut);
    }
  }

  /**
   * Creates TAP interface `name` (<= 15 chars), sets its MAC and MTU and brings it up.
   * @throws TapError with a clear reason (no /dev/net/tun, not root, name taken, ...).
   */
  static open(
    name: string,
    mac: number | Uint8Array,
    mtu: number,
    opts: TapOpenOptions = {},
  ): LinuxTapDevice {
    if (name.length === 0 || name.length > MAX_IFNAME || /[\s/:]/.test(name)) {
      throw new TapError(`zt: cannot create TAP device: bad interface name "${name}"`);
    }
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
      throw new TapError(`zt: cannot create TAP device ${name}: bad MTU ${mtu}`);
    }
    const macb = new Uint8Array(macBytes(mac));
    // With offloads refused at any step the device is made again without them.
    let attached = (opts.offload ?? offloadByEnv()) ? LinuxTapDevice.#attach(name, true) : -1;
    const offload = typeof attached !== "number";
    if (!offload) attached = LinuxTapDevice.#attach(name, false);
    if (typeof attached === "number") throw createError("ioctl(TUNSETIFF)", name, attached);
    const { fd, actual } = attached;
    const dev = new LinuxTapDevice(fd, actual, macb, mtu, offload);
    dev.#reactor = opts.reactor;
    try {
      dev.setMac(macb);
      dev.setMtu(mtu);
      dev.setUp(true);
    } catch (e) {
      dev.#closeFds();
      const code = e instanceof LibcError ? e.errno : undefined;
      if (code === EPERM || code === EACCES) throw createError("configure", name, code);
      throw new TapError(
        `zt: cannot configure TAP device ${actual}: ${(e as Error).message}`,
        code,
      );
    }
    return dev;
  }

  /**
   * Opens /dev/net/tun and attaches TAP `name`; with `offload`, also IFF_VNET_HDR, header size
   * 10 and TUN_F_CSUM | TSO4 | TSO6. Returns the fd and the kernel's name, or the errno of the
   * failing step (nothing stays open then). @throws TapError when /dev/net/tun cannot be opened.
   */
  static #attach(name: string, offload: boolean): { fd: number; actual: string } | number {
    const l = libc();
    const fd = l.open(cString(TUN_PATH), O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0) throw createError(`open ${TUN_PATH}`, name, errno());
    const req = ifreq(name);
    new DataView(req.buffer).setInt16(16, IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0), true);
    let failed = l.ioctl(fd, TUNSETIFF, req) < 0;
    if (!failed && offload) {
      const size = new Uint8Array(4);
      new DataView(size.buffer).setInt32(0, VNET_HDR_LEN, true);
      failed = l.ioctl(fd, TUNSETVNETHDRSZ, size) < 0 ||
        l.ioctlInt(fd, TUNSETOFFLOAD, BigInt(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) < 0;
    }
    if (failed) {
      const code = errno();
      l.close(fd); // not persistent: a half-made interface goes with the fd
      return code;
    }
    return { fd, actual: ifreqName(req) };
  }

  /** Whether offloads are on (IFF_VNET_HDR with checksum offload and TSO). */
  get offload(): boolean {
    return this.#coalescer !== undefined;
  }

  /** Offload counters (zeros while {@link offload} is false). */
  get offloadCounters(): TapOffloadCounters {
    const c = this.#offloadCounters;
    const k: CoalesceCounters | undefined = this.#coalescer?.counters;
    if (k) {
      c.coalescedWrites = k.coalescedWrites;
      c.coalescedFrames = k.coalescedFrames;
      c.badChecksums = k.badChecksums;
    }
    return c;
  }

  /** Current MTU. */
  get mtu(): number {
    return this.#mtu;
  }

  /** Current MAC (a copy). */
  get mac(): Uint8Array {
    return new Uint8Array(this.#mac);
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs one interface ioctl on a throwaway AF_INET socket. @throws LibcError. */
  #ifIoctl(what: string, request: bigint, req: Uint8Array<ArrayBuffer>): void {
    const l = libc();
    const s = l.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) throw new LibcError("socket", errno());
    try {
      if (l.ioctl(s, request, req) < 0) {
        throw new LibcError(`ioctl(${what}) on ${this.name}`, errno());
      }
    } finally {
      l.close(s);
    }
  }

  /** Sets the interface MAC (SIOCSIFHWADDR). @throws LibcError. */
  setMac(mac: number | Uint8Array): void {
    const b = macBytes(mac);
    const req = ifreq(this.name);
    new DataView(req.buffer).setUint16(16, ARPHRD_ETHER, true);
    req.set(b, 18);
    this.#ifIoctl("SIOCSIFHWADDR", SIOCSIFHWADDR, req);
    this.#mac = new Uint8Array(b);
  }

  /** Sets the interface MTU (SIOCSIFMTU). @throws LibcError. */
  setMtu(mtu: number): void {
    const req = ifreq(this.name);
    new DataView(req.buffer).setInt32(16, mtu, true);
    this.#ifIoctl("SIOCSIFMTU", SIOCSIFMTU, req);
    this.#mtu = mtu;
  }

  /** Brings the interface up (with IFF_MULTICAST) or down (SIOCSIFFLAGS). @throws LibcError. */
  setUp(up: boolean): void {
    const req = ifreq(this.name);
    this.#ifIoctl("SIOCGIFFLAGS", SIOCGIFFLAGS, req);
    const dv = new DataView(req.buffer);
    let flags = dv.getUint16(16, true);
    flags = up ? flags | IFF_UP | IFF_MULTICAST : flags & ~IFF_UP;
    dv.setUint16(16, flags, true);
    this.#ifIoctl("SIOCSIFFLAGS", SIOCSIFFLAGS, req);
  }

  /**
   * Writes one Ethernet frame `frame[start, end)` to the kernel. Without offloads: synchronously,
   * false if the device is closed or the kernel refused it (counted in `writeErrors`). With
   * offloads the frame is copied and buffered (TCP segments of a flow merged) until {@link flush},
   * which a microtask queued by the first buffered write runs after the caller's synchronous
   * batch; true unless closed (refusals are counted in `writeErrors` at the flush).
   */
  write(frame: Uint8Array, start = 0, end = frame.length): boolean {
    if (this.#closed || end <= start) return false;
    const co = this.#coalescer;
    if (co) {
      // a frame nothing will merge with (ICMP, UDP, ARP...) is written now, with what was buffered
      // before it: a lone packet (a ping) then waits for no microtask
      if (!co.add(frame, start, end)) co.flush();
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        queueMicrotask(this.#flushTask);
      }
      return true;
    }
    // write(2) reads only `end - start` bytes, so a frame at offset 0 needs no view
    const view = start === 0 ? frame : frame.subarray(start, end);
    const n = libc().write(this.#fd, view as Uint8Array<ArrayBuffer>, end - start);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flushTask); // read the answers after this batch
    }
    if (n !== end - start) {
      this.counters.writeErrors++;
      return false;
    }
    this.counters.framesWritten++;
    return true;
  }

  /**
   * A rehearsal of {@link write} (see `FramePort.rehearseWrite`): the frame goes through the
   * coalescer (counted in a throwaway set; skipped while frames are buffered) to a `write(2)` of
   * zero bytes, which the kernel refuses (EINVAL) before it looks at the device: nothing is
   * written, no interface counter moves, no flush or read is scheduled.
   */
  rehearseWrite(frame: Uint8Array, start = 0, end = frame.length): void {
    if (this.#closed || this.#fd < 0 || end <= start) return;
    const co = this.#coalescer;
    this.#rehearsing = true;
    try {
      if (co) co.rehearse(frame, start, end);
      else libc().write(this.#fd, frame as Uint8Array<ArrayBuffer>, 0);
    } finally {
      this.#rehearsing = false;
    }
  }

  /** Writes every buffered frame now (no-op without offloads or when nothing is buffered). */
  flush(): void {
    this.#coalescer?.flush();
  }

  /**
   * Sets the frame callback and starts reading (once: the device joins the reactor). Frames are views into one reused
   * buffer: copy anything kept after the callback returns. Exceptions from the callback are
   * caught, counted and passed to `onError` if given. `onRoundEnd` runs after each read round
   * of the loop (exceptions go to `onError`).
   */
  onFrame(
    cb: FrameCallback,
    onError?: (e: unknown) => void,
    onRoundEnd?: RoundEndCallback,
  ): void {
    this.#onFrame = cb;
    this.#onError = onError;
    this.#onRoundEnd = onRoundEnd;
    if (!this.#watch && !this.#closed) {
      this.#reactor ??= Reactor.shared();
      this.#watch = this.#reactor.watch(
        this.#fd,
        this.#onReady,
        undefined,
        (e) => this.#report(e),
      );
    }
  }

  /**
   * Reads whatever is queued now, without waiting, until about {@link MAX_DRAIN_PER_ROUND}
   * frames were delivered or `maxReads` reads returned data; returns the number of frames
   * delivered (with offloads one read may deliver many: the segments of a super-frame).
   */
  drain(maxReads = MAX_DRAIN_PER_ROUND): number {
    const l = libc();
    const buf = this.#readBuf;
    const size = buf.length;
    const before = this.counters.framesRead;
    const most = Math.min(maxReads, MAX_DRAIN_PER_ROUND);
    let reads = 0;
    let bulk = false;
    while (
      this.counters.framesRead - before < MAX_DRAIN_PER_ROUND && reads < most && !this.#closed
    ) {
      const n = l.read(this.#fd, buf, size);
      if (n <= 0) {
        if (n < 0) {
          const code = errno();
          if (code === EINTR) continue;
          if (code !== EAGAIN) this.#report(new LibcError(`read ${this.name}`, code));
        }
        break;
      }
      reads++;
      if (n > MODERATE_VETO_BYTES) bulk = true;
      if (this.#coalescer) this.#offloadRead(buf, n);
      else this.#deliver(buf.subarray(0, n));
    }
    // bulk input to send (a read longer than a small frame such as an ACK): one veto per drain
    if (bulk) this.#reactor?.moderateVeto();
    return this.counters.framesRead - before;
  }

  /**
   * The kernel refused a merged super-frame (`buf[0, length)`, virtio-net header first): cut it
   * back into segments, each with its full checksum, and write them one by one.
   */
  #writeSplit(buf: Uint8Array, length: number): void {
    this.#offloadCounters.refusedMerges++;
    const gsoType = buf[1];
    const gsoSize = buf[4] | (buf[5] << 8);
    const got = this.#segmenter!.split(
      buf,
      VNET_HDR_LEN,
      length,
      gsoType,
      gsoSize,
      this.#writeSegment,
    );
    if (got < 0) this.counters.writeErrors++;
  }

  /** Hands one frame (a view valid during the call) to the callback, catching its errors. */
  #deliver(frame: Uint8Array): void {
    this.counters.framesRead++;
    const cb = this.#onFrame;
    if (!cb) return;
    try {
      cb(frame);
    } catch (e) {
      this.counters.callbackErrors++;
      this.#report(e);
    }
  }

  /** One read with a virtio-net header: deliver, complete the checksum, or segment. */
  #offloadRead(buf: Uint8Array, n: number): void {
    const oc = this.#offloadCounters;
    if (n <= VNET_HDR_LEN) {
      oc.readDrops++;
      return;
    }
    const h = readVnetHdr(buf, 0, this.#vnet);
    if (h.gsoType === VNET_GSO_NONE) {
      if (h.flags & VNET_F_NEEDS_CSUM) {
        if (!completeChecksum(buf, VNET_HDR_LEN, n, h.csumStart, h.csumOffset)) {
          oc.readDrops++;
          return;
        }
        oc.checksumsCompleted++;
      }
      this.#deliver(buf.subarray(VNET_HDR_LEN, n));
      return;
    }
    oc.superFrames++;
    const got = this.#segmenter!.split(
      buf,
      VNET_HDR_LEN,
      n,
      h.gsoType,
      h.gsoSize,
      this.#deliverSegment,
    );
    if (got < 0) oc.readDrops++;
  }

  #report(e: unknown): void {
    try {
      this.#onError?.(e);
    } catch {
      // an error handler that throws must not stop the loop
    }
  }

  /**
   * Drains the device and runs the round-end callback (the caller's flush point): once after the
   * first read, so what its frame(s) produced leaves before the read that finds the queue empty
   * (a lone frame - a ping - does not wait for it), and again after the rest if there was more.
   */
  #readRound(): void {
    if (this.drain(1) > 0) {
      this.#roundEnd();
      if (this.drain() > 0) this.#roundEnd();
    } else this.#roundEnd();
  }

  #roundEnd(): void {
    if (this.#onRoundEnd) {
      try {
        this.#onRoundEnd();
      } catch (e) {
        this.#report(e);
      }
    }
  }

  /** The reactor's callback: a read round when readable; a failed device stops being watched. */
  readonly #onReady = (rev: number): void => {
    if (this.#closed) return;
    this.counters.polls++;
    if (rev & POLLIN) {
      this.#readRound();
    } else {
      this.#report(
        new Error(`TAP device ${this.name} failed (poll revents 0x${rev.toString(16)})`),
      );
      const w = this.#watch;
      if (w) void w.close();
    }
  };

  #closeFds(): void {
    const l = libc();
    if (this.#fd >= 0) l.close(this.#fd);
    this.#fd = -1;
  }

  /**
   * Stops reading (leaves the reactor) and closes the device; the kernel then deletes the interface (with its
   * addresses and routes). Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    if (this.#watch) await this.#watch.close();
    this.#closeFds();
  }
}
