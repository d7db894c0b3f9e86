// Tests the dissector on the real 1.14.1 capture (JSONL and pcap), bit flips, partial keys and crafted packets.
import assert from "node:assert/strict";
import { CAPTURE_VERBS, fixtureBytes, fixtureText } from "../fixtures.ts";
import { type CapturedDatagram, parseCaptureJsonl } from "../../src/vl1/capture_jsonl.ts";
import { parsePcap } from "../../src/vl1/pcap.ts";
import {
  dissect,
  type DissectRecord,
  Keyring,
  summarizeDissection,
} from "../../src/vl1/dissect.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { armor } from "../../src/vl1/armor.ts";
import { PeerKeys } from "../../src/vl1/peer_keys.ts";
import { splitPacket } from "../../src/vl1/fragment.ts";
import { setFragmented, Verb, writeHeader } from "../../src/vl1/packet.ts";

const HOSTS = ["r", "c", "a", "b"];

function identities(kind: "secret" | "public", hosts = HOSTS): Identity[] {
  return hosts.map((h) => {
    const id = Identity.fromString(fixtureText(`identities/${h}.${kind}`));
    assert.ok(id, `identity ${h}.${kind}`);
    return id;
  });
}

function jsonlCapture(): CapturedDatagram[] {
  const r = parseCaptureJsonl(fixtureText("captures/session.jsonl"));
  assert.ok(r.ok);
  return r.datagrams;
}

function pcapCapture(): CapturedDatagram[] {
  const r = parsePcap(fixtureBytes("captures/session.pcap"));
  assert.ok(r.ok);
  return r.datagrams;
}

/** Records that end a packet (whole packets and completing fragments). */
function packetEnds(recs: DissectRecord[]): DissectRecord[] {
  return recs.filter((r) => r.kind === "packet" || r.completes);
}

function checkFullCapture(recs: DissectRecord[], label: string): void {
  const s = summarizeDissection(recs);
  assert.equal(s.datagrams, 275, label);
  assert.equal(s.verdicts.ok, 272, `${label}: ${s.verdicts.ok} ok`);
  assert.equal(s.verdicts.junk, 3, label);
  assert.equal(s.reassembled, 8, `${label}: 8 fragmented packets reassembled`);
  for (const r of recs.filter((r) => r.verdict === "junk")) assert.equal(r.length, 4);
  const pieces = recs.filter((r) => r.fragment);
  assert.equal(pieces.length, 16, "8 heads + 8 fragments");
  for (const r of pieces) assert.equal(r.fragment!.total, 2);
  const ends = packetEnds(recs);
  assert.equal(ends.length, 272 - 8);
  assert.deepEqual([...new Set(ends.map((r) => r.verb!))].sort(), CAPTURE_VERBS);
  for (const r of ends) {
    assert.ok(r.summary, `summary for ${r.index}`);
    assert.ok(r.plaintext && r.wire);
  }
}

Deno.test("dissect: session.jsonl with the four secrets: 272 ok + 3 junk, 8 packets reassembled", () => {
  const recs = dissect(jsonlCapture(), identities("secret"));
  checkFullCapture(recs, "jsonl");
});

Deno.test("dissect: session.pcap gives the same records as session.jsonl", () => {
  const a = dissect(pcapCapture(), identities("secret"));
  const b = dissect(jsonlCapture(), identities("secret"));
  checkFullCapture(a, "pcap");
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.deepEqual(a[i], b[i], `record ${i}`);
  }
});

Deno.test("dissect: ciphers 0, 1 and 3 all present; 1 and 3 decrypted; LZ4 payloads inflated", () => {
  const recs = dissect(jsonlCapture(), identities("secret"));
  const ends = packetEnds(recs);
  const byCipher = new Map<number, number>();
  for (const r of ends) byCipher.set(r.cipher!, (byCipher.get(r.cipher!) ?? 0) + 1);
  assert.deepEqual([...byCipher.keys()].sort(), [0, 1, 3]);
  for (const r of ends) {
    const w = r.wire!, p = r.plaintext!;
    if (r.cipher === 0) {
      // Cipher 0 is not encrypted: the verb byte is readable on the wire.
      assert.equal(w[27] & 0x1f, p[27]);
    } else if (!r.compressed) {
      // Decryption changed the body (a ≥ 1-byte payload that survives XOR unchanged is 2^-8·n).
      assert.equal(p.length, w.length);
      assert.notDeepEqual(p.subarray(27), w.subarray(27), `record ${r.index} decrypted`);
    }
    assert.equal(p[27] & 0x80, 0, "compression flag cleared");
  }
  const compressed = ends.filter((r) => r.compressed);
  assert.ok(compressed.length > 0);
  for (const r of compressed) {
    assert.ok(r.plaintext!.length > r.wire!.length, `record ${r.index} inflated`);
  }
  const relayed = ends.filter((r) => r.hops! > 0);
  assert.ok(relayed.length > 0, "relayed copies (hops 1) authenticate");
  for (const r of relayed) assert.equal(r.verdict, "ok");
});

