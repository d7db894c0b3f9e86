// InetAddress: an IPv4/IPv6 address plus port (or netmask bits), with ZeroTier's binary and text forms.
import { toHex } from "../util/hex.ts";

/** IP address scope classes (spec §5.1); the numeric values are the reference's. */
export enum IpScope {
  /** Unusable / unspecified (0/8, 255/8, ::). */
  NONE = 0,
  /** Multicast (224/4, ff00::/8). */
  MULTICAST = 1,
  /** Loopback (127/8, ::1, ::ffff:127.x, fe80::1). */
  LOOPBACK = 2,
  /** Globally routed blocks used privately in practice (240/4, old DoD /8s). */
  PSEUDOPRIVATE = 3,
  /** Everything else. */
  GLOBAL = 4,
  /** Link-local (169.254/16, fe80::/10). */
  LINK_LOCAL = 5,
  /** Shared address space (defined for completeness; the classifier never returns it). */
  SHARED = 6,
  /** RFC 1918 and similar private ranges, fc00::/7. */
  PRIVATE = 7,
}

/** Binary type byte: nil / no address (spec §5.1). */
export const INET_TYPE_NIL = 0x00;
/** Binary type byte: IPv4 (spec §5.1). */
export const INET_TYPE_IPV4 = 0x04;
/** Binary type byte: IPv6 (spec §5.1). */
export const INET_TYPE_IPV6 = 0x06;

/** First octets of the IPv4 /8 blocks classified as pseudo-private (spec §5.1). */
const PSEUDO_PRIVATE_V4 = new Set([6, 11, 21, 22, 25, 26, 28, 29, 30, 51, 55, 56]);

/**
 * An IP address (4 or 16 bytes) with a 16-bit port. Where ZeroTier uses the type for a
 * network (static IPs, routes) the port holds the netmask bit count. Immutable value type.
 */
export class InetAddress {
  /** Address family: 4 or 6. */
  readonly family: 4 | 6;
  /** Address bytes in network order: 4 bytes (IPv4) or 16 bytes (IPv6). Do not mutate. */
  readonly ip: Uint8Array;
  /** Port, or netmask bits for networks/routes, 0..65535. */
  readonly port: number;

