// A controller's node as a member of its own networks: its requests are answered in process.
import { ErrorCode, Verb } from "../vl1/packet.ts";
import { decodeError } from "../vl1/verbs/error.ts";
import type { Network } from "../vl2/network.ts";
import type { Networks, SelfDelivery } from "../vl2/networks.ts";
import type { ControllerResponder, ResponderAnswer } from "./responder.ts";

/** The member-side failure for an ERROR code our controller answered with. */
function failureOf(code: ErrorCode): Extract<SelfDelivery, { kind: "error" }>["failure"] {
  switch (code) {
    case ErrorCode.NETWORK_ACCESS_DENIED:
      return "ACCESS_DENIED";
    case ErrorCode.NETWORK_AUTHENTICATION_REQUIRED:
      return "AUTHENTICATION_REQUIRED";
    default:
      return "NOT_FOUND";
  }
}

/** Hands one answer of the responder to the member side; true if a network took it. */
function deliver(now: number, networks: Networks, a: ResponderAnswer): boolean {
  switch (a.kind) {
    case "ignore":
      return false;
    case "error":
      return networks.deliverFromSelf(now, {
        kind: "error",
        networkId: a.networkId,
        failure: failureOf(a.code),
        errorData: a.errorData,
      });
    case "config":
      return networks.deliverFromSelf(now, { kind: "config", chunks: a.chunks });
  }
}

/**
 * Lets the node that runs `responder`'s controller join that controller's networks, as the
 * reference does: when `networks` asks for the config of a network whose controller is this
 * node, the request goes straight to the controller (no packet, no rate limit) and the signed
 * answer, an ERROR or the config, is applied at once; configs pushed after a change and
 * revocations meant for this node are delivered the same way. Returns a function undoing it.
 */
export function serveOwnNetworks(responder: ControllerResponder, networks: Networks): () => void {
  const me = responder.controller.identity;
  networks.selfRequest = (now: number, nw: Network) => {
    try {
      return deliver(
        now,
        networks,
        responder.answer(now, me, nw.configRequestPayload(), undefined),
      );
    } catch {
      return false; // e.g. the database failed: asked again at the next retry
    }
  };
  responder.setLocalDelivery((now, verb, payload) => {
    if (verb === Verb.NETWORK_CONFIG) {
      networks.deliverFromSelf(now, { kind: "config", chunks: [payload] });
    } else if (verb === Verb.NETWORK_CREDENTIALS) {
      networks.deliverFromSelf(now, { kind: "credentials", payload });
    } else if (verb === Verb.ERROR) {
      const e = decodeError(payload);
      if (e?.networkId !== undefined) {
        networks.deliverFromSelf(now, {
          kind: "error",
          networkId: e.networkId,
          failure: failureOf(e.code),
          errorData: e.errorData,
        });
      }
    }
  });
  return () => {
    networks.selfRequest = undefined;
    responder.setLocalDelivery(undefined);
  };
}
