// The send ring of a Linux UDP socket: preallocated datagram slots with their sockaddrs, iovecs and mmsghdrs, and the GSO messages built over them.
import type { InetAddress } from "../src/vl1/inet_address.ts";
import { SOCKADDR_SLOT, SOL_UDP, UDP_SEGMENT, writeSockaddr } from "./udp_socket.ts";

/**
 * Datagrams a socket's send ring holds before it is flushed (sendmmsg vlen; <= UIO_MAXIOV). A busy
 * ring stays resident: 64 slots are 128 KiB (one GSO message carries at most 64 segments anyway).
 */
export const SEND_RING = 64;
/** Bytes per send ring slot; larger datagrams bypass the ring (flush, then sendto). */
export const SEND_SLOT = 2048;
/** Bytes of a struct mmsghdr on 64-bit Linux. */
export const MSGHDR = 64;
/** Bytes of a struct iovec on 64-bit Linux. */
export const IOVEC = 16;
/** Bytes of one UDP_SEGMENT control message: CMSG_SPACE(sizeof(u16)). */
export const GSO_CONTROL = 24;

/** A socket's send ring: {@link SEND_RING} slots of {@link SEND_SLOT} bytes plus mmsghdrs. */
export interface SendRing {
  /** Slots, then sockaddrs, iovecs and mmsghdrs (every pointer filled in). */
  buf: Uint8Array;
  /** The mmsghdr array (for the FFI call). */
  msgs: Uint8Array;
  /** The mmsghdr array as u32 words. */
  u32: Uint32Array;
  /** The iovec array as u32 words. */
  iovU32: Uint32Array;
  /** Offset of the sockaddr array in `buf`. */
  namesOff: number;
  /** Length of each queued datagram. */
  lens: Uint32Array;
  /** Datagrams queued. */
  count: number;
  /**
   * Destination of each queued datagram (slots from `count` on are stale). A datagram for the
   * same address object as the one before it reuses its sockaddr and may join its GSO run.
   */
  remotes: (InetAddress | undefined)[];
  /** Address of `buf` in memory. */
  base: number;
  /** GSO messages built over this ring's slots (allocated on first use). */
  gso: GsoArea | undefined;
  /** Copies sockaddr `k - 1` to slot `k`; returns its length. */
  copyLastName(k: number): number;
}

/** Allocates a send ring with every iovec / mmsghdr pointer filled in. */
export function newSendRing(): SendRing {
  const namesOff = SEND_RING * SEND_SLOT;
  const iovOff = namesOff + SEND_RING * SOCKADDR_SLOT;
  const msgsOff = iovOff + SEND_RING * IOVEC;
  const buf = new Uint8Array(msgsOff + SEND_RING * MSGHDR);
  const base = Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf));
  const dv = new DataView(buf.buffer);
  for (let i = 0; i < SEND_RING; i++) {
    const iov = iovOff + i * IOVEC;
    dv.setBigUint64(iov, base + BigInt(i * SEND_SLOT), true);
    const m = msgsOff + i * MSGHDR;
    dv.setBigUint64(m, base + BigInt(namesOff + i * SOCKADDR_SLOT), true); // msg_name
    dv.setBigUint64(m + 16, base + BigInt(iov), true); // msg_iov
    dv.setBigUint64(m + 24, 1n, true); // msg_iovlen
  }
  const u32 = new Uint32Array(buf.buffer, msgsOff, SEND_RING * (MSGHDR / 4));
  const ring: SendRing = {
    buf,
    msgs: buf.subarray(msgsOff),
    u32,
    iovU32: new Uint32Array(buf.buffer, iovOff, SEND_RING * (IOVEC / 4)),
    namesOff,
    lens: new Uint32Array(SEND_RING),
    count: 0,
    remotes: new Array(SEND_RING).fill(undefined),
    base: Number(base),
    gso: undefined,
    copyLastName(k: number): number {
      const from = namesOff + (k - 1) * SOCKADDR_SLOT;
      buf.copyWithin(from + SOCKADDR_SLOT, from, from + SOCKADDR_SLOT);
      return u32[(((k - 1) * MSGHDR) >> 2) + 2];
    },
  };
  return ring;
}

/**
 * Writes datagram `data` for `remote` into the ring's next free slot (`r.count`, which the caller
 * then counts in, or not, for a rehearsal) with its sockaddr, iov_len and msg_namelen; returns the
 * slot. `data` must fit {@link SEND_SLOT} and the ring must not be full.
 */
export function stage(r: SendRing, remote: InetAddress, data: Uint8Array): number {
  const k = r.count;
  const len = data.length;
  r.buf.set(data, k * SEND_SLOT);
  const saLen = k > 0 && r.remotes[k - 1] === remote
    ? r.copyLastName(k)
    : writeSockaddr(r.buf, r.namesOff + k * SOCKADDR_SLOT, remote);
  r.remotes[k] = remote;
  r.u32[((k * MSGHDR) >> 2) + 2] = saLen; // msg_namelen
  r.iovU32[(k * IOVEC + 8) >> 2] = len; // iov_len (low half; the high half stays 0)
  r.lens[k] = len;
  return k;
}

/** mmsghdrs (and their UDP_SEGMENT control messages) for GSO sends over a ring's slots. */
export interface GsoArea {
  /** The mmsghdr array (for the FFI call). */
  msgs: Uint8Array;
  /** The area as u32 words (mmsghdrs from word 0). */
  u32: Uint32Array;
  /** The area. */
  dv: DataView;
  /** Offset of the control messages in the area. */
  controlOff: number;
  /** Address of the ring's first sockaddr slot. */
  namesPtr: number;
  /** Address of the ring's first iovec. */
  iovPtr: number;
  /** First ring slot of each message. */
  runStart: Uint16Array;
  /** One past the last ring slot of each message. */
  runEnd: Uint16Array;
}

/** Writes pointer `p` (a safe integer) as the u64 at u32 word `w`. */
export function setPtr(u32: Uint32Array, w: number, p: number): void {
  u32[w] = p >>> 0;
  u32[w + 1] = Math.floor(p / 4294967296);
}

/** Allocates the GSO messages of ring `r`: each control slot already holds a UDP_SEGMENT header. */
export function newGsoArea(r: SendRing): GsoArea {
  const controlOff = SEND_RING * MSGHDR;
  const buf = new Uint8Array(controlOff + SEND_RING * GSO_CONTROL);
  const base = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
  const dv = new DataView(buf.buffer);
  const u32 = new Uint32Array(buf.buffer);
  for (let m = 0; m < SEND_RING; m++) {
    const c = controlOff + m * GSO_CONTROL;
    dv.setUint32(c, 18, true); // cmsg_len = CMSG_LEN(sizeof(u16)) (low half of a u64)
    dv.setInt32(c + 8, SOL_UDP, true);
    dv.setInt32(c + 12, UDP_SEGMENT, true);
    setPtr(u32, ((m * MSGHDR) >> 2) + 8, base + c); // msg_control
  }
  const namesOff = SEND_RING * SEND_SLOT;
  const iovOff = namesOff + SEND_RING * SOCKADDR_SLOT;
  return {
    msgs: buf.subarray(0, controlOff),
    u32,
    dv,
    controlOff,
    namesPtr: r.base + namesOff,
    iovPtr: r.base + iovOff,
    runStart: new Uint16Array(SEND_RING),
    runEnd: new Uint16Array(SEND_RING),
  };
}
