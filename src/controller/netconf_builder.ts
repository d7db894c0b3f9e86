// Adapter from the controller's plain decisions to signed wire objects (NetworkConfig, Revocation).
import type { Identity } from "../vl1/identity.ts";
import type { ConfigRequestMetadata } from "../vl2/config_request_metadata.ts";
import { newConfigUpdateId, signConfigChunks } from "../vl2/config_chunks.ts";
import type { Capability } from "../vl2/credentials/capability.ts";
import { capabilitySign } from "../vl2/credentials/capability.ts";
import { comCreate, comSign } from "../vl2/credentials/com.ts";
import { cooIpThing, cooSign } from "../vl2/credentials/coo.ts";
import type { CertificateOfOwnership } from "../vl2/credentials/coo.ts";
import type { Revocation } from "../vl2/credentials/revocation.ts";
import { revocationSign } from "../vl2/credentials/revocation.ts";
import { CredentialType } from "../vl2/credentials/signature.ts";
import { tagSign } from "../vl2/credentials/tag.ts";
import type { NetworkConfig } from "../vl2/network_config.ts";
import { encodeNetworkConfig, NETCONF_VERSION, NetworkType } from "../vl2/network_config.ts";
import type { NetconfPlan, RequestMetadata, RevocationPlan } from "./config_decision.ts";
import { encodeRulesJson } from "../vl2/rules/rule_encoding.ts";

/** The controller's view of parsed request metadata (vl2 codec → {@link RequestMetadata}). */
export function requestMetadataFromConfig(m: ConfigRequestMetadata): RequestMetadata {
  return {
    netconfVersion: m.netconfVersion,
    protocolVersion: m.protocolVersion,
    majorVersion: m.majorVersion,
    minorVersion: m.minorVersion,
    revision: m.revision,
    rulesEngineRevision: m.rulesEngineRevision,
    maxNetworkRules: m.maxNetworkRules,
    maxCapabilities: m.maxCapabilities,
    maxCapabilityRules: m.maxCapabilityRules,
    maxTags: m.maxTags,
    os: m.os,
    auth: m.authToken,
  };
}

/**
 * Turns a config plan into the wire {@link NetworkConfig}, issuing every credential (COM,
 * capabilities, tags, COO) signed by `controller` (which needs its private key) at
 * `plan.timestamp`.
 */
export function buildNetworkConfig(plan: NetconfPlan, controller: Identity): NetworkConfig {
  const ts = BigInt(plan.timestamp);
  const member = plan.issuedTo.value;
  const com = comSign(
    comCreate(ts, BigInt(plan.credentialTimeMaxDelta), plan.networkId, plan.issuedToIdentity),
    controller,
  );
  const capabilities: Capability[] = [];
  for (const c of plan.capabilities) {
    const signed = capabilitySign(
      {
        networkId: plan.networkId,
        timestamp: ts,
        id: c.id,
        rules: encodeRulesJson(c.rules).slice(0, 64),
        maxCustodyChainLength: 1,
        custody: [],
      },
      controller,
      member,
    );
    if (signed) capabilities.push(signed);
  }
  const tags = plan.tags.map((t) =>
    tagSign({
      networkId: plan.networkId,
      timestamp: ts,
      id: t.id,
      value: t.value,
      issuedTo: member,
      signedBy: 0,
    }, controller)
  );
  const coos: CertificateOfOwnership[] = [];
  if (plan.certificateOfOwnership) {
    coos.push(cooSign({
      networkId: plan.networkId,
      timestamp: ts,
      flags: 0n,
      id: plan.certificateOfOwnership.id,
      things: plan.certificateOfOwnership.ips.slice(0, 16).map(cooIpThing),
      issuedTo: member,
      signedBy: 0,
    }, controller));
  }
  return {
    version: NETCONF_VERSION,
    networkId: plan.networkId,
    timestamp: ts,
    credentialTimeMaxDelta: BigInt(plan.credentialTimeMaxDelta),
    revision: BigInt(plan.revision),
    issuedTo: member,
    remoteTraceTarget: plan.remoteTraceTarget,
    remoteTraceLevel: plan.remoteTraceLevel,
    flags: plan.flags,
    multicastLimit: plan.multicastLimit,
    type: plan.type === "public" ? NetworkType.PUBLIC : NetworkType.PRIVATE,
    name: plan.name,
    mtu: plan.mtu,
    com,
    capabilities,
    tags,
    coos,
    specialists: plan.specialists.slice(),
    routes: plan.routes.map((r) => ({ ...r })),
    staticIps: plan.staticIps.slice(),
    rules: encodeRulesJson(plan.rules),
    dns: { domain: plan.dns?.domain ?? "", servers: plan.dns?.servers.slice() ?? [] },
    sso: { version: plan.sso.version, enabled: plan.sso.enabled },
    extra: [],
  };
}

/**
 * The signed config chunks to send for `plan` (OK(NETWORK_CONFIG_REQUEST) bodies or
 * NETWORK_CONFIG payloads), with a fresh random config update ID. Undefined if the config does
 * not fit the dictionary capacity.
 */
export function signedConfigChunks(
  plan: NetconfPlan,
  controller: Identity,
  random: (n: number) => Uint8Array,
): Uint8Array[] | undefined {
  const dict = encodeNetworkConfig(buildNetworkConfig(plan, controller));
  if (!dict) return undefined;
  return signConfigChunks(dict, plan.networkId, newConfigUpdateId(random), controller);
}

/** Turns a revocation plan into a signed {@link Revocation}. */
export function buildRevocation(plan: RevocationPlan, controller: Identity): Revocation {
  return revocationSign({
    id: plan.id,
    networkId: plan.networkId,
    credentialId: plan.credentialId,
    threshold: BigInt(plan.threshold),
    flags: BigInt(plan.flags),
    target: plan.target.value,
    signedBy: 0,
    credentialType: plan.credentialType as CredentialType,
  }, controller);
}
