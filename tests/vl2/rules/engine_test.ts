// Tests for one-rule-list evaluation (spec §8.3): every match type, every action, set logic and quirks.
import assert from "node:assert/strict";
import type { JsonObject } from "../../../src/util/json.ts";
import {
  buildTestFrame,
  type FrameOptions,
  parseFrameDescription,
} from "../../../src/cli/rules_test_cmd.ts";
import { evaluateRules, type RuleEvalContext } from "../../../src/vl2/rules/engine.ts";
import { type FrameInfo, parseFrame } from "../../../src/vl2/rules/frame_info.ts";
import { rulesFromJson } from "../../../src/vl2/rules/rule_codec.ts";
import { Characteristic, type Rule } from "../../../src/vl2/rules/rule_types.ts";
import { compileRules } from "../../../src/vl2/rules_compiler/mod.ts";

const US = 0x1111111111, PEER = 0x2222222222, OTHER = 0x3333333333;
const MAC_US = 0x021111111111, MAC_PEER = 0x022222222222;

/** Compiles rules-language text to typed base rules. */
function rdl(src: string): Rule[] {
  const c = compileRules(src);
  assert.ok(c.ok, c.ok ? "" : c.error.message);
  return rulesFromJson(c.rules as JsonObject[]);
}

/** A frame from a CLI-style description (outbound us → peer unless macs given). */
function frame(desc: string, o: FrameOptions = {}, src = MAC_US, dst = MAC_PEER): FrameInfo {
  const d = parseFrameDescription(desc, o);
  assert.ok(d.ok, d.ok ? "" : d.error);
  const { etherType, payload } = buildTestFrame(d.spec, src);
  return parseFrame(src, dst, etherType, payload, 0, payload.length);
}

interface Opts extends Partial<RuleEvalContext> {
  ours?: Record<number, number>;
  peers?: Record<number, number>;
}

function ctx(o: Opts = {}): RuleEvalContext {
  const inbound = o.inbound ?? false;
  return {
    inbound,
    ourAddress: US,
    ztSource: inbound ? PEER : US,
    ztDest: inbound ? US : PEER,
    ourTag: (id) => o.ours?.[id],
    peerTag: (id) => o.peers?.[id],
    ownership: () => 0n,
    unsupportedMatchResult: false,
    ...o,
  };
}

/** Verdict of `accept <cond>;` (i.e. does the condition hold?) on `f`. */
function holds(cond: string, f: FrameInfo, o: Opts = {}): boolean {
  const r = evaluateRules(rdl(`accept ${cond};`), f, ctx(o));
  assert.ok(r.verdict === "accept" || r.verdict === "no-match", r.verdict);
  return r.verdict === "accept";
}

const TCP22 = frame("tcp 10.0.0.1:40000 > 10.0.0.2:22");
const UDP53 = frame("udp 10.0.0.1:5353 > 10.0.0.2:53");
const ICMP_ECHO = frame("icmp 10.0.0.1 > 10.0.0.2");
const ARP = frame("arp 10.0.0.1 > 10.0.0.2", {}, MAC_US, 0xffffffffffff);
const V6_UDP = frame("udp [fd00::1]:5000 > [fd00::2]:53");

Deno.test("ZeroTier address, VLAN and MAC matches", () => {
  assert.equal(holds("ztsrc 1111111111", TCP22), true);
  assert.equal(holds("ztsrc 2222222222", TCP22), false);
  assert.equal(holds("ztdest 2222222222", TCP22), true);
  assert.equal(holds("ztsrc 2222222222", TCP22, { inbound: true }), true);
  assert.equal(holds("ztdest 0000000000", TCP22, { ztDest: 0 }), true);
  assert.equal(holds("vlan 0", TCP22), true);
  assert.equal(holds("vlan 5", TCP22), false);
  assert.equal(holds("vlanpcp 0", TCP22), true);
  assert.equal(holds("vlanpcp 3", TCP22), false);
  assert.equal(holds("vlandei 1", TCP22), false);
  assert.equal(holds("macsrc 02:11:11:11:11:11", TCP22), true);
  assert.equal(holds("macdest 02:11:11:11:11:11", TCP22), false);
  assert.equal(holds("macdest ff:ff:ff:ff:ff:ff", ARP), true);
});

