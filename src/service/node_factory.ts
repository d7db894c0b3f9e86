// Builds the real VL1 node for the service (the one place the service names src/vl1/node.ts).
import type { NodeFactoryOptions } from "./service.ts";
import type { ServiceNode } from "./service_node.ts";

/** Path of the node module (kept out of static analysis until it exists). */
const NODE_MODULE = "../vl1/node.ts";

/** Loads src/vl1/node.ts and returns a factory for {@link Service.start}. */
export async function loadNodeFactory(): Promise<(o: NodeFactoryOptions) => ServiceNode> {
  const mod = await import(NODE_MODULE);
  return (o) => new mod.Node(o) as ServiceNode;
}
