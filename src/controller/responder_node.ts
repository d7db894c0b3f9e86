// The responder's view of a VL1 node (kept apart from responder.ts so the core can build it
// without loading the responder, which a member that serves no network never needs).
import type { Node } from "../vl1/node.ts";
import type { ResponderNode } from "./responder.ts";

/** Adapts a real VL1 {@link Node} (or anything shaped like it) to {@link ResponderNode}. */
export function responderNode(
  node: Pick<Node, "address" | "sendPacket" | "identityOf"> & Partial<Pick<Node, "internalError">>,
): ResponderNode {
  return {
    address: node.address,
    sendPacket: (now, dest, verb, payload, opts) => node.sendPacket(now, dest, verb, payload, opts),
    peerIdentity: (addr) => node.identityOf(addr),
    internalError: (where, e) => node.internalError?.(where, e),
  };
}
