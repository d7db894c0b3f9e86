// What the event stream reports: node online, peer online/offline and network status changes (by diffing polled state) and controller changes.
import type { ControllerEvent } from "../controller/controller.ts";
import type { NetworkInfo } from "../vl2/network.ts";
import type { StreamEvent } from "./event_stream.ts";
import type { ServicePeerInfo } from "./service_node.ts";

/** The node state the poller diffs. */
export interface PolledState {
  /** Node online. */
  online(): boolean;
  /** Known peers. */
  peers(): ServicePeerInfo[];
  /** Joined networks. */
  networks(): NetworkInfo[];
}

/** A peer counts as online while it has a path that has not expired. */
function peerOnline(p: ServicePeerInfo): boolean {
  return p.paths.some((x) => !x.expired);
}

/** The 16-hex-digit network ID. */
function hex16(n: bigint): string {
  return n.toString(16).padStart(16, "0");
}

/**
 * A poll function for {@link EventHub}: each call compares the state with the previous call and
 * returns `node` (online changed), `peer` (a peer came online / went offline) and `network`
 * (a joined network's status or addresses changed, or it was left) events. The first call
 * only records the state.
 */
export function statePoller(s: PolledState): () => StreamEvent[] {
  let online: boolean | undefined;
  let peers = new Map<string, boolean>();
  let nets = new Map<string, string>();
  let first = true;
  return () => {
    const out: StreamEvent[] = [];
    const on = s.online();
    if (!first && on !== online) out.push({ type: "node", data: { online: on } });
    online = on;
    const nextPeers = new Map<string, boolean>();
    for (const p of s.peers()) {
      const a = p.address.toString();
      const o = peerOnline(p);
      nextPeers.set(a, o);
      if (!first && (peers.get(a) ?? false) !== o) {
        out.push({ type: "peer", data: { address: a, online: o } });
      }
    }
    for (const [a, o] of peers) {
      if (!first && o && !nextPeers.has(a)) {
        out.push({ type: "peer", data: { address: a, online: false } });
      }
    }
    peers = nextPeers;
    const nextNets = new Map<string, string>();
    for (const n of s.networks()) {
      const id = hex16(n.nwid);
      const addrs = n.assignedAddresses.map((x) => x.toString());
      const key = `${n.status} ${addrs.join(",")}`;
      nextNets.set(id, key);
      if (!first && nets.get(id) !== key) {
        out.push({
          type: "network",
          data: { nwid: id, status: n.status, assignedAddresses: addrs },
        });
      }
    }
    for (const id of nets.keys()) {
      if (!first && !nextNets.has(id)) {
        out.push({ type: "network", data: { nwid: id, status: "LEFT", assignedAddresses: [] } });
      }
    }
    nets = nextNets;
    first = false;
    return out;
  };
}

/** The stream event for a controller change (revocations are reported as member changes). */
export function controllerStreamEvent(e: ControllerEvent): StreamEvent {
  switch (e.type) {
    case "request":
      return {
        type: "memberRequest",
        data: { nwid: e.nwid, address: e.address, authorized: e.authorized, created: e.created },
      };
    case "member":
      return { type: "member", data: { nwid: e.nwid, address: e.address } };
    case "revocation":
      return { type: "member", data: { nwid: e.nwid, address: e.address } };
    case "network":
      return { type: "controllerNetwork", data: { nwid: e.nwid } };
    case "networkDeleted":
      return { type: "controllerNetwork", data: { nwid: e.nwid, deleted: true } };
  }
}
