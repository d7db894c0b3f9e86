// The heavier /ui-api helpers (rules compiler, frame explainer, controller member view): loaded by
// ui_routes.ts on the first request that needs them, so that a member does not carry them.
import { type Controller, MEMBER_ONLINE_WINDOW } from "../controller/controller.ts";
import type { JsonObject } from "../util/json.ts";
import { encodeRulesJson } from "../vl2/rules/rule_encoding.ts";
import { storedRules } from "../controller/rules_json.ts";
import type { Capability } from "../vl2/credentials/capability.ts";
import { NETCONF_VERSION, type NetworkConfig, NetworkType } from "../vl2/network_config.ts";
import { compileRules } from "../vl2/rules_compiler/mod.ts";
import type { Json } from "./api_status.ts";
import type { UiRoutesOptions } from "./ui_routes.ts";

export { explainFrame } from "../vl2/rules/explain.ts";

/** A member record with what the controller saw of it (online, last seen, where, version). */
export function memberView(ctl: Controller, o: UiRoutesOptions, nwid: string, m: JsonObject): Json {
  const address = String(m.address ?? m.id ?? "");
  const st = ctl.memberStatus(nwid, address);
  const now = o.now?.() ?? ctl.now();
  const md = st?.metadata;
  const peer = o.peerInfo?.(address);
  const version = md?.majorVersion !== undefined
    ? `${md.majorVersion}.${md.minorVersion ?? 0}.${md.revision ?? 0}`
    : typeof m.vMajor === "number" && m.vMajor >= 0
    ? `${m.vMajor}.${m.vMinor}.${m.vRev}`
    : "";
  return {
    ...m,
    ui: {
      online: st !== undefined && now - st.lastSeen <= MEMBER_ONLINE_WINDOW,
      lastSeen: st?.lastSeen ?? 0,
      physicalAddress: st?.physicalAddress ? st.physicalAddress.toString() : (peer?.path ?? ""),
      version,
      latency: peer?.latency ?? -1,
    },
  } as Json;
}

/** A compile result as the UI shows it: the controller JSON or the error's position. */
export function compileJson(source: string): Json {
  const r = compileRules(source, { file: "rules" });
  if (!r.ok) {
    return {
      ok: false,
      error: { line: r.error.line, column: r.error.column, message: r.error.message },
    };
  }
  return {
    ok: true,
    rules: r.rules as unknown as Json,
    capabilities: r.capabilities as unknown as Json,
    tags: r.tags as unknown as Json,
  };
}

/**
 * A network config for explaining frames against a controller network's rules (or `source`
 * compiled in its place), as issued to `me`: base rules and capabilities, no credentials.
 */
export function testConfig(
  nwid: string,
  network: JsonObject | undefined,
  source: string | undefined,
  me: number,
): NetworkConfig | string {
  let rules: JsonObject[], caps: { id: number; rules: JsonObject[] }[];
  if (source !== undefined) {
    const r = compileRules(source, { file: "rules" });
    if (!r.ok) return `rules:${r.error.line}:${r.error.column}: ${r.error.message}`;
    rules = r.rules as unknown as JsonObject[];
    caps = r.capabilities.map((c) => ({ id: c.id, rules: c.rules as unknown as JsonObject[] }));
  } else if (network) {
    rules = storedRules(network.rules);
    caps = Array.isArray(network.capabilities)
      ? (network.capabilities as JsonObject[]).map((c) => ({
        id: typeof c.id === "number" ? c.id : 0,
        rules: storedRules(c.rules),
      }))
      : [];
  } else return "no such network";
  const networkId = BigInt("0x" + nwid);
  const capabilities: Capability[] = caps.map((c) => ({
    networkId,
    timestamp: 0n,
    id: c.id >>> 0,
    rules: encodeRulesJson(c.rules).slice(0, 64),
    maxCustodyChainLength: 1,
    custody: [],
  }));
  return {
    version: NETCONF_VERSION,
    networkId,
    timestamp: 0n,
    credentialTimeMaxDelta: 0n,
    revision: 0n,
    issuedTo: me,
    remoteTraceTarget: 0,
    remoteTraceLevel: 0,
    flags: 0,
    multicastLimit: 32,
    type: NetworkType.PRIVATE,
    name: typeof network?.name === "string" ? network.name : "",
    mtu: 2800,
    capabilities,
    tags: [],
    coos: [],
    specialists: [],
    routes: [],
    staticIps: [],
    rules: encodeRulesJson(rules),
    extra: [],
  };
}