Deno.test("IP address matches: prefixes, families, hard no under NOT", () => {
  assert.equal(holds("ipsrc 10.0.0.0/8", TCP22), true);
  assert.equal(holds("ipsrc 10.0.0.1/32", TCP22), true);
  assert.equal(holds("ipsrc 10.0.0.2/32", TCP22), false);
  assert.equal(holds("ipdest 10.0.0.0/31", TCP22), false);
  assert.equal(holds("ipdest 10.0.0.2/31", TCP22), true);
  assert.equal(holds("ipsrc 0.0.0.0/0", TCP22), true);
  assert.equal(holds("ipsrc fd00::/16", V6_UDP), true);
  assert.equal(holds("ipdest fd00::2/128", V6_UDP), true);
  assert.equal(holds("ipdest fd00::3/127", V6_UDP), false);
  // QUIRK: the rule's IPv6 address is compared unmasked, so host bits beyond the prefix never match.
  assert.equal(holds("ipdest fd00::2/64", V6_UDP), false);
  // Not IPv4 / not IPv6: hard no, also under NOT.
  assert.equal(holds("ipsrc 10.0.0.0/8", ARP), false);
  assert.equal(holds("not ipsrc 10.0.0.0/8", ARP), false);
  assert.equal(holds("not ipsrc 192.168.0.0/16", TCP22), true);
  assert.equal(holds("not ipsrc fd00::/8", TCP22), false);
});

Deno.test("TOS, protocol, ethertype matches (IPv4 and IPv6)", () => {
  const tos = frame("udp 10.0.0.1:1 > 10.0.0.2:2", { tos: "0xb8" });
  assert.equal(holds("iptos 0xfc 0xb8", tos), true);
  assert.equal(holds("iptos 0xfc 0-0xb0", tos), false);
  assert.equal(holds("iptos 0x0f 8", tos), true);
  const tos6 = frame("udp [fd00::1]:1 > [fd00::2]:2", { tos: "0x2e" });
  assert.equal(holds("iptos 0xff 0x2e", tos6), true);
  assert.equal(holds("not iptos 0xff 0", ARP), false);
  assert.equal(holds("ipprotocol tcp", TCP22), true);
  assert.equal(holds("ipprotocol udp", TCP22), false);
  assert.equal(holds("ipprotocol udp", V6_UDP), true);
  assert.equal(holds("not ipprotocol udp", ARP), false);
  assert.equal(holds("ethertype arp", ARP), true);
  assert.equal(holds("ethertype ipv6", V6_UDP), true);
  assert.equal(holds("not ethertype ipv4", TCP22), false);
});

Deno.test("ICMP match: any code is a hard yes, type mismatch a hard no (NOT cannot flip them)", () => {
  const reply = frame("icmp 10.0.0.1 > 10.0.0.2", { icmpType: "0" });
  const unreach = frame("icmp 10.0.0.1 > 10.0.0.2", { icmpType: "3", icmpCode: "3" });
  assert.equal(holds("icmp 8 -1", ICMP_ECHO), true);
  assert.equal(holds("icmp 8 -1", reply), false);
  assert.equal(holds("icmp 3 3", unreach), true);
  assert.equal(holds("icmp 3 1", unreach), false);
  assert.equal(holds("not icmp 3 1", unreach), true);
  // QUIRKs: NOT does not invert the hard results.
  assert.equal(holds("not icmp 8 -1", ICMP_ECHO), true);
  assert.equal(holds("not icmp 8 -1", reply), false);
  assert.equal(holds("not icmp 8 -1", TCP22), false);
  const v6echo = frame("icmp6 [fd00::1] > [fd00::2]");
  assert.equal(holds("icmp 128 -1", v6echo), true);
  assert.equal(holds("icmp 8 -1", v6echo), false);
});

Deno.test("port ranges: TCP/UDP, non-port protocols, IPv6 port 0 quirk", () => {
  assert.equal(holds("dport 22", TCP22), true);
  assert.equal(holds("dport 20-25", TCP22), true);
  assert.equal(holds("dport 23-25", TCP22), false);
  assert.equal(holds("sport 40000", TCP22), true);
  assert.equal(holds("sport 5353 dport 53", UDP53), true);
  assert.equal(holds("dport 53", V6_UDP), true);
  // IPv4 ICMP: plain false (so NOT makes it true); ARP: hard no.
  assert.equal(holds("dport 0-65535", ICMP_ECHO), false);
  assert.equal(holds("not dport 80", ICMP_ECHO), true);
  assert.equal(holds("not dport 80", ARP), false);
  // Port 0 matches on IPv4 but never on IPv6.
  assert.equal(holds("dport 0", frame("udp 10.0.0.1:1 > 10.0.0.2:0")), true);
  assert.equal(holds("dport 0", frame("udp [fd00::1]:1 > [fd00::2]:0")), false);
  const sctp = frame("sctp 10.0.0.1:9 > 10.0.0.2:2905");
  assert.equal(holds("dport 2905", sctp), true);
});

