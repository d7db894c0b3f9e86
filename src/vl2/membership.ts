// One other member of a joined network as we know it: its credentials, revocation state and our push timing (spec §7.4-7.9).
import type { Identity } from "../vl1/identity.ts";
import {
  credentialAcceptance,
  credentialUsable,
  shouldPushCredentials,
} from "./credentials/acceptance.ts";
import { type Capability, capabilityVerify } from "./credentials/capability.ts";
import {
  type CertificateOfMembership,
  comAcceptance,
  comMemberAllowed,
  comVerifyWith,
} from "./credentials/com.ts";
import { type CertificateOfOwnership, cooVerify } from "./credentials/coo.ts";
import {
  emptyRevocationState,
  type Revocation,
  revocationApply,
  revocationDecision,
  type RevocationState,
  revocationThreshold,
  revocationVerify,
} from "./credentials/revocation.ts";
import { CredentialType, type IdentityLookup } from "./credentials/signature.ts";
import { type Tag, tagVerify } from "./credentials/tag.ts";
import { capabilitySerialize } from "./credentials/capability.ts";
import { tagSerialize } from "./credentials/tag.ts";
import { cooSerialize } from "./credentials/coo.ts";
import { NetworkType } from "./network_config.ts";

/**
 * Outcome of offering a credential to a membership: stored ("accepted"), already held
 * ("redundant"), refused ("rejected"), or its signer is unknown ("need-identity": WHOIS the
 * signer and offer it again).
 */
export type CredentialResult = "accepted" | "redundant" | "rejected" | "need-identity";

/** The parts of our own network config that credential use depends on. */
export interface MembershipConfigView {
  /** Network type (public networks admit everyone). */
  type: NetworkType;
  /** Our config timestamp (`ts`). */
  timestamp: bigint;
  /** Our config `ctmd`. */
  credentialTimeMaxDelta: bigint;
  /** Our COM, if the config has one. */
  com?: CertificateOfMembership;
}

/** Most remote Tags, Capabilities or COOs kept per member (per kind). */
export const MEMBERSHIP_MAX_CREDENTIALS = 128;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** What we know about one member (by address) of one network. Pure state; no I/O. */
export class Membership {
  /** The member's 40-bit address. */
  readonly address: number;
  /** Its latest accepted certificate of membership. */
  com: CertificateOfMembership | undefined;
  /** Its tags by tag ID. */
  readonly tags = new Map<number, Tag>();
  /** Its capabilities by capability ID. */
  readonly capabilities = new Map<number, Capability>();
  /** Its certificates of ownership by COO ID. */
  readonly coos = new Map<number, CertificateOfOwnership>();
  /** Revocation thresholds that apply to it. */
  revocations: RevocationState = emptyRevocationState();
  /** When we last pushed our credentials to it (undefined = never). */
  lastPushed: number | undefined;
  /** Our config generation at that push (a changed config forces a new push). */
  pushedGeneration = -1;
  /** Last time any credential of this member was accepted or the member was looked at (ms). */
  lastTouched = 0;
  /**
   * The last {@link isAllowed} decision on a private network and what it was made from (every
   * frame asks; the inputs change only when a credential, revocation or config is replaced).
   */
  #allowedOurs: CertificateOfMembership | undefined;
  #allowedTheirs: CertificateOfMembership | undefined;
  #allowedIdentity: Identity | undefined;
  #allowedThreshold = -1n;
  #allowed = false;

  /** A membership with nothing known yet. */
  constructor(address: number) {
    this.address = address;
  }

  /** Offers a COM issued to this member (spec §7.9). */
  addCom(com: CertificateOfMembership, lookup: IdentityLookup): CredentialResult {
    const a = comAcceptance(this.com, com, this.revocations.comThreshold);
    if (a === "reject") return "rejected";
    if (a === "redundant") return "redundant";
    const v = comVerifyWith(com, lookup);
    if (v === "need-identity") return "need-identity";
    if (v !== "ok") return "rejected";
    this.com = com;
    return "accepted";
  }

  /** Offers a tag issued to this member (spec §7.9: keyed by ID, not older, not revoked). */
  addTag(tag: Tag, lookup: IdentityLookup): CredentialResult {
    const have = this.tags.get(tag.id);
    const a = credentialAcceptance(
      tag.timestamp,
      have && {
        timestamp: have.timestamp,
        identical: sameBytes(tagSerialize(have), tagSerialize(tag)),
      },
      revocationThreshold(this.revocations, CredentialType.TAG, tag.id),
    );
    if (a !== "verify") return a === "reject" ? "rejected" : "redundant";
    if (!have && this.tags.size >= MEMBERSHIP_MAX_CREDENTIALS) return "rejected";
    const signer = lookup(tag.signedBy);
    if (!signer) return tag.signedBy === 0 ? "rejected" : "need-identity";
    if (!tagVerify(tag, signer)) return "rejected";
    this.tags.set(tag.id, tag);
    return "accepted";
  }