  /**
   * Builds an address from raw bytes (copied) and a port.
   * @throws RangeError when `ip` is not 4 or 16 bytes or the port is not 0..65535 (a
   * programming error; use {@link InetAddress.parse} / {@link InetAddress.deserialize} for
   * untrusted input).
   */
  constructor(ip: Uint8Array, port = 0) {
    if (ip.length !== 4 && ip.length !== 16) throw new RangeError("InetAddress: bad ip length");
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
      throw new RangeError(`InetAddress: bad port ${port}`);
    }
    this.family = ip.length === 4 ? 4 : 6;
    this.ip = new Uint8Array(ip);
    this.port = port;
  }

  /** IPv4 address from a big-endian 32-bit number (e.g. 0x0a000001 = 10.0.0.1). */
  static fromIpv4Number(v: number, port = 0): InetAddress {
    return new InetAddress(
      new Uint8Array([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]),
      port,
    );
  }

  /**
   * Parses ZeroTier's text form `ip/port` ("1.2.3.4/9993", "fd00::1/88") or a bare IP (port 0).
   * IPv6 if the IP part contains ':', IPv4 otherwise. Undefined for anything malformed.
   */
  static parse(text: string): InetAddress | undefined {
    if (typeof text !== "string" || text.length > 128) return undefined;
    const slash = text.indexOf("/");
    const ipText = slash < 0 ? text : text.slice(0, slash);
    let port = 0;
    if (slash >= 0) {
      const p = text.slice(slash + 1);
      if (!/^[0-9]{1,5}$/.test(p)) return undefined;
      port = parseInt(p, 10);
      if (port > 0xffff) return undefined;
    }
    return InetAddress.fromIp(ipText, port);
  }

  /** Parses a bare IPv4 or IPv6 address text with the given port; undefined if malformed. */
  static fromIp(ipText: string, port = 0): InetAddress | undefined {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) return undefined;
    const ip = ipText.includes(":") ? parseIpv6(ipText) : parseIpv4(ipText);
    return ip ? new InetAddress(ip, port) : undefined;
  }

  /**
   * Reads the binary form (spec §5.1) at `off`. Returns the decoded address (undefined for nil
   * and for the skipped Ethernet/Bluetooth/other types 1, 2, 3) and the number of bytes
   * consumed; returns undefined for a truncated buffer or an unknown type byte.
   */
  static deserialize(
    b: Uint8Array,
    off = 0,
  ): { addr: InetAddress | undefined; length: number } | undefined {
    if (off < 0 || off >= b.length) return undefined;
    const avail = b.length - off;
    switch (b[off]) {
      case INET_TYPE_NIL:
        return { addr: undefined, length: 1 };
      case 0x01:
      case 0x02:
        return avail >= 7 ? { addr: undefined, length: 7 } : undefined;
      case 0x03: {
        if (avail < 3) return undefined;
        const len = 3 + ((b[off + 1] << 8) | b[off + 2]);
        return avail >= len ? { addr: undefined, length: len } : undefined;
      }
      case INET_TYPE_IPV4:
        if (avail < 7) return undefined;
        return {
          addr: new InetAddress(b.subarray(off + 1, off + 5), (b[off + 5] << 8) | b[off + 6]),
          length: 7,
        };
      case INET_TYPE_IPV6:
        if (avail < 19) return undefined;
        return {
          addr: new InetAddress(b.subarray(off + 1, off + 17), (b[off + 17] << 8) | b[off + 18]),
          length: 19,
        };
      default:
        return undefined;
    }
  }

  /** Length of the binary form: 7 (IPv4) or 19 (IPv6). */
  get serializedLength(): number {
    return this.family === 4 ? 7 : 19;
  }

  /**
   * Writes the binary form (type byte, address, big-endian port) at `off` and returns the number
   * of bytes written. @throws RangeError if `b` is too small (a programming error).
   */
  serializeInto(b: Uint8Array, off: number): number {
    const n = this.serializedLength;
    if (off < 0 || off + n > b.length) throw new RangeError("InetAddress.serializeInto: no room");
    b[off] = this.family === 4 ? INET_TYPE_IPV4 : INET_TYPE_IPV6;
    b.set(this.ip, off + 1);
    b[off + n - 2] = this.port >>> 8;
    b[off + n - 1] = this.port & 0xff;
    return n;
  }

  /** The binary form as a new array (7 or 19 bytes). */
  serialize(): Uint8Array {
    const b = new Uint8Array(this.serializedLength);
    this.serializeInto(b, 0);
    return b;
  }

  /** Text of the IP alone: dotted quad, or compressed IPv6 as glibc's inet_ntop prints it. */
  toIpString(): string {
    return this.family === 4 ? formatIpv4(this.ip, 0) : formatIpv6(this.ip);
  }

  /** ZeroTier's text form `ip/port`, e.g. "1.2.3.4/9993" or "fd00::1/88". */
  toString(): string {
    return `${this.toIpString()}/${this.port}`;
  }

  /** A copy with another port (or netmask bit count). */
  withPort(port: number): InetAddress {
    return new InetAddress(this.ip, port);
  }

  /** The IPv4 address as an unsigned big-endian 32-bit number; undefined for IPv6. */
  ipv4Number(): number | undefined {
    if (this.family !== 4) return undefined;
    return ((this.ip[0] << 24) | (this.ip[1] << 16) | (this.ip[2] << 8) | this.ip[3]) >>> 0;
  }

  /** Scope classification of the IP (spec §5.1). */
  scope(): IpScope {
    return this.family === 4 ? scopeV4(this.ip) : scopeV6(this.ip);
  }

  /** Same family, IP and port. */
  equals(o: InetAddress): boolean {
    return this.port === o.port && this.ipEquals(o);
  }

  /** Same family and IP (port ignored). */
  ipEquals(o: InetAddress): boolean {
    if (this.family !== o.family) return false;
    for (let i = 0; i < this.ip.length; i++) if (this.ip[i] !== o.ip[i]) return false;
    return true;
  }

  /** String key for maps/sets: equal iff {@link equals}. */
  key(): string {
    return `${toHex(this.ip)}/${this.port}`;
  }

  /** String key of the IP alone: equal iff {@link ipEquals}. */
  ipKey(): string {
    return toHex(this.ip);
  }

  /** Netmask bit count when this value denotes a network (the port field). */
  get netmaskBits(): number {
    return this.port;
  }

  /** The netmask bytes for {@link netmaskBits} (clamped to 32/128), port 0. */
  netmask(): InetAddress {
    return new InetAddress(maskBytes(this.ip.length, this.port), 0);
  }

  /** The network address: IP with host bits cleared, port = netmask bits. */
  network(): InetAddress {
    const m = maskBytes(this.ip.length, this.port);
    const ip = new Uint8Array(this.ip.length);
    for (let i = 0; i < ip.length; i++) ip[i] = this.ip[i] & m[i];
    return new InetAddress(ip, this.port);
  }

  /**
   * CIDR test: treats this value as `ip/bits` (bits = port, clamped to 32/128) and returns true
   * iff `other` has the same family and its IP shares the first `bits` bits. Other's port is
   * ignored.
   */
  containsAddress(other: InetAddress): boolean {
    if (this.family !== other.family) return false;
    const bits = Math.min(this.port, this.ip.length * 8);
    const whole = bits >>> 3;
    for (let i = 0; i < whole; i++) if (this.ip[i] !== other.ip[i]) return false;
    const rest = bits & 7;
    if (rest === 0) return true;
    const m = (0xff << (8 - rest)) & 0xff;
    return (this.ip[whole] & m) === (other.ip[whole] & m);
  }

  /** Total order: IPv4 before IPv6, then IP bytes, then port. Usable with `Array.sort`. */
  static compare(a: InetAddress, b: InetAddress): number {
    if (a.family !== b.family) return a.family - b.family;
    for (let i = 0; i < a.ip.length; i++) if (a.ip[i] !== b.ip[i]) return a.ip[i] - b.ip[i];
    return a.port - b.port;
  }
}

