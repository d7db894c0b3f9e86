// zt library entry: the protocol core (no I/O) and the service, for embedding zt in other programs.
export { ZT_VERSION } from "./src/version.ts";
export { Address } from "./src/vl1/address.ts";
export { Identity } from "./src/vl1/identity.ts";
export { InetAddress } from "./src/vl1/inet_address.ts";
export { NetworkId } from "./src/vl2/network_id.ts";
export {
  DEFAULT_PLANET,
  parseWorld,
  serializeWorld,
  signWorld,
  verifyWorld,
  WorldType,
} from "./src/vl1/world.ts";
export type { World, WorldRoot } from "./src/vl1/world.ts";
export { Node } from "./src/vl1/node.ts";
export type { NodeEvent, NodeHost } from "./src/vl1/node_host.ts";
export { armor, dearmor } from "./src/vl1/armor.ts";
export { PeerKeys } from "./src/vl1/peer_keys.ts";
export { Networks } from "./src/vl2/networks.ts";
export { Frames } from "./src/vl2/frames.ts";
export { Dictionary } from "./src/vl2/dictionary.ts";
export { compileRules } from "./src/vl2/rules_compiler/mod.ts";
export type { CompileResult } from "./src/vl2/rules_compiler/mod.ts";
export { Controller } from "./src/controller/controller.ts";
export { Core } from "./src/core/core.ts";
export type { CoreHost, CoreOptions, CoreStateKind } from "./src/core/core.ts";
export { Service } from "./src/service/service.ts";
export { Sim } from "./src/sim/sim.ts";
export { EmbeddedNode, startEmbeddedNode } from "./src/service/embedded_node.ts";
export type { EmbeddedNodeOptions } from "./src/service/embedded_node.ts";
export {
  OverlayConn,
  OverlayListener,
  OverlayUdp,
  UserspaceNet,
} from "./src/service/userspace_net.ts";
export { NetStack } from "./src/netstack/stack.ts";
