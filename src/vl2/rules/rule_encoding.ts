// Canonical controller rule JSON -> wire rules (spec §8.2) for netconf `R` and capabilities.
import { InetAddress } from "../../vl1/inet_address.ts";
import type { RawRule } from "../credentials/capability.ts";
import type { JsonObject } from "../../util/json.ts";

/** Rule type ids by the controller's JSON `type` names (spec §8.1). */
export const RULE_TYPE_IDS: Readonly<Record<string, number>> = {
  ACTION_DROP: 0,
  ACTION_ACCEPT: 1,
  ACTION_TEE: 2,
  ACTION_WATCH: 3,
  ACTION_REDIRECT: 4,
  ACTION_BREAK: 5,
  MATCH_SOURCE_ZEROTIER_ADDRESS: 24,
  MATCH_DEST_ZEROTIER_ADDRESS: 25,
  MATCH_VLAN_ID: 26,
  MATCH_VLAN_PCP: 27,
  MATCH_VLAN_DEI: 28,
  MATCH_MAC_SOURCE: 29,
  MATCH_MAC_DEST: 30,
  MATCH_IPV4_SOURCE: 31,
  MATCH_IPV4_DEST: 32,
  MATCH_IPV6_SOURCE: 33,
  MATCH_IPV6_DEST: 34,
  MATCH_IP_TOS: 35,
  MATCH_IP_PROTOCOL: 36,
  MATCH_ETHERTYPE: 37,
  MATCH_ICMP: 38,
  MATCH_IP_SOURCE_PORT_RANGE: 39,
  MATCH_IP_DEST_PORT_RANGE: 40,
  MATCH_CHARACTERISTICS: 41,
  MATCH_FRAME_SIZE_RANGE: 42,
  MATCH_RANDOM: 43,
  MATCH_TAGS_DIFFERENCE: 44,
  MATCH_TAGS_BITWISE_AND: 45,
  MATCH_TAGS_BITWISE_OR: 46,
  MATCH_TAGS_BITWISE_XOR: 47,
  MATCH_TAGS_EQUAL: 48,
  MATCH_TAG_SENDER: 49,
  MATCH_TAG_RECEIVER: 50,
  MATCH_INTEGER_RANGE: 51,
};

function be(v: number | bigint, n: number): number[] {
  let x = BigInt(v);
  const out = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

const n = (v: unknown): number => (typeof v === "number" ? v : 0);

/**
 * Encodes one rule in the canonical form produced by `rules_json.ts` (validated input) as a
 * {@link RawRule}. Undefined for a type the wire format cannot carry (INTEGER_RANGE is dropped
 * by the controller anyway).
 */
export function encodeRuleJson(r: JsonObject): RawRule | undefined {
  const id = RULE_TYPE_IDS[String(r.type)];
  if (id === undefined || id === 51) return undefined;
  let t = id;
  if (id > 15) {
    if (r.not === true) t |= 0x80;
    if (r.or === true) t |= 0x40;
  }
  let v: number[] = [];
  switch (id) {
    case 2:
    case 3:
    case 4:
      v = [
        ...be(BigInt("0x" + String(r.address ?? "0")), 8),
        ...be(n(r.flags), 4),
        ...be(n(r.length), 2),
      ];
      break;
    case 24:
    case 25:
      v = be(BigInt("0x" + String(r.zt ?? "0")), 5);
      break;
    case 26:
      v = be(n(r.vlanId), 2);
      break;
    case 27:
      v = [n(r.vlanPcp) & 0xff];
      break;
    case 28:
      v = [n(r.vlanDei) & 0xff];
      break;
    case 29:
    case 30:
      v = String(r.mac ?? "").split(":").map((h) => parseInt(h, 16) & 0xff);
      if (v.length !== 6 || v.some((x) => Number.isNaN(x))) return undefined;
      break;
    case 31:
    case 32:
    case 33:
    case 34: {
      const a = InetAddress.parse(String(r.ip ?? ""));
      if (!a) return undefined;
      v = [...a.ip, a.port & 0xff];
      break;
    }
    case 35:
      v = [n(r.mask) & 0xff, n(r.start) & 0xff, n(r.end) & 0xff];
      break;
    case 36:
      v = [n(r.ipProtocol) & 0xff];
      break;
    case 37:
      v = be(n(r.etherType), 2);
      break;
    case 38:
      v = r.icmpCode === null || r.icmpCode === undefined
        ? [n(r.icmpType) & 0xff, 0, 0]
        : [n(r.icmpType) & 0xff, n(r.icmpCode) & 0xff, 1];
      break;
    case 39:
    case 40:
    case 42:
      v = [...be(n(r.start), 2), ...be(n(r.end), 2)];
      break;
    case 41:
      v = be(BigInt("0x" + String(r.mask ?? "0")), 8);
      break;
    case 43:
      v = be(n(r.probability), 4);
      break;
    default:
      if (id >= 44 && id <= 50) v = [...be(n(r.id), 4), ...be(n(r.value), 4)];
  }
  return { type: t, value: new Uint8Array(v) };
}

/** Encodes a canonical rule list, skipping rules that cannot be encoded. */
export function encodeRulesJson(rules: readonly JsonObject[]): RawRule[] {
  const out: RawRule[] = [];
  for (const r of rules) {
    const e = encodeRuleJson(r);
    if (e) out.push(e);
  }
  return out;
}
