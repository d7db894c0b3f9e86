// Tests for src/service/dns_message.ts: answers decoded by an independent reading, error codes, truncation, fuzzed input.
import assert from "node:assert/strict";
import * as dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import { buildZone, type Zone } from "../../src/controller/dns_zone.ts";
import { answerQuery, RCODE } from "../../src/service/dns_message.ts";
import { seededRandom } from "../helpers/seeded_random.ts";

function zone(): Zone {
  const members = [
    { id: "aaaaaaaaaa", name: "alice", authorized: true, ipAssignments: ["198.19.1.2"] },
    { id: "bbbbbbbbbb", name: "bob", authorized: true, ipAssignments: ["198.19.1.3", "fd00::3"] },
  ];
  for (let i = 0; i < 30; i++) {
    members.push({
      id: (0x1000000000 + i).toString(16),
      name: "many",
      authorized: true,
      ipAssignments: [`198.19.2.${i + 1}`],
    });
  }
  return buildZone({ id: "8056c2e21c000001", dns: { domain: "zt.example", servers: [] } }, members);
}

// deno-lint-ignore no-explicit-any
type Msg = any;

function query(name: string, type = "A", extra: Msg = {}): Uint8Array {
  return new Uint8Array(dnsPacket.encode({
    type: "query",
    id: 0x1234,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: "IN" }],
    ...extra,
  }));
}

function decode(b: Uint8Array | undefined): Msg {
  assert.ok(b);
  return dnsPacket.decode(Buffer.from(b));
}

/** The header's rcode and flags, read by hand (independent of the library). */
function header(
  b: Uint8Array,
): { id: number; qr: boolean; aa: boolean; tc: boolean; rcode: number } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const f = dv.getUint16(2);
  return {
    id: dv.getUint16(0),
    qr: (f & 0x8000) !== 0,
    aa: (f & 0x400) !== 0,
    tc: (f & 0x200) !== 0,
    rcode: f & 0xf,
  };
}

Deno.test("answerQuery: A record with the stated TTL, authoritative, case of the question kept", () => {
  const r = answerQuery(query("BoB.zt.example"), [zone()]);
  assert.equal(r.rcode, RCODE.NOERROR);
  const h = header(r.bytes!);
  assert.deepEqual(h, { id: 0x1234, qr: true, aa: true, tc: false, rcode: 0 });
  const m = decode(r.bytes);
  assert.equal(m.questions[0].name, "BoB.zt.example");
  assert.equal(m.answers.length, 1);
  assert.equal(m.answers[0].type, "A");
  assert.equal(m.answers[0].data, "198.19.1.3");
  assert.equal(m.answers[0].ttl, 60);
  assert.equal(m.flag_rd, true);
  assert.equal(m.flag_ra, false);
});

Deno.test("answerQuery: AAAA, PTR, NXDOMAIN with SOA, NODATA with SOA, REFUSED", () => {
  const z = zone();
  const aaaa = decode(answerQuery(query("bob.zt.example", "AAAA"), [z]).bytes);
  assert.deepEqual(aaaa.answers.map((a: Msg) => a.data), ["fd00::3"]);
  const ptr = decode(answerQuery(query("3.1.19.198.in-addr.arpa", "PTR"), [z]).bytes);
  assert.deepEqual(ptr.answers.map((a: Msg) => a.data).sort(), [
    "bbbbbbbbbb.zt.example",
    "bob.zt.example",
  ]);
  const nx = answerQuery(query("nobody.zt.example"), [z]);
  assert.equal(nx.rcode, RCODE.NXDOMAIN);
  const nxm = decode(nx.bytes);
  assert.equal(nxm.rcode, "NXDOMAIN");
  assert.equal(nxm.authorities[0].type, "SOA");
  assert.equal(nxm.authorities[0].data.minimum, 60);
  const nodata = decode(answerQuery(query("alice.zt.example", "AAAA"), [z]).bytes);
  assert.equal(nodata.rcode, "NOERROR");
  assert.equal(nodata.answers.length, 0);
  assert.equal(nodata.authorities[0].type, "SOA");
  const refused = answerQuery(query("example.com"), [z]);
  assert.equal(refused.rcode, RCODE.REFUSED);
  assert.equal(header(refused.bytes!).aa, false);
  assert.equal(decode(refused.bytes).answers.length, 0);
  assert.equal(answerQuery(query("bob.zt.example"), []).rcode, RCODE.REFUSED);
  assert.equal(answerQuery(query("bob.zt.example", "MX"), [z]).rcode, RCODE.NOERROR);
});

