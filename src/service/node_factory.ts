// Builds the real VL1 node for the service (the one place the service names src/vl1/node.ts), with the identity check cost measured on this machine.
import { identityHash } from "../vl1/identity_hash.ts";
import { Node } from "../vl1/node.ts";
import type { NodeFactoryOptions } from "./service.ts";
import type { ServiceNode } from "./service_node.ts";

let measured: number | undefined;

/**
 * Milliseconds one memory-hard identity check takes here (the better of two runs, measured
 * once per process): what the node charges its identity check budget per check.
 */
export function measuredIdentityCheckMs(): number {
  if (measured === undefined) {
    const key = new Uint8Array(64).fill(0x5a);
    let best = Infinity;
    for (let i = 0; i < 2; i++) {
      const t = performance.now();
      identityHash(key);
      best = Math.min(best, performance.now() - t);
    }
    measured = Math.max(1, Math.round(best * 10) / 10);
  }
  return measured;
}

/** The node factory `zt run` passes to {@link Service.start}: a real {@link Node}. */
export function createNode(o: NodeFactoryOptions): ServiceNode {
  return new Node({
    ...o,
    settings: { identityValidationCostMs: measuredIdentityCheckMs(), ...o.settings },
  });
}
