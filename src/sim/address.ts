// Simulator endpoint type (IP + UDP port) and its `ip/port` text form (ZeroTier's InetAddress text).

/** A UDP endpoint in the simulated internet. IPs are IPv4 dotted quads or IPv6 text. */
export interface SimAddr {
  readonly ip: string;
  readonly port: number;
}

/** Builds a {@link SimAddr}. */
export function simAddr(ip: string, port: number): SimAddr {
  return { ip, port };
}

/** Text form `ip/port`, e.g. `198.18.0.1/9993` or `fd00::1/9993`; usable as a Map key. */
export function addrKey(a: SimAddr): string {
  return `${a.ip}/${a.port}`;
}

/** Whether two endpoints are the same IP and port. */
export function sameAddr(a: SimAddr, b: SimAddr): boolean {
  return a.ip === b.ip && a.port === b.port;
}

/** Whether `s` is a canonical IPv4 dotted quad (no leading zeros, each part 0..255). */
export function isIpv4(s: string): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return false;
  }
  return true;
}

/** Whether `s` looks like IPv6 text (hex groups with colons, at most one `::`, optional v4 tail). */
export function isIpv6(s: string): boolean {
  if (!s.includes(":") || s.length > 45) return false;
  const dbl = s.split("::");
  if (dbl.length > 2) return false;
  const groups = dbl.flatMap((part) => (part === "" ? [] : part.split(":")));
  let count = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (i === groups.length - 1 && g.includes(".")) {
      if (!isIpv4(g)) return false;
      count += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) count++;
    else return false;
  }
  return dbl.length === 2 ? count < 8 : count === 8;
}

/** Whether `s` is an IPv4 or IPv6 address text. */
export function isIp(s: string): boolean {
  return isIpv4(s) || isIpv6(s);
}

/** Parses `ip/port` (split at the last `/`); undefined for malformed text or a port outside 0..65535. */
export function parseAddr(text: string): SimAddr | undefined {
  const slash = text.lastIndexOf("/");
  if (slash <= 0) return undefined;
  const ip = text.slice(0, slash);
  const portText = text.slice(slash + 1);
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535 || !isIp(ip)) return undefined;
  return { ip, port };
}
