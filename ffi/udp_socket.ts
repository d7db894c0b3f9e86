// Linux UDP socket setup through Deno FFI: socket options, sockaddr encoding, bind with grown buffers.
import type { InetAddress } from "../src/vl1/inet_address.ts";
import {
  AF_INET,
  AF_INET6,
  errno,
  libc,
  LibcError,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
} from "./libc.ts";

/** errno: address family not supported (no IPv6 in this kernel/namespace). */
export const EAFNOSUPPORT = 97;
/** errno: address already in use. */
export const EADDRINUSE = 98;
/** errno: cannot assign requested address (IP not on this host). */
export const EADDRNOTAVAIL = 99;

/** Socket option level: the socket itself. */
export const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
/** Socket option: pending socket error (getsockopt). */
export const SO_ERROR = 4;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
/** Option level / cmsg level: IPv4. */
export const IPPROTO_IP = 0;
/** Option level / cmsg level: IPv6. */
export const IPPROTO_IPV6 = 41;
/** IPv4 option and cmsg type: TTL. */
export const IP_TTL = 2;
const IP_RECVTTL = 12;
/** IPv6 option: unicast hop limit. */
export const IPV6_UNICAST_HOPS = 16;
const IPV6_V6ONLY = 26;
const IPV6_RECVHOPLIMIT = 51;
/** IPv6 cmsg type: hop limit of a received datagram. */
export const IPV6_HOPLIMIT = 52;
/** msg_flags bit: the datagram was longer than the buffer. */
export const MSG_TRUNC = 0x20;
/** Option level / cmsg level: UDP. */
export const SOL_UDP = 17;
/** UDP option and cmsg type: GSO segment size. */
export const UDP_SEGMENT = 103;
/** UDP option and cmsg type: GRO (coalesced receive) and its segment size. */
export const UDP_GRO = 104;
/** errno: invalid argument (a GSO message the kernel refuses). */
export const EINVAL = 22;

/** Socket buffer size asked for by default (the kernel may grant less). */
export const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;
/** Bytes of one sockaddr slot (sockaddr_in6 is 28 bytes). */
export const SOCKADDR_SLOT = 32;

/** Extra libc symbols that ffi/libc.ts does not bind. */
const EXTRA_SYMBOLS = {
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
} as const;
let extraLib: Deno.DynamicLibrary<typeof EXTRA_SYMBOLS> | undefined;