Deno.test("characteristics: direction, multicast/broadcast, TCP flags, ownership bits", () => {
  const syn = frame("tcp 10.0.0.1:1 > 10.0.0.2:80", { flags: "syn" });
  const synack = frame("tcp 10.0.0.1:1 > 10.0.0.2:80", { flags: "syn,ack,ns" });
  assert.equal(holds("chr tcp_syn", syn), true);
  assert.equal(holds("chr tcp_ack", syn), false);
  assert.equal(holds("chr tcp_syn not chr tcp_ack", syn), true);
  assert.equal(holds("chr tcp_syn not chr tcp_ack", synack), false);
  assert.equal(holds("chr tcp_ns", synack), true);
  assert.equal(holds("chr tcp_syn", UDP53), false);
  assert.equal(holds("chr inbound", TCP22), false);
  assert.equal(holds("chr inbound", TCP22, { inbound: true }), true);
  assert.equal(holds("chr broadcast", ARP), true);
  assert.equal(holds("chr multicast", ARP), true);
  assert.equal(holds("chr multicast", TCP22), false);
  let calls = 0;
  const own = () => (calls++, Characteristic.SENDER_IP_AUTHENTICATED);
  assert.equal(holds("chr ipauth chr ipauth", TCP22, { ownership: own }), true);
  assert.equal(calls, 1);
  assert.equal(holds("chr macauth", TCP22, { ownership: own }), false);
  const v6syn = frame("tcp [fd00::1]:1 > [fd00::2]:80", { flags: "syn" });
  assert.equal(holds("chr tcp_syn", v6syn), true);
});

Deno.test("frame size, random, integer range, unsupported matches", () => {
  assert.equal(TCP22.length, 40);
  assert.equal(holds("framesize 40", TCP22), true);
  assert.equal(holds("framesize 0-39", TCP22), false);
  assert.equal(
    holds("framesize 41-1500", frame("udp 1.1.1.1:1 > 2.2.2.2:2", { size: "100" })),
    true,
  );
  assert.equal(holds("random 0.5", TCP22, { random: () => 0x10000000 }), true);
  assert.equal(holds("random 0.5", TCP22, { random: () => 0xf0000000 }), false);
  assert.equal(holds("random 1.0", TCP22), true);
  assert.equal(holds("random 0.99", TCP22), false);
  // INTEGER_RANGE has no RDL; build typed rules: TCP dest port (bytes 22..23) read BE and LE.
  const ir = (
    start: bigint,
    end: bigint,
    idx: number,
    littleEndian: boolean,
    bits: number,
  ): Rule[] => [
    { kind: "integerRange", start, end, idx, littleEndian, bits, not: false, or: false },
    { kind: "accept", not: false, or: false },
  ];
  const v = (rules: Rule[], f = TCP22) => evaluateRules(rules, f, ctx()).verdict;
  assert.equal(v(ir(22n, 22n, 16, false, 16)), "accept"); // window 16..23, last 2 bytes
  assert.equal(v(ir(23n, 30n, 16, false, 16)), "no-match");
  assert.equal(v(ir(0x1600n, 0x1600n, 22, true, 16)), "accept"); // LE reads 00 16 → 0x1600
  assert.equal(v(ir(0x06n, 0x06n, 2, false, 8)), "accept"); // byte 9 = protocol 6
  assert.equal(v(ir(1n, 0xffffn, 100, false, 16)), "no-match"); // out of bounds reads 0
  assert.equal(v(ir(0n, 0n, 100, false, 16)), "accept");
  // Unknown match ids follow netconf flag 0x08.
  const unk: Rule[] = [
    { kind: "unknown", id: 60, value: new Uint8Array(0), not: false, or: false },
    { kind: "accept", not: false, or: false },
  ];
  assert.equal(v(unk), "no-match");
  assert.equal(evaluateRules(unk, TCP22, ctx({ unsupportedMatchResult: true })).verdict, "accept");
});

