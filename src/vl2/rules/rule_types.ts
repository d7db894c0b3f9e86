// Typed (decoded) form of network rules: one discriminated-union member per action and match (spec §8.1).

/** Rule type ids (bits 0..5 of the type byte, spec §8.1). Ids 0..15 are actions, 16..63 matches. */
export const RuleId = {
  DROP: 0,
  ACCEPT: 1,
  TEE: 2,
  WATCH: 3,
  REDIRECT: 4,
  BREAK: 5,
  PRIORITY: 6,
  ZT_SOURCE: 24,
  ZT_DEST: 25,
  VLAN_ID: 26,
  VLAN_PCP: 27,
  VLAN_DEI: 28,
  MAC_SOURCE: 29,
  MAC_DEST: 30,
  IPV4_SOURCE: 31,
  IPV4_DEST: 32,
  IPV6_SOURCE: 33,
  IPV6_DEST: 34,
  IP_TOS: 35,
  IP_PROTOCOL: 36,
  ETHERTYPE: 37,
  ICMP: 38,
  SOURCE_PORT_RANGE: 39,
  DEST_PORT_RANGE: 40,
  CHARACTERISTICS: 41,
  FRAME_SIZE_RANGE: 42,
  RANDOM: 43,
  TAGS_DIFFERENCE: 44,
  TAGS_BITWISE_AND: 45,
  TAGS_BITWISE_OR: 46,
  TAGS_BITWISE_XOR: 47,
  TAGS_EQUAL: 48,
  TAG_SENDER: 49,
  TAG_RECEIVER: 50,
  INTEGER_RANGE: 51,
} as const;

/** Highest action id; larger ids are matches. */
export const RULE_ACTION_MAX_ID = 15;
/** Type-byte bit: invert the match result. */
export const RULE_FLAG_NOT = 0x80;
/** Type-byte bit: OR the match into the current set instead of AND. */
export const RULE_FLAG_OR = 0x40;

/** CHARACTERISTICS bits (spec §8.3, `include/ZeroTierOne.h:211-291`). */
export const Characteristic = {
  INBOUND: 1n << 63n,
  MULTICAST: 1n << 62n,
  BROADCAST: 1n << 61n,
  SENDER_IP_AUTHENTICATED: 1n << 60n,
  SENDER_MAC_AUTHENTICATED: 1n << 59n,
  TCP_RESERVED_0: 1n << 11n,
  TCP_RESERVED_1: 1n << 10n,
  TCP_RESERVED_2: 1n << 9n,
  TCP_NS: 1n << 8n,
  TCP_CWR: 1n << 7n,
  TCP_ECE: 1n << 6n,
  TCP_URG: 1n << 5n,
  TCP_ACK: 1n << 4n,
  TCP_PSH: 1n << 3n,
  TCP_RST: 1n << 2n,
  TCP_SYN: 1n << 1n,
  TCP_FIN: 1n,
} as const;

/**
 * Fields every rule carries. `not`/`or` are the type-byte flags (meaningless on actions but kept
 * so a decoded rule re-encodes exactly). `wireValue`, when present, is the original value bytes
 * and is written verbatim by the encoder: the decoder sets it only when the bytes are not the
 * canonical encoding of the decoded fields (longer L, unused high bits, ...).
 */
export interface RuleBase {
  /** NOT flag (bit 7). */
  not: boolean;
  /** OR flag (bit 6). */
  or: boolean;
  /** Original non-canonical value bytes (see above). */
  wireValue?: Uint8Array;
}

/** DROP, ACCEPT or BREAK. */
export interface SimpleActionRule extends RuleBase {
  /** Which action. */
  kind: "drop" | "accept" | "break";
}

/** PRIORITY (reserved; its bucket is not carried on the wire, spec §8.2 QUIRK). */
export interface PriorityRule extends RuleBase {
  /** Action kind. */
  kind: "priority";
  /** QoS bucket (always 0 when decoded from the wire). */
  bucket: number;
}