/** getsockopt/getsockname, opened on first use (after libc() proved libc loads). */
function extra(): Deno.DynamicLibrary<typeof EXTRA_SYMBOLS>["symbols"] {
  if (extraLib) return extraLib.symbols;
  libc(); // throws a clear error off Linux
  let last: unknown;
  for (const name of ["libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"]) {
    try {
      extraLib = Deno.dlopen(name, EXTRA_SYMBOLS);
      return extraLib.symbols;
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`zt: cannot load the C library through FFI: ${String(last)}`);
}

/** One bound, nonblocking UDP socket (see {@link bindUdpSocket}). */
export interface BoundUdpSocket {
  /** File descriptor (owned by whoever closes it: {@link LinuxUdp} once handed over). */
  fd: number;
  /** Address family. */
  family: 4 | 6;
  /** Local address with the bound port. */
  local: InetAddress;
  /** Receive buffer size the kernel granted (bytes, as reported by getsockopt). */
  rcvbuf: number;
  /** Send buffer size the kernel granted. */
  sndbuf: number;
}

/** Writes `a` as a sockaddr_in / sockaddr_in6 at `off` of `b`; returns its length. */
export function writeSockaddr(b: Uint8Array, off: number, a: InetAddress): number {
  const ip = a.ip;
  if (a.family === 4) {
    b[off] = AF_INET;
    b[off + 1] = 0;
    b[off + 2] = a.port >>> 8;
    b[off + 3] = a.port & 0xff;
    b[off + 4] = ip[0];
    b[off + 5] = ip[1];
    b[off + 6] = ip[2];
    b[off + 7] = ip[3];
    for (let i = 8; i < 16; i++) b[off + i] = 0;
    return 16;
  }
  b[off] = AF_INET6;
  b[off + 1] = 0;
  b[off + 2] = a.port >>> 8;
  b[off + 3] = a.port & 0xff;
  b[off + 4] =
    b[off + 5] =
    b[off + 6] =
    b[off + 7] =
      0; // flowinfo
  for (let i = 0; i < 16; i++) b[off + 8 + i] = ip[i];
  b[off + 24] =
    b[off + 25] =
    b[off + 26] =
    b[off + 27] =
      0; // scope id
  return 28;
}

/** An `int` argument for setsockopt. */
export function intOpt(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/** getsockopt for an `int` option; -1 on failure. */
export function getIntOpt(fd: number, level: number, name: number): number {
  const v = new Uint8Array(4);
  const len = new Uint8Array(4);
  len[0] = 4;
  if (extra().getsockopt(fd, level, name, v, len) < 0) return -1;
  return new DataView(v.buffer).getInt32(0, true);
}

/** Asks for `bytes` of socket buffer: the privileged FORCE option first, then the capped one. */
function growBuffer(fd: number, force: number, plain: number, bytes: number): number {
  const l = libc();
  const v = intOpt(bytes);
  if (l.setsockopt(fd, SOL_SOCKET, force, v, 4) < 0) {
    l.setsockopt(fd, SOL_SOCKET, plain, v, 4); // capped at net.core.[rw]mem_max; best effort
  }
  return getIntOpt(fd, SOL_SOCKET, plain);
}

/**
 * Creates a nonblocking UDP socket bound to `local` (IP and port; port 0 = kernel's choice), IPv6
 * sockets IPv6-only, SO_REUSEADDR off, socket buffers grown toward `bufferBytes`. With
 * `receiveTtl` the socket also reports each datagram's TTL / hop limit.
 * @throws LibcError (errno {@link EADDRINUSE} when the port is taken, {@link EAFNOSUPPORT} without
 * IPv6, {@link EADDRNOTAVAIL} for an IP not on this host); Error off Linux.
 */
export function bindUdpSocket(
  local: InetAddress,
  bufferBytes = DEFAULT_SOCKET_BUFFER,
  receiveTtl = false,
): BoundUdpSocket {
  const l = libc();
  const fam = local.family === 4 ? AF_INET : AF_INET6;
  const fd = l.socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new LibcError("socket(UDP)", errno());
  try {
    const one = intOpt(1);
    if (fam === AF_INET6 && l.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, one, 4) < 0) {
      throw new LibcError("setsockopt(IPV6_V6ONLY)", errno());
    }
    if (receiveTtl) {
      const ok = fam === AF_INET
        ? l.setsockopt(fd, IPPROTO_IP, IP_RECVTTL, one, 4)
        : l.setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, one, 4);
      if (ok < 0) throw new LibcError("setsockopt(RECVTTL)", errno());
    }
    const rcvbuf = growBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, bufferBytes);
    const sndbuf = growBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, bufferBytes);
    const sa = new Uint8Array(SOCKADDR_SLOT);
    const saLen = writeSockaddr(sa, 0, local);
    if (l.bind(fd, sa, saLen) < 0) {
      const code = errno();
      throw new LibcError(`bind ${local.toIpString()}/${local.port}`, code);
    }
    let port = local.port;
    if (port === 0) {
      const out = new Uint8Array(SOCKADDR_SLOT);
      const len = new Uint8Array(4);
      len[0] = SOCKADDR_SLOT;
      if (extra().getsockname(fd, out, len) < 0) throw new LibcError("getsockname", errno());
      port = (out[2] << 8) | out[3];
    }
    return { fd, family: local.family, local: local.withPort(port), rcvbuf, sndbuf };
  } catch (e) {
    l.close(fd);
    throw e;
  }
}
