// This host's interface addresses usable for ZeroTier traffic (listeningOn, direct path pushes).
import { InetAddress } from "../vl1/inet_address.ts";

/**
 * Non-loopback, non-link-local interface addresses with `port`, sorted; optionally restricted
 * to the given explicit bind addresses. Empty if the interface list cannot be read.
 */
export function localInterfaceAddresses(port: number, bind: InetAddress[] = []): InetAddress[] {
  if (bind.length > 0) {
    return bind.filter((a) => !a.ip.every((x) => x === 0)).map((a) => a.withPort(port));
  }
  let ifs: Deno.NetworkInterfaceInfo[];
  try {
    ifs = Deno.networkInterfaces();
  } catch {
    return [];
  }
  const seen = new Set<string>();
  const out: InetAddress[] = [];
  for (const i of ifs) {
    const a = InetAddress.fromIp(i.address.replace(/%.*$/, ""), port);
    if (!a) continue;
    if (a.family === 4 && a.ip[0] === 127) continue;
    if (a.family === 6 && a.ip[0] === 0xfe && (a.ip[1] & 0xc0) === 0x80) continue;
    if (a.family === 6 && a.ip.slice(0, 15).every((x) => x === 0)) continue;
    if (seen.has(a.key())) continue;
    seen.add(a.key());
    out.push(a);
  }
  return out.sort(InetAddress.compare);
}