Deno.test("answerQuery: class CH refused, opcode NOTIMP, two questions FORMERR, responses dropped", () => {
  const z = zone();
  const ch = new Uint8Array(dnsPacket.encode({
    type: "query",
    id: 1,
    questions: [{ name: "version.bind", type: "TXT", class: "CH" }],
  }));
  assert.equal(answerQuery(ch, [z]).rcode, RCODE.REFUSED);
  const notify = query("bob.zt.example");
  notify[2] |= 4 << 3; // opcode 4 (NOTIFY)
  const n = answerQuery(notify, [z]);
  assert.equal(n.rcode, RCODE.NOTIMP);
  assert.equal(header(n.bytes!).rcode, RCODE.NOTIMP);
  const two = new Uint8Array(dnsPacket.encode({
    type: "query",
    id: 2,
    questions: [{ name: "a.zt.example", type: "A" }, { name: "b.zt.example", type: "A" }],
  }));
  assert.equal(answerQuery(two, [z]).rcode, RCODE.FORMERR);
  const resp = answerQuery(query("bob.zt.example"), [z]).bytes!;
  assert.deepEqual(answerQuery(resp, [z]), { bytes: undefined, rcode: undefined });
  assert.deepEqual(answerQuery(new Uint8Array(11), [z]), { bytes: undefined, rcode: undefined });
  const cut = query("bob.zt.example").subarray(0, 20);
  const f = answerQuery(cut, [z]);
  assert.equal(f.rcode, RCODE.FORMERR);
  assert.equal(header(f.bytes!).id, 0x1234);
});

Deno.test("answerQuery: a label with an embedded dot is rejected, not re-encoded wrongly", () => {
  // one label "a.": decodes to the name "a..zt" which would re-encode with an empty label
  const q = new Uint8Array([
    0,
    9,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    2,
    0x61,
    0x2e,
    2,
    0x7a,
    0x74,
    0,
    0,
    1,
    0,
    1,
  ]);
  assert.equal(answerQuery(q, [zone()]).rcode, RCODE.FORMERR);
});

Deno.test("answerQuery: too big for UDP goes out truncated; EDNS and TCP allow more", () => {
  const z = zone();
  const plain = answerQuery(query("many.zt.example"), [z]);
  assert.ok(plain.bytes!.length <= 512);
  assert.equal(header(plain.bytes!).tc, true);
  assert.equal(decode(plain.bytes).answers.length, 0);
  const edns = answerQuery(
    query("many.zt.example", "A", {
      additionals: [{ name: ".", type: "OPT", udpPayloadSize: 4096 }],
    }),
    [z],
  );
  assert.equal(header(edns.bytes!).tc, false);
  assert.ok(edns.bytes!.length <= 1232 && edns.bytes!.length > 512);
  assert.equal(decode(edns.bytes).answers.length, 30);
  const tcp = answerQuery(query("many.zt.example"), [z], 65535);
  assert.equal(decode(tcp.bytes).answers.length, 30);
});

Deno.test("answerQuery fuzz: random bytes and mutated queries never throw, answers parse", () => {
  const z = zone();
  const rnd = seededRandom(17);
  const seeds = [
    query("bob.zt.example"),
    query("3.1.19.198.in-addr.arpa", "PTR"),
    query("many.zt.example", "A", { additionals: [{ name: ".", type: "OPT", udpPayloadSize: 9 }] }),
  ];
  let answered = 0;
  for (let i = 0; i < 20_000; i++) {
    let b: Uint8Array;
    const r = rnd(4);
    if (r[0] & 1) {
      b = rnd(r[1] % 80);
    } else {
      b = seeds[r[2] % seeds.length].slice();
      const flips = 1 + (r[3] % 4);
      for (let k = 0; k < flips; k++) {
        const p = rnd(2);
        b[p[0] % b.length] = p[1];
      }
      if (r[1] & 1) b = b.subarray(0, r[1] % b.length);
      // keep most of them queries, so the decoder goes past the header
      if (b.length > 2 && r[3] & 2) b[2] &= 0x07;
    }
    const out = answerQuery(b, [z]);
    if (!out.bytes) continue;
    answered++;
    assert.ok(out.bytes.length <= 1232, `answer of ${out.bytes.length} bytes over UDP`);
    const h = header(out.bytes);
    assert.equal(h.qr, true);
    assert.equal(h.rcode, out.rcode);
    decode(out.bytes); // our answers always parse
  }
  assert.ok(answered > 1000, `only ${answered} answered`);
});