Deno.test("dissect: verb summaries carry the decoded fields", () => {
  const recs = packetEnds(dissect(jsonlCapture(), identities("secret")));
  const [r, a] = identities("public", ["r", "a"]);
  const hello = recs.find((x) => x.verb === "HELLO" && x.source === a.address.toString())!;
  assert.match(hello.summary!, new RegExp(`proto 12 v1\\.14\\.1 identity ${a.address}`));
  const nets = JSON.parse(fixtureText("networks.json")) as Record<string, string>;
  const nwids = Object.values(nets).filter((v) => /^[0-9a-f]{16}$/.test(String(v)));
  assert.ok(nwids.length >= 1, "network ids in networks.json");
  const ncr = recs.find((x) => x.verb === "NETWORK_CONFIG_REQUEST")!;
  assert.ok(nwids.some((n) => ncr.summary!.includes(`nwid ${n}`)), ncr.summary);
  const okWhois = recs.find((x) => x.verb === "OK" && x.summary!.startsWith("in-re WHOIS"))!;
  assert.match(okWhois.summary!, /identities [0-9a-f]{10}/);
  const whois = recs.find((x) => x.verb === "WHOIS")!;
  assert.match(whois.summary!, new RegExp(`addresses ${r.address}|addresses [0-9a-f]{10}`));
  const frame = recs.find((x) => x.verb === "FRAME" && x.completes)!;
  assert.match(frame.summary!, /ethertype 0x0800 length 24\d\d/);
  const err = recs.find((x) => x.verb === "ERROR")!;
  assert.match(err.summary!, /^in-re [A-Z_]+ [0-9a-f]{16} [A-Z_]+/);
  const okHello = recs.find((x) => x.verb === "OK" && x.summary!.startsWith("in-re HELLO"))!;
  assert.match(okHello.summary!, /seen-as 198\.18\.0\.\d\/9993/);
});

/** Byte positions to tamper with in one datagram, and which bits (hop bits excluded). */
function flipPlan(d: Uint8Array, isFragmentPiece: boolean): [number, number][] {
  const n = d.length;
  const out: [number, number][] = [];
  const add = (pos: number, bit: number) => {
    if (pos >= 0 && pos < n) out.push([pos, bit]);
  };
  if (isFragmentPiece) {
    // ID, destination, indicator, counts, first data byte; byte 15 is the hop byte.
    for (const p of [0, 7, 8, 12, 13, 14, 16]) add(p, p % 8);
    add(14, 4);
  } else {
    for (const p of [0, 7, 8, 12, 13, 17, 19, 26, 27]) add(p, p % 8);
    for (const bit of [3, 4, 5, 6, 7]) add(18, bit); // flags: cipher, fragmented, legacy bits
  }
  add(Math.floor((n + 28) / 2), 5); // middle of the payload
  add(n - 1, 0); // last byte
  add(n - 1, 7);
  return out;
}

Deno.test("dissect: flipping any non-hop bit of any packet makes it not ok", () => {
  const capture = jsonlCapture();
  const keyring = new Keyring(identities("secret"));
  const base = dissect(capture, keyring);
  let flips = 0, packets = 0;
  for (const end of packetEnds(base)) {
    const pieces = end.pieces ?? [end.index];
    packets++;
    // Sanity: the untouched pieces alone authenticate, and so do they with hop bits changed.
    const plain = pieces.map((i) => capture[i]);
    assert.equal(dissect(plain, keyring).at(-1)!.verdict, "ok");
    const hopped = plain.map((d) => {
      const data = d.data.slice();
      if (data.length > 16 && data[13] === 0xff) data[15] ^= 0x07;
      else data[18] ^= 0x07;
      return { ...d, data };
    });
    assert.equal(dissect(hopped, keyring).at(-1)!.verdict, "ok", "hop bits are not covered");
    for (let k = 0; k < pieces.length; k++) {
      const d = capture[pieces[k]];
      const frag = end.fragment !== undefined && k > 0;
      for (const [pos, bit] of flipPlan(d.data, frag)) {
        const data = d.data.slice();
        data[pos] ^= 1 << bit;
        const seq = plain.map((x, j) => (j === k ? { ...x, data } : x));
        const recs = dissect(seq, keyring);
        for (const r of recs) {
          assert.notEqual(
            r.verdict,
            "ok",
            `datagram ${pieces[k]} byte ${pos} bit ${bit}: ${r.kind} ${r.verdict}`,
          );
        }
        flips++;
      }
    }
  }
  assert.equal(packets, 264);
  assert.ok(flips >= packets * 5, `${flips} flips over ${packets} packets`);
  console.log(`${flips} single-bit flips over ${packets} packets: none ok`);
});