Deno.test("tag matches: and/or/xor/diff/equal with both tags, missing tags", () => {
  const both = { ours: { 7: 0b1100 }, peers: { 7: 0b1010 } };
  assert.equal(holds("tand 7 8", TCP22, both), true);
  assert.equal(holds("tand 7 12", TCP22, both), false);
  assert.equal(holds("tor 7 14", TCP22, both), true);
  assert.equal(holds("txor 7 6", TCP22, both), true);
  assert.equal(holds("txor 7 0", TCP22, both), false);
  assert.equal(holds("tdiff 7 2", TCP22, both), true);
  assert.equal(holds("tdiff 7 1", TCP22, both), false);
  assert.equal(holds("teq 7 12", TCP22, both), false);
  assert.equal(holds("teq 7 12", TCP22, { ours: { 7: 12 }, peers: { 7: 12 } }), true);
  // No local tag: hard no (NOT cannot flip it).
  assert.equal(holds("not teq 9 1", TCP22, both), false);
  // Unknown remote tag: outbound hard yes, inbound hard no.
  assert.equal(holds("teq 7 12", TCP22, { ours: { 7: 12 } }), true);
  assert.equal(holds("not teq 7 12", TCP22, { ours: { 7: 12 } }), true);
  assert.equal(holds("teq 7 12", TCP22, { ours: { 7: 12 }, inbound: true }), false);
});

Deno.test("unknown remote tag on outbound sets skip-drop: the next DROP is skipped once", () => {
  const rules = rdl("drop not teq 7 12; accept;");
  const out = evaluateRules(rules, TCP22, ctx({ ours: { 7: 12 } }));
  assert.deepEqual([out.verdict, out.ruleIndex], ["accept", 2]);
  const known = evaluateRules(rules, TCP22, ctx({ ours: { 7: 12 }, peers: { 7: 5 } }));
  assert.deepEqual([known.verdict, known.ruleIndex], ["drop", 1]);
  const twoDrops = rdl("drop not teq 7 12; drop; accept;");
  assert.equal(evaluateRules(twoDrops, TCP22, ctx({ ours: { 7: 12 } })).verdict, "drop");
  // A match skipped by the short circuit does not set skip-drop.
  const skipped = rdl("drop ethertype arp teq 7 12; drop;");
  assert.deepEqual(evaluateRules(skipped, TCP22, ctx({ ours: { 7: 12 } })).ruleIndex, 3);
});

Deno.test("tseq / treq: sender and receiver tag by direction", () => {
  const o = { ours: { 3: 1 }, peers: { 3: 2 } };
  assert.equal(holds("tseq 3 1", TCP22, o), true); // outbound: sender = us
  assert.equal(holds("treq 3 2", TCP22, o), true); // outbound: receiver = peer
  assert.equal(holds("tseq 3 2", TCP22, { ...o, inbound: true }), true); // inbound: sender = peer
  assert.equal(holds("treq 3 1", TCP22, { ...o, inbound: true }), true); // inbound: receiver = us
  assert.equal(holds("treq 3 1", TCP22, o), false);
  // Unknown peer tag: receiver on outbound is a hard yes, sender on inbound a hard no.
  assert.equal(holds("not treq 3 9", TCP22, { ours: { 3: 1 } }), true);
  assert.equal(holds("treq 3 9", TCP22, { ours: { 3: 1 } }), true);
  assert.equal(holds("not tseq 3 9", TCP22, { ours: { 3: 1 }, inbound: true }), false);
  assert.equal(holds("tseq 3 1", TCP22, { peers: { 3: 1 } }), false); // no own tag: hard no
});

Deno.test("set logic: AND by default, OR, NOT, short circuit, sets reset after actions", () => {
  assert.equal(holds("ipprotocol tcp or ipprotocol udp", UDP53), true);
  assert.equal(holds("ipprotocol tcp or ipprotocol udp", ICMP_ECHO), false);
  assert.equal(holds("ipprotocol tcp dport 22", UDP53), false);
  assert.equal(holds("ipprotocol udp dport 22 or dport 53", UDP53), true);
  assert.equal(holds("not ipprotocol tcp not ipprotocol udp", ICMP_ECHO), true);
  const rules = rdl("drop ipprotocol tcp dport 23; accept ipprotocol tcp; drop;");
  assert.deepEqual(evaluateRules(rules, TCP22, ctx()).ruleIndex, 4);
  assert.deepEqual(evaluateRules(rules, UDP53, ctx()).ruleIndex, 5);
  // Each set starts true again after an action whose set did not match.
  assert.equal(evaluateRules(rdl("drop ethertype arp; accept;"), TCP22, ctx()).verdict, "accept");
  assert.equal(evaluateRules([], TCP22, ctx()).verdict, "no-match");
  assert.equal(evaluateRules([], TCP22, ctx()).ruleIndex, -1);
});

