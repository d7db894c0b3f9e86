// Path upkeep of a node: path learning on receive, surface changes, the periodic ping/keepalive pass over peers and upstreams, and direct path pushes (spec §9.2, §9.3, §9.5, §9.7).
import { isNontrivialVerb } from "./incoming.ts";
import type { InetAddress } from "./inet_address.ts";
import type { Node } from "./node.ts";
import {
  DIRECT_PATH_PUSH_INTERVAL,
  DIRECT_PATH_PUSH_INTERVAL_HAVEPATH,
  PATH_HEARTBEAT_PERIOD,
} from "./node_settings.ts";
import { Verb } from "./packet.ts";
import type { Path } from "./path.ts";
import type { Peer } from "./peer.ts";
import { encodePushDirectPaths } from "./verbs/push_direct_paths.ts";

/** Most addresses per PUSH_DIRECT_PATHS packet. */
const PUSH_CHUNK = 40;

/**
 * Per-packet bookkeeping after a handler: receive times, path learning on direct packets (a
 * confirming contact for unknown paths) and, with trust established, direct path pushes.
 */
export function peerReceived(
  node: Node,
  now: number,
  peer: Peer,
  path: Path,
  hops: number,
  verb: number,
  trustEstablished: boolean,
): void {
  peer.lastReceive = now;
  if (isNontrivialVerb(verb)) peer.lastNontrivialReceive = now;
  if (trustEstablished) peer.lastTrustEstablished = now;
  if (hops === 0) {
    path.received(now, trustEstablished);
    const a = peer.identity.address.value;
    const known = peer.findPath(path);
    if (known) {
      known.lastReceive = now;
    } else if (node.shouldUsePath(a, path.localSocket, path.address)) {
      const r = peer.learnPath(now, path, verb === Verb.OK);
      if (r === "confirm") {
        node.switch.attemptToContactAt(now, peer, path.localSocket, path.address, true);
        path.sent(now);
      }
    }
  }
  if (peer.trustEstablished(now)) {
    const interval = hops === 0 ? DIRECT_PATH_PUSH_INTERVAL_HAVEPATH : DIRECT_PATH_PUSH_INTERVAL;
    if (now - peer.lastDirectPathPushSent >= interval) {
      peer.lastDirectPathPushSent = now;
      pushDirectPaths(node, now, peer, path);
    }
  }
}

/**
 * The ping/keepalive pass (every 5 s): upstreams and moon seeds are contacted at their paths or
 * stable endpoints (else through the best upstream; unknown ones are WHOISed), active peers get
 * heartbeats and periodic full HELLOs. Returns when an upstream was last heard from (0 never).
 */
export function pingAndKeepalive(node: Node, now: number): number {
  const t = node.topology;
  const sw = node.switch;
  const always = t.upstreamsToContact();
  let lastFromUpstream = 0;
  for (const a of always.keys()) {
    const p = t.peers.get(a);
    if (p) lastFromUpstream = Math.max(lastFromUpstream, p.lastReceive);
  }
  const best = t.bestUpstream(now);
  const keepalive = (peer: Peer): number => {
    let sent = 0;
    for (const act of peer.doPingAndKeepalive(now)) {
      sw.attemptToContactAt(now, peer, act.path.localSocket, act.path.address, act.fullHello);
      act.path.sent(now);
      sent |= act.path.address.family === 4 ? 1 : 2;
    }
    return sent;
  };
  for (const peer of [...t.peers.values()]) {
    const a = peer.identity.address.value;
    const eps = always.get(a);
    if (eps === undefined) {
      if (peer.isActive(now)) keepalive(peer);
      continue;
    }
    always.delete(a);
    const role = t.role(a);
    let scale = role === "LEAF" ? 2 : 16;
    if (role !== "LEAF" && peer.activePaths(now).length === 0) scale = 0;
    if (now - peer.lastSentFullHello <= PATH_HEARTBEAT_PERIOD * scale) continue;
    const sent = keepalive(peer);
    let contacted = sent !== 0;
    for (const [bit, fam] of [[1, 4], [2, 6]] as const) {
      if ((sent & bit) !== 0) continue;
      const cands = eps.filter((e) => e.family === fam);
      if (cands.length === 0) continue;
      const pick = cands[node.host.random(1)[0] % cands.length];
      sw.sendHello(now, peer, -1, pick);
      contacted = true;
    }
    if (!contacted && best && best !== peer) {
      const up = best.bestPath(now, true);
      if (up) sw.sendHello(now, peer, up.localSocket, up.address);
    }
  }
  for (const a of always.keys()) sw.requestWhois(now, a);
  return lastFromUpstream;
}

/** Tells `peer` (over `path`) our local and externally observed addresses (PUSH_DIRECT_PATHS). */
export function pushDirectPaths(node: Node, now: number, peer: Peer, path: Path): void {
  const addrs = [...node.settings.localAddresses, ...node.selfAwareness.whoami()];
  for (let i = 0; i < addrs.length; i += PUSH_CHUNK) {
    const chunk = addrs.slice(i, i + PUSH_CHUNK).map((address) => ({ flags: 0, address }));
    const payload = encodePushDirectPaths({ paths: chunk });
    node.switch.sendVia(
      now,
      peer,
      path.localSocket,
      path.address,
      Verb.PUSH_DIRECT_PATHS,
      payload,
      {
        encrypt: true,
        compress: true,
      },
    );
  }
}

/**
 * `peer` (reached at `reporterPhys`) reports our address as `mine`. If that changes our surface
 * address as trusted (spec §9.7), every path in that scope and family is re-contacted and marked
 * unheard. Returns the scope reset, or undefined.
 */
export function surfaceReported(
  node: Node,
  now: number,
  peer: Peer,
  localSocket: number,
  reporterPhys: InetAddress,
  mine: InetAddress,
): number | undefined {
  const trusted = node.topology.isUpstream(peer.identity.address.value);
  const a = peer.identity.address;
  const r = node.selfAwareness.iam(now, a, localSocket, reporterPhys, mine, trusted);
  if (!r) return undefined;
  for (const p of node.topology.peers.values()) {
    for (const pp of p.pathsInScope(r.scope, r.family)) {
      node.switch.attemptToContactAt(now, p, pp.path.localSocket, pp.path.address, false);
      pp.path.sent(now);
      pp.lastReceive = 0;
    }
  }
  return r.scope;
}