Deno.test("dissect: with public identities only, every ZeroTier datagram is unknown-peer", () => {
  const recs = dissect(jsonlCapture(), identities("public"));
  const s = summarizeDissection(recs);
  assert.equal(s.verdicts["unknown-peer"], 272);
  assert.equal(s.verdicts.junk, 3);
  assert.equal(s.verdicts.ok, 0);
  for (const r of recs) assert.equal(r.plaintext, undefined);
});

Deno.test("dissect: one secret authenticates exactly its own traffic, learning peers from HELLO", () => {
  const capture = jsonlCapture();
  for (const host of HOSTS) {
    const [me] = identities("secret", [host]);
    const mine = me.address.toString();
    const recs = dissect(capture, [me]);
    const learned = new Set(recs.flatMap((r) => r.learned ?? []));
    for (const r of recs) {
      if (r.verdict === "junk") continue;
      const involved = r.source === mine || r.destination === mine;
      // Every packet to or from us authenticates once the peer is learned; nothing else does.
      if (!involved) assert.equal(r.verdict, "unknown-peer", `record ${r.index}`);
      else if (r.verdict !== "ok") {
        const other = r.source === mine ? r.destination! : r.source!;
        const learnedAt = recs.findIndex((x) => x.learned?.includes(other));
        assert.ok(learnedAt < 0 || learnedAt > r.index, `${host}: record ${r.index} ${r.reason}`);
      }
    }
    assert.ok(learned.size > 0, `${host} learned ${[...learned]}`);
    assert.ok(!learned.has(mine));
  }
  // The root hears a HELLO from everybody before anything else.
  const [root] = identities("secret", ["r"]);
  const recs = dissect(capture, [root]);
  const r10 = root.address.toString();
  for (const r of recs) {
    if (r.verdict === "junk") continue;
    const involved = r.source === r10 || r.destination === r10;
    assert.equal(r.verdict, involved ? "ok" : "unknown-peer", `record ${r.index}`);
  }
});

Deno.test("dissect: identities are learned from OK(WHOIS) replies", () => {
  // a's secret and r's public identity: a learns b and c only from what r or they tell it.
  const [a] = identities("secret", ["a"]);
  const [r] = identities("public", ["r"]);
  const recs = dissect(jsonlCapture(), [a, r]);
  const fromWhois = recs.filter((x) => x.learned && x.verb === "OK");
  assert.ok(fromWhois.length > 0);
  for (const x of fromWhois) assert.match(x.summary!, /^in-re WHOIS/);
  const learned = new Set(recs.flatMap((x) => x.learned ?? []));
  for (const h of ["b", "c"]) {
    assert.ok(learned.has(identities("public", [h])[0].address.toString()), h);
  }
});

// ---- crafted packets ----

const [A, B] = identities("secret", ["a", "b"]);
const KEYS = new PeerKeys(A.agree(B)!);
const AT = { time: 100, src: "10.0.0.1/9993", dst: "10.0.0.2/9993" };

function craft(
  verb: number,
  payload: Uint8Array,
  cipher: 0 | 1 | 3,
  opts: { fragmented?: boolean; keys?: PeerKeys } = {},
): Uint8Array {
  const pkt = new Uint8Array(28 + payload.length);
  writeHeader(
    pkt,
    new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
    B.address.value,
    A.address.value,
    verb,
  );
  pkt.set(payload, 28);
  if (opts.fragmented) setFragmented(pkt, true);
  armor(pkt, pkt.length, opts.keys ?? KEYS, cipher);
  return pkt;
}

function one(data: Uint8Array): DissectRecord {
  return dissect([{ ...AT, data }], [A, B])[0];
}

