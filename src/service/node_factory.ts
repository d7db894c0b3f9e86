// Builds the real VL1 node for the service (the one place the service names src/vl1/node.ts), with the identity check cost measured on this machine.
import { Identity } from "../vl1/identity.ts";
import { identityHash } from "../vl1/identity_hash.ts";
import { Node } from "../vl1/node.ts";
import type { NodeFactoryOptions } from "./service.ts";

let measured: number | undefined;
let measuredAgree: number | undefined;

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

/** Milliseconds one key agreement takes here (the better of three runs, measured once). */
export function measuredAgreementMs(identity: Identity): number {
  if (measuredAgree === undefined) {
    const other = new Identity(identity.address, identity.publicKey);
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      identity.agree(other);
      best = Math.min(best, performance.now() - t);
    }
    measuredAgree = Math.max(0.05, Math.round(best * 100) / 100);
  }
  return measuredAgree;
}

/** The node factory `zt run` passes to {@link Service.start}: a real {@link Node}. */
export function createNode(o: NodeFactoryOptions): Node {
  return new Node({
    ...o,
    settings: {
      identityValidationCostMs: measuredIdentityCheckMs(),
      identityAgreementCostMs: measuredAgreementMs(o.identity),
      ...o.settings,
    },
  });
}