  /** Offers a capability held by this member (custody chain verified). */
  addCapability(cap: Capability, lookup: IdentityLookup): CredentialResult {
    const have = this.capabilities.get(cap.id);
    const a = credentialAcceptance(
      cap.timestamp,
      have && {
        timestamp: have.timestamp,
        identical: sameBytes(capabilitySerialize(have), capabilitySerialize(cap)),
      },
      revocationThreshold(this.revocations, CredentialType.CAPABILITY, cap.id),
    );
    if (a !== "verify") return a === "reject" ? "rejected" : "redundant";
    if (!have && this.capabilities.size >= MEMBERSHIP_MAX_CREDENTIALS) return "rejected";
    const v = capabilityVerify(cap, lookup);
    if (v === "need-identity") return "need-identity";
    if (v !== "ok") return "rejected";
    this.capabilities.set(cap.id, cap);
    return "accepted";
  }

  /** Offers a certificate of ownership issued to this member. */
  addCoo(coo: CertificateOfOwnership, lookup: IdentityLookup): CredentialResult {
    const have = this.coos.get(coo.id);
    const a = credentialAcceptance(
      coo.timestamp,
      have && {
        timestamp: have.timestamp,
        identical: sameBytes(cooSerialize(have), cooSerialize(coo)),
      },
      revocationThreshold(this.revocations, CredentialType.COO, coo.id),
    );
    if (a !== "verify") return a === "reject" ? "rejected" : "redundant";
    if (!have && this.coos.size >= MEMBERSHIP_MAX_CREDENTIALS) return "rejected";
    const signer = lookup(coo.signedBy);
    if (!signer) return coo.signedBy === 0 ? "rejected" : "need-identity";
    if (!cooVerify(coo, signer)) return "rejected";
    this.coos.set(coo.id, coo);
    return "accepted";
  }

  /**
   * Offers a revocation targeting this member (spec §7.8): "accepted" means it was new, verified
   * and applied (the caller may fast-propagate it); a revoked COM is dropped at once.
   */
  addRevocation(rev: Revocation, lookup: IdentityLookup): CredentialResult {
    const d = revocationDecision(this.revocations, rev);
    if (d === "reject") return "rejected";
    if (d === "redundant") return "redundant";
    const signer = lookup(rev.signedBy);
    if (!signer) return rev.signedBy === 0 ? "rejected" : "need-identity";
    if (!revocationVerify(rev, signer)) return "rejected";
    this.revocations = revocationApply(this.revocations, rev);
    return "accepted";
  }

  /**
   * Whether this member may talk to us on the network (spec §7.4, §8.6): public network, or
   * its COM is above the revocation threshold and our COM agrees with it.
   */
  isAllowed(conf: MembershipConfigView | undefined, theirIdentity: Identity | undefined): boolean {
    if (!conf) return false;
    if (conf.type === NetworkType.PUBLIC) return true;
    if (!theirIdentity || theirIdentity.address.value !== this.address) return false;
    const ours = conf.com, theirs = this.com, threshold = this.revocations.comThreshold;
    if (
      ours === this.#allowedOurs && theirs === this.#allowedTheirs &&
      theirIdentity === this.#allowedIdentity && threshold === this.#allowedThreshold
    ) return this.#allowed;
    const allowed = comMemberAllowed(false, ours, theirs, theirIdentity, threshold);
    this.#allowedOurs = ours;
    this.#allowedTheirs = theirs;
    this.#allowedIdentity = theirIdentity;
    this.#allowedThreshold = threshold;
    this.#allowed = allowed;
    return allowed;
  }

  /** Its tag `id` if usable now: within our `ctmd` of our config timestamp and not revoked. */
  usableTag(id: number, conf: MembershipConfigView): Tag | undefined {
    const t = this.tags.get(id);
    return t && this.#usable(t.timestamp, CredentialType.TAG, id, conf) ? t : undefined;
  }

  /** Its usable capabilities, ascending ID. */
  usableCapabilities(conf: MembershipConfigView): Capability[] {
    return [...this.capabilities.values()]
      .filter((c) => this.#usable(c.timestamp, CredentialType.CAPABILITY, c.id, conf))
      .sort((a, b) => a.id - b.id);
  }

  /** Its usable certificates of ownership, ascending ID. */
  usableCoos(conf: MembershipConfigView): CertificateOfOwnership[] {
    return [...this.coos.values()]
      .filter((c) => this.#usable(c.timestamp, CredentialType.COO, c.id, conf))
      .sort((a, b) => a.id - b.id);
  }

  /**
   * Whether to push our credentials to this member now (spec §7.9): never pushed, our config
   * changed since (`generation`), or more than 500 s ago (1 s when `onNeedCertificate`).
   */
  shouldPush(now: number, generation: number, onNeedCertificate = false): boolean {
    return shouldPushCredentials(
      now,
      this.lastPushed,
      generation !== this.pushedGeneration,
      onNeedCertificate,
    );
  }

  /** Records a push of our credentials made under config `generation`. */
  notePushed(now: number, generation: number): void {
    this.lastPushed = now;
    this.pushedGeneration = generation;
  }

  #usable(ts: bigint, type: CredentialType, id: number, conf: MembershipConfigView): boolean {
    return credentialUsable(
      ts,
      conf.timestamp,
      conf.credentialTimeMaxDelta,
      revocationThreshold(this.revocations, type, id),
    );
  }
}