/** Mask of `bits` leading one bits over `len` bytes (bits clamped to 0..len*8). */
function maskBytes(len: number, bits: number): Uint8Array {
  const m = new Uint8Array(len);
  const n = Math.max(0, Math.min(bits, len * 8));
  for (let i = 0; i < len; i++) {
    const left = n - i * 8;
    m[i] = left >= 8 ? 0xff : left <= 0 ? 0 : (0xff << (8 - left)) & 0xff;
  }
  return m;
}

/** Dotted-quad parser: four decimal octets 0..255, no leading zeros; undefined if malformed. */
function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = parseInt(p, 10);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/** Parses 1..8 hex groups (no "::") into `out` at `at`; returns groups written or -1. */
function parseGroups(parts: string[], out: Uint8Array, at: number): number {
  for (let i = 0; i < parts.length; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(parts[i])) return -1;
    const v = parseInt(parts[i], 16);
    out[at + i * 2] = v >>> 8;
    out[at + i * 2 + 1] = v & 0xff;
  }
  return parts.length;
}

/** RFC 4291 text parser (with "::" and a trailing dotted quad); undefined if malformed. */
function parseIpv6(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  // A trailing IPv4 part counts as two groups.
  let tail4: Uint8Array | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(":");
  if (s.indexOf(".", lastColon) >= 0) {
    tail4 = parseIpv4(s.slice(lastColon + 1));
    if (!tail4) return undefined;
    text = s.slice(0, lastColon + 1) + "0:0";
  }
  const out = new Uint8Array(16);
  const dbl = text.indexOf("::");
  if (dbl >= 0) {
    if (text.indexOf("::", dbl + 1) >= 0) return undefined;
    const left = text.slice(0, dbl);
    const right = text.slice(dbl + 2);
    const lp = left === "" ? [] : left.split(":");
    const rp = right === "" ? [] : right.split(":");
    if (lp.length + rp.length > 7) return undefined;
    if (parseGroups(lp, out, 0) < 0) return undefined;
    if (parseGroups(rp, out, 16 - rp.length * 2) < 0) return undefined;
  } else {
    const parts = text.split(":");
    if (parts.length !== 8 || parseGroups(parts, out, 0) < 0) return undefined;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

/** Dotted quad of 4 bytes at `off`. */
function formatIpv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * IPv6 text the way glibc's inet_ntop prints it: lowercase, no leading zeros, the longest run
 * (first on ties) of two or more zero groups written as "::", and IPv4-mapped / -compatible
 * addresses with a dotted-quad tail.
 */
function formatIpv6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[i * 2] << 8) | b[i * 2 + 1]);
  let bestBase = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  if (
    bestBase === 0 &&
    (bestLen === 6 || (bestLen === 7 && w[7] !== 1) || (bestLen === 5 && w[5] === 0xffff))
  ) {
    return (bestLen === 5 ? "::ffff:" : "::") + formatIpv4(b, 12);
  }
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestBase) {
      s += "::";
      i += bestLen - 1;
      continue;
    }
    if (s !== "" && !s.endsWith(":")) s += ":";
    s += w[i].toString(16);
  }
  return s;
}

