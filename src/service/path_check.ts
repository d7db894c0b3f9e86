// The host's path check from local.conf: physical blacklists and per-peer virtual blacklists.
import type { InetAddress } from "../vl1/inet_address.ts";
import type { LocalConf } from "./local_conf.ts";

/**
 * Builds a NodeHost.pathCheck: a physical address is refused if a `physical.<cidr>` entry with
 * `blacklist: true` contains it, or the peer's `virtual.<addr>.blacklist` does.
 */
export function makePathCheck(
  conf: LocalConf,
): (peerAddress: number, localSocket: number, remote: InetAddress) => boolean {
  const blocked = conf.physical.filter((p) => p.blacklist).map((p) => p.network);
  return (peerAddress, _localSocket, remote) => {
    for (const n of blocked) if (n.containsAddress(remote)) return false;
    if (conf.virtual.size > 0) {
      const v = conf.virtual.get(peerAddress.toString(16).padStart(10, "0"));
      if (v) { for (const n of v.blacklist) if (n.containsAddress(remote)) return false; }
    }
    return true;
  };
}