/** TEE, WATCH or REDIRECT to a ZeroTier address. */
export interface ForwardRule extends RuleBase {
  /** Which action. */
  kind: "tee" | "watch" | "redirect";
  /** Target 40-bit ZeroTier address. */
  address: number;
  /** Flags (u32, unused by 1.14). */
  flags: number;
  /** Copy length in bytes (0 = whole frame; ignored for redirect). */
  length: number;
}

/** ZeroTier source / destination address equals. */
export interface ZtAddressRule extends RuleBase {
  /** Which end. */
  kind: "ztSource" | "ztDest";
  /** 40-bit address. */
  address: number;
}

/** VLAN id / PCP / DEI equals (PCP and DEI are unsupported: true iff value is 0). */
export interface VlanRule extends RuleBase {
  /** Which field. */
  kind: "vlanId" | "vlanPcp" | "vlanDei";
  /** u16 for vlanId, u8 otherwise. */
  value: number;
}

/** MAC source / destination equals. */
export interface MacRule extends RuleBase {
  /** Which end. */
  kind: "macSource" | "macDest";
  /** 48-bit MAC. */
  mac: number;
}

/** IPv4 / IPv6 source / destination within a prefix. */
export interface IpRule extends RuleBase {
  /** Which family and end. */
  kind: "ipv4Source" | "ipv4Dest" | "ipv6Source" | "ipv6Dest";
  /** 4 or 16 address bytes (network order). */
  ip: Uint8Array;
  /** Prefix bits (u8). */
  bits: number;
}

/** IP TOS / traffic class: `(tos & mask)` in [start, end]. */
export interface IpTosRule extends RuleBase {
  /** Match kind. */
  kind: "ipTos";
  /** Mask (u8). */
  mask: number;
  /** Range start (u8). */
  start: number;
  /** Range end (u8). */
  end: number;
}

/** IP protocol (IPv4 protocol / IPv6 final next header) equals. */
export interface IpProtocolRule extends RuleBase {
  /** Match kind. */
  kind: "ipProtocol";
  /** Protocol number (u8). */
  protocol: number;
}

/** Ethertype equals. */
export interface EtherTypeRule extends RuleBase {
  /** Match kind. */
  kind: "etherType";
  /** Ethertype (u16). */
  etherType: number;
}

/** ICMP (v4 or v6) type, and code when given. */
export interface IcmpRule extends RuleBase {
  /** Match kind. */
  kind: "icmp";
  /** ICMP type (u8). */
  icmpType: number;
  /** ICMP code, or null for any code. */
  icmpCode: number | null;
}

/** Source / destination port, or frame size, within [start, end]. */
export interface RangeRule extends RuleBase {
  /** Which range. */
  kind: "sourcePort" | "destPort" | "frameSize";
  /** Start (u16). */
  start: number;
  /** End (u16). */
  end: number;
}

/** Packet characteristics: `(cf & mask) != 0`. */
export interface CharacteristicsRule extends RuleBase {
  /** Match kind. */
  kind: "characteristics";
  /** 64-bit mask of {@link Characteristic} bits. */
  mask: bigint;
}

/** Random: true when a fresh u32 <= probability. */
export interface RandomRule extends RuleBase {
  /** Match kind. */
  kind: "random";
  /** Probability × (2^32 - 1), u32. */
  probability: number;
}

/** Kinds of tag matches, in id order 44..50. */
export type TagRuleKind =
  | "tagsDifference"
  | "tagsAnd"
  | "tagsOr"
  | "tagsXor"
  | "tagsEqual"
  | "tagSender"
  | "tagReceiver";

/** Tag comparisons between our tag and the remote member's (spec §8.3). */
export interface TagRule extends RuleBase {
  /** Which comparison. */
  kind: TagRuleKind;
  /** Tag id (u32). */
  tagId: number;
  /** Comparison value (u32). */
  value: number;
}