/** IPv4 scope classification (spec §5.1). */
function scopeV4(ip: Uint8Array): IpScope {
  const a = ip[0], b = ip[1], c = ip[2];
  switch (a) {
    case 0:
      return IpScope.NONE;
    case 10:
      return IpScope.PRIVATE;
    case 100:
      if ((b & 0xc0) === 64) return IpScope.PRIVATE; // 100.64/10
      break;
    case 127:
      return IpScope.LOOPBACK;
    case 169:
      if (b === 254) return IpScope.LINK_LOCAL;
      break;
    case 172:
      if ((b & 0xf0) === 16) return IpScope.PRIVATE; // 172.16/12
      break;
    case 192:
      if (b === 168) return IpScope.PRIVATE;
      if (b === 0 && c === 2) return IpScope.PRIVATE;
      break;
    case 198:
      if ((b & 0xfe) === 18) return IpScope.PRIVATE; // 198.18/15
      if (b === 51 && c === 100) return IpScope.PRIVATE;
      break;
    case 203:
      if (b === 0 && c === 113) return IpScope.PRIVATE;
      break;
    case 255:
      return IpScope.NONE;
  }
  if (PSEUDO_PRIVATE_V4.has(a)) return IpScope.PSEUDOPRIVATE;
  if ((a & 0xf0) === 0xe0) return IpScope.MULTICAST;
  if ((a & 0xf0) === 0xf0) return IpScope.PSEUDOPRIVATE;
  return IpScope.GLOBAL;
}

/** IPv6 scope classification (spec §5.1). */
function scopeV6(ip: Uint8Array): IpScope {
  if (ip[0] === 0xff) return IpScope.MULTICAST;
  if (ip[0] === 0xfe && (ip[1] & 0xc0) === 0x80) {
    // fe80::1 is treated as loopback.
    let rest = 0;
    for (let i = 2; i < 15; i++) rest |= ip[i];
    return rest === 0 && ip[15] === 1 ? IpScope.LOOPBACK : IpScope.LINK_LOCAL;
  }
  if ((ip[0] & 0xfe) === 0xfc) return IpScope.PRIVATE;
  let head = 0;
  for (let i = 0; i < 10; i++) head |= ip[i];
  if (head === 0) {
    let mid = ip[10] | ip[11] | ip[12] | ip[13] | ip[14];
    if (mid === 0 && ip[15] === 1) return IpScope.LOOPBACK;
    if (ip[10] === 0xff && ip[11] === 0xff && ip[12] === 127) return IpScope.LOOPBACK;
    mid |= ip[15];
    if (mid === 0) return IpScope.NONE;
  }
  return IpScope.GLOBAL;
}