Deno.test("dissect: crafted packets get the right verdicts", () => {
  const echo = craft(Verb.ECHO, new Uint8Array([9, 9, 9]), 3);
  assert.equal(one(echo).verdict, "ok");
  assert.equal(one(echo).summary, "3 bytes");

  const wrongKey = craft(Verb.ECHO, new Uint8Array(3), 1, {
    keys: new PeerKeys(new Uint8Array(48)),
  });
  assert.equal(one(wrongKey).verdict, "bad-mac");

  // Authentic, but claims LZ4 compression of garbage.
  const badLz4 = craft(Verb.FRAME | 0x80, new Uint8Array([0xf0, 1, 2]), 1);
  const r1 = one(badLz4);
  assert.equal(r1.verdict, "malformed");
  assert.match(r1.reason!, /LZ4/);

  // Authentic, but the WHOIS payload is not a whole number of addresses.
  const badWhois = craft(Verb.WHOIS, new Uint8Array(7), 3);
  assert.equal(one(badWhois).verdict, "malformed");

  const unknownCipher = echo.slice();
  unknownCipher[18] = (unknownCipher[18] & 0xc7) | (5 << 3);
  assert.equal(one(unknownCipher).verdict, "malformed");

  const trusted = new Uint8Array(40);
  writeHeader(trusted, new Uint8Array(8), B.address.value, A.address.value, Verb.ECHO);
  trusted[18] = 2 << 3;
  const rt = one(trusted);
  assert.equal(rt.verdict, "unknown-peer");
  assert.match(rt.reason!, /trusted-path/);

  const stranger = craft(Verb.ECHO, new Uint8Array(1), 3);
  stranger[13] ^= 0x01; // source address nobody knows
  const rs = one(stranger);
  assert.equal(rs.verdict, "unknown-peer");
  assert.match(rs.reason!, /no identity/);

  const junk = one(new Uint8Array([1, 2, 3, 4]));
  assert.equal(junk.verdict, "junk");
  assert.equal(junk.kind, "junk");
  assert.equal(one(new Uint8Array(27)).verdict, "junk");
  assert.equal(one(new Uint8Array(10100)).verdict, "malformed");

  const badFrag = new Uint8Array(40);
  badFrag[13] = 0xff;
  badFrag[14] = 0x12; // total 1, number 2
  assert.equal(one(badFrag).verdict, "malformed");
});

Deno.test("dissect: fragments reassemble in any order; stale or missing pieces stay incomplete", () => {
  const big = new Uint8Array(3000);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  big.set([0x8e, 0x4d, 0xf2, 0x8b, 0x72, 0, 0, 1, 0x08, 0x00], 0); // nwid + ethertype
  const pkt = craft(Verb.FRAME, big, 3, { fragmented: true });
  const pieces = splitPacket(pkt, pkt.length, 1432)!;
  assert.equal(pieces.length, 3);
  const ds = pieces.map((data, i) => ({ ...AT, time: 100 + i / 1000, data }));
  for (const order of [[0, 1, 2], [2, 1, 0], [1, 0, 2]]) {
    const recs = dissect(order.map((i) => ds[i]), [A, B]);
    assert.deepEqual(recs.map((r) => r.verdict), ["ok", "ok", "ok"], `order ${order}`);
    const last = recs[2];
    assert.equal(last.completes, true);
    assert.equal(last.summary, "nwid 8e4df28b72000001 ethertype 0x0800 length 2990");
    assert.deepEqual(last.plaintext!.subarray(28), big);
    assert.deepEqual(recs.map((r) => r.fragment!.total), [3, 3, 3]);
  }
  const missing = dissect([ds[0], ds[2]], [A, B]);
  assert.deepEqual(missing.map((r) => r.verdict), ["incomplete", "incomplete"]);
  const stale = dissect([ds[0], ds[1], { ...ds[2], time: 106 }], [A, B]);
  assert.deepEqual(stale.map((r) => r.verdict), ["incomplete", "incomplete", "incomplete"]);
  // Pieces addressed to another host underlay do not join.
  const split = dissect([ds[0], ds[1], { ...ds[2], dst: "10.0.0.3/9993" }], [A, B]);
  assert.ok(split.every((r) => r.verdict === "incomplete"));
  assert.equal(summarizeDissection(split).verdicts.incomplete, 3);
});

Deno.test("dissect: a HELLO from an unknown identity is authenticated with the recipient's secret", () => {
  const capture = jsonlCapture();
  const first = dissect(capture, identities("secret"))
    .find((r) => r.verb === "HELLO" && r.hops === 0)!;
  const d = capture[first.index];
  const [recipient] = identities("secret", HOSTS).filter((i) =>
    i.address.toString() === first.destination
  );
  const rec = dissect([d], [recipient])[0];
  assert.equal(rec.verdict, "ok");
  assert.deepEqual(rec.learned, [first.source]);
  // Without the recipient's secret (only the sender's public key) nothing can be checked.
  const [sender] = identities("public", HOSTS).filter((i) => i.address.toString() === first.source);
  assert.equal(dissect([d], [sender])[0].verdict, "unknown-peer");
});