/** Integer at a frame offset within [start, start + (end - start mod 2^32)]. */
export interface IntegerRangeRule extends RuleBase {
  /** Match kind. */
  kind: "integerRange";
  /** Range start (u64). */
  start: bigint;
  /** Absolute range end as on the wire (u64). */
  end: bigint;
  /** Byte index into the frame payload (u16). */
  idx: number;
  /** Little-endian read. */
  littleEndian: boolean;
  /** Integer width in bits, 1..64. */
  bits: number;
}

/** A rule whose id is not known (or whose value is too short to decode): kept as raw bytes. */
export interface UnknownRule extends RuleBase {
  /** Marks the raw form. */
  kind: "unknown";
  /** Type id 0..63. */
  id: number;
  /** Value bytes. */
  value: Uint8Array;
}

/** Any action rule. */
export type ActionRule = SimpleActionRule | PriorityRule | ForwardRule;

/** Any match rule. */
export type MatchRule =
  | ZtAddressRule
  | VlanRule
  | MacRule
  | IpRule
  | IpTosRule
  | IpProtocolRule
  | EtherTypeRule
  | IcmpRule
  | RangeRule
  | CharacteristicsRule
  | RandomRule
  | TagRule
  | IntegerRangeRule;

/** One decoded rule. */
export type Rule = ActionRule | MatchRule | UnknownRule;

/** All rule kinds. */
export type RuleKind = Rule["kind"];

/** The type id of each known kind. */
export const RULE_KIND_IDS: Readonly<Record<Exclude<RuleKind, "unknown">, number>> = {
  drop: RuleId.DROP,
  accept: RuleId.ACCEPT,
  tee: RuleId.TEE,
  watch: RuleId.WATCH,
  redirect: RuleId.REDIRECT,
  break: RuleId.BREAK,
  priority: RuleId.PRIORITY,
  ztSource: RuleId.ZT_SOURCE,
  ztDest: RuleId.ZT_DEST,
  vlanId: RuleId.VLAN_ID,
  vlanPcp: RuleId.VLAN_PCP,
  vlanDei: RuleId.VLAN_DEI,
  macSource: RuleId.MAC_SOURCE,
  macDest: RuleId.MAC_DEST,
  ipv4Source: RuleId.IPV4_SOURCE,
  ipv4Dest: RuleId.IPV4_DEST,
  ipv6Source: RuleId.IPV6_SOURCE,
  ipv6Dest: RuleId.IPV6_DEST,
  ipTos: RuleId.IP_TOS,
  ipProtocol: RuleId.IP_PROTOCOL,
  etherType: RuleId.ETHERTYPE,
  icmp: RuleId.ICMP,
  sourcePort: RuleId.SOURCE_PORT_RANGE,
  destPort: RuleId.DEST_PORT_RANGE,
  characteristics: RuleId.CHARACTERISTICS,
  frameSize: RuleId.FRAME_SIZE_RANGE,
  random: RuleId.RANDOM,
  tagsDifference: RuleId.TAGS_DIFFERENCE,
  tagsAnd: RuleId.TAGS_BITWISE_AND,
  tagsOr: RuleId.TAGS_BITWISE_OR,
  tagsXor: RuleId.TAGS_BITWISE_XOR,
  tagsEqual: RuleId.TAGS_EQUAL,
  tagSender: RuleId.TAG_SENDER,
  tagReceiver: RuleId.TAG_RECEIVER,
  integerRange: RuleId.INTEGER_RANGE,
};

/** The type id (0..63) of a rule. */
export function ruleId(r: Rule): number {
  return r.kind === "unknown" ? r.id & 0x3f : RULE_KIND_IDS[r.kind];
}

/** True for actions (id <= 15), including unknown action ids. */
export function isActionRule(r: Rule): boolean {
  return ruleId(r) <= RULE_ACTION_MAX_ID;
}
