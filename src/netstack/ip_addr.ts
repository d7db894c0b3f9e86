// IP addresses of the userspace stack: 4- or 16-byte arrays, their text forms and prefix tests.

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address. */
export type IpAddr = Uint8Array;

/** Parses dotted IPv4 or RFC 4291 IPv6 text; undefined if malformed. */
export function parseIp(text: string): IpAddr | undefined {
  const t = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) {
    const p = t.split(".").map(Number);
    return p.every((n) => n <= 255) ? Uint8Array.from(p) : undefined;
  }
  if (!/^[0-9a-fA-F:.]+$/.test(t) || t.length < 2) return undefined;
  const halves = t.split("::");
  if (halves.length > 2) return undefined;
  const part = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const groups = s.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIp(g);
        if (!v4 || v4.length !== 4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const a = part(halves[0]);
  const b = halves.length === 2 ? part(halves[1]) : [];
  if (!a || !b) return undefined;
  const fill = 8 - a.length - b.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const words = [...a, ...new Array(halves.length === 2 ? fill : 0).fill(0), ...b];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

/** Text form: dotted quad or compressed IPv6. */
export function ipText(ip: IpAddr): string {
  if (ip.length === 4) return `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((ip[i] << 8) | ip[i + 1]);
  let bestAt = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLen).join(":")}`;
}

/** Equality of two addresses. */
export function ipEqual(a: IpAddr, b: IpAddr): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `ip` lies in `net`/`bits`. */
export function inPrefix(ip: IpAddr, net: IpAddr, bits: number): boolean {
  if (ip.length !== net.length) return false;
  let b = Math.max(0, Math.min(bits, ip.length * 8));
  for (let i = 0; b > 0; i++, b -= 8) {
    const mask = b >= 8 ? 0xff : (0xff << (8 - b)) & 0xff;
    if ((ip[i] & mask) !== (net[i] & mask)) return false;
  }
  return true;
}

/** A map key for an address (its text form is unique per address). */
export function ipKey(ip: IpAddr): string {
  return ip.length === 4 ? `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}` : ipText(ip);
}

/** The unspecified address of the family of `ip`. */
export function isUnspecified(ip: IpAddr): boolean {
  return ip.every((x) => x === 0);
}
