// Builds the real VL1 node for the service (the one place the service names src/vl1/node.ts).
import { Node } from "../vl1/node.ts";
import type { NodeFactoryOptions } from "./service.ts";
import type { ServiceNode } from "./service_node.ts";

/** The node factory `zt run` passes to {@link Service.start}: a real {@link Node}. */
export function createNode(o: NodeFactoryOptions): ServiceNode {
  return new Node(o);
}