Deno.test("actions: accept, drop, break, priority, unknown actions", () => {
  const a = evaluateRules(rdl("accept;"), TCP22, ctx());
  assert.deepEqual(a, { verdict: "accept", ruleIndex: 0, ztDest: PEER });
  assert.equal(evaluateRules(rdl("drop; accept;"), TCP22, ctx()).verdict, "drop");
  const b = evaluateRules(rdl("break ipprotocol tcp; accept;"), TCP22, ctx());
  assert.deepEqual([b.verdict, b.ruleIndex], ["no-match", 1]);
  assert.equal(evaluateRules(rdl("break ipprotocol udp; accept;"), TCP22, ctx()).verdict, "accept");
  const f = { not: false, or: false };
  const p = evaluateRules([{ kind: "priority", bucket: 2, ...f }], TCP22, ctx());
  assert.deepEqual([p.verdict, p.qosBucket], ["accept", 2]);
  assert.equal(evaluateRules([{ kind: "priority", bucket: 9, ...f }], TCP22, ctx()).qosBucket, 4);
  const unknownAction: Rule[] = [
    { kind: "etherType", etherType: 0x0806, ...f },
    { kind: "unknown", id: 9, value: new Uint8Array(0), ...f },
    { kind: "accept", ...f },
  ];
  // The unknown action closes the failed set, so the final accept is taken.
  assert.deepEqual(evaluateRules(unknownAction, TCP22, ctx()).ruleIndex, 2);
});

Deno.test("tee / watch / redirect targets and their no-op and super-accept cases", () => {
  const tee = evaluateRules(rdl("tee 16 3333333333; accept;"), TCP22, ctx());
  assert.deepEqual(tee, {
    verdict: "accept",
    ruleIndex: 1,
    ztDest: PEER,
    copy: { address: OTHER, length: 16, watch: false },
  });
  const whole = evaluateRules(
    rdl("watch 0 3333333333; tee 1000 4444444444; accept;"),
    TCP22,
    ctx(),
  );
  assert.deepEqual(whole.copy, { address: 0x4444444444, length: 40, watch: false });
  const watch = evaluateRules(rdl("watch 0 3333333333; accept;"), TCP22, ctx());
  assert.deepEqual(watch.copy, { address: OTHER, length: 40, watch: true });
  // Tee to the source or destination, or to ourselves outbound: no-op.
  for (const a of ["1111111111", "2222222222"]) {
    assert.equal(evaluateRules(rdl(`tee 0 ${a}; accept;`), TCP22, ctx()).copy, undefined);
  }
  // Redirect: new destination, verdict redirect.
  const red = evaluateRules(rdl("redirect 3333333333 dport 22; accept;"), TCP22, ctx());
  assert.deepEqual([red.verdict, red.ztDest, red.ruleIndex], ["redirect", OTHER, 1]);
  assert.equal(
    evaluateRules(rdl("redirect 3333333333 dport 80; accept;"), TCP22, ctx()).verdict,
    "accept",
  );
  // Inbound, a tee/redirect to us super-accepts at once.
  const inb = ctx({ inbound: true });
  const sa = evaluateRules(rdl("tee 0 1111111111; drop;"), TCP22, inb);
  assert.deepEqual([sa.verdict, sa.ruleIndex], ["super-accept", 0]);
  // Inbound, a non-matching tee to us makes a later accept a super-accept…
  const later = evaluateRules(rdl("redirect 1111111111 dport 80; accept;"), TCP22, inb);
  assert.equal(later.verdict, "super-accept");
  // …and relaxes the inbound tag checks (unknown remote tag → skip-drop, hard yes).
  const tags = rdl("tee 0 1111111111 dport 80; drop not teq 7 1; accept;");
  assert.equal(evaluateRules(tags, TCP22, { ...inb, ourTag: () => 1 }).verdict, "super-accept");
  const plain = rdl("drop not teq 7 1; accept;");
  assert.equal(evaluateRules(plain, TCP22, { ...inb, ourTag: () => 1 }).verdict, "accept");
  const tsq = rdl("tee 0 1111111111 dport 80; drop not tseq 7 5; accept;");
  assert.equal(evaluateRules(tsq, TCP22, inb).verdict, "super-accept");
});
