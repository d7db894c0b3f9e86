// Dictionary codec: escapes, hex integers, first-key-wins, the §12.6 dictionary and real netconf files.
import assert from "node:assert/strict";
import {
  Dictionary,
  escapeDictionaryValue,
  formatHexI64,
  formatHexU64,
  parseHexI64,
  parseHexU64,
} from "../../src/vl2/dictionary.ts";
import { fixtureBytes } from "../fixtures.ts";
import { toHex } from "../../src/util/hex.ts";
import { NETCONF } from "./vectors.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("dictionary: the 5 escapes, and every byte value round-trips", () => {
  const raw = new Uint8Array([0, 0x0d, 0x0a, 0x5c, 0x3d, 0x41, 0xff, 0x09]);
  assert.equal(dec(escapeDictionaryValue(raw).subarray(0, 10)), "\\0\\r\\n\\\\\\e");
  const all = new Uint8Array(256).map((_, i) => i);
  const d = new Dictionary().add("bin", all).addString("s", "a=b\\c").addU64("n", 0x1234n);
  const bytes = d.encode();
  const back = Dictionary.parse(bytes);
  assert.equal(toHex(back.get("bin")!), toHex(all));
  assert.equal(back.getString("s"), "a=b\\c");
  assert.equal(back.getU64("n"), 0x1234n);
  assert.equal(toHex(back.encode()), toHex(bytes));
  // a trailing NUL (the in-memory form) is tolerated and ends the dictionary
  const withNul = new Uint8Array([...bytes, 0, ...enc("\nzz=1")]);
  assert.equal(Dictionary.parse(withNul).has("zz"), false);
  assert.equal(Dictionary.parse(withNul).entries.length, 3);
});

Deno.test("dictionary: reading rules (first key wins, CR ends entries, unknown escapes, junk)", () => {
  const d = Dictionary.parse(enc("a=1\r\nb=x\\qy\\\ngarbage\na=2\n=empty\nc=\nd=ab\\"));
  assert.equal(d.getString("a"), "1");
  assert.equal(d.getString("b"), "xqy\ngarbage"); // an escaped raw LF does not end the entry
  assert.equal(d.has("garbage"), false);
  assert.equal(d.getString(""), "empty");
  assert.equal(d.getU64("c", 7n), 7n); // empty value -> default
  assert.equal(d.getString("d"), "ab"); // dangling escape dropped
  assert.equal(d.getU64("missing"), undefined);
  assert.equal(Dictionary.parse(enc("\n")).entries.length, 0);
  assert.equal(Dictionary.parse(new Uint8Array(0)).entries.length, 0);
  assert.equal(Dictionary.parse(enc("x=1"), 5).entries.length, 0); // bad window, no throw
});

Deno.test("dictionary: hex integers behave like strtoull/strtoll base 16", () => {
  const p = (s: string) => parseHexU64(enc(s));
  assert.equal(p("0000000000000af0"), 2800n);
  assert.equal(p("AF0"), 2800n);
  assert.equal(p("0x10"), 16n);
  assert.equal(p("  12zz"), 0x12n);
  assert.equal(p("zz"), 0n);
  assert.equal(p("1ffffffffffffffff"), 0xffff_ffff_ffff_ffffn); // saturates
  assert.equal(p("-1"), 0xffff_ffff_ffff_ffffn);
  assert.equal(parseHexI64(enc("-0000000000000010")), -16n);
  assert.equal(parseHexI64(enc("ffffffffffffffff")), (1n << 63n) - 1n);
  assert.equal(formatHexU64(2800n), "0000000000000af0");
  assert.equal(formatHexI64(-16n), "-0000000000000010");
  assert.equal(formatHexI64(1700000000000n), "0000018bcfe56800");
  const d = new Dictionary().addI64("i", -5n).addBool("t", true).addAddress("id", 0xcafe9efeb9);
  const r = Dictionary.parse(d.encode());
  assert.equal(r.getI64("i"), -5n);
  assert.equal(r.getBool("t"), true);
  assert.equal(r.getBool("nope", true), true);
  assert.equal(r.getString("id"), "cafe9efeb9");
});

Deno.test("dictionary: §12.6 netconf and the real configs re-encode byte-exactly", () => {
  assert.equal(NETCONF.length, 1467);
  const d = Dictionary.parse(NETCONF);
  assert.equal(d.getString("n"), "test=net");
  assert.equal(d.get("C")!.length, 272);
  assert.equal(d.get("DNS")!.length, 132);
  assert.equal(toHex(d.encode()), toHex(NETCONF));
  assert.ok(d.fits(1468));
  assert.equal(d.fits(1467), false);
  for (
    const f of [
      "a/networks.d/5b1c20a311309832.conf",
      "a/networks.d/5b1c20a311fca1ca.conf",
      "b/networks.d/5b1c20a311fca1ca.conf",
    ]
  ) {
    const b = fixtureBytes(`homes/${f}`);
    assert.equal(toHex(Dictionary.parse(b).encode()), toHex(b), f);
  }
});

Deno.test("dictionary: the per-network local.conf files parse (their trailing LF is not kept)", () => {
  for (const h of ["a", "b"]) {
    for (const n of ["5b1c20a311309832", "5b1c20a311fca1ca"]) {
      const b = fixtureBytes(`homes/${h}/networks.d/${n}.local.conf`);
      const d = Dictionary.parse(b);
      assert.deepEqual(d.entries.map((e) => e.key), [
        "allowManaged",
        "allowGlobal",
        "allowDefault",
        "allowDNS",
      ]);
      assert.equal(d.getBool("allowManaged"), true);
      assert.equal(d.getBool("allowGlobal", true), false);
      assert.equal(toHex(d.encode()) + "0a", toHex(b));
    }
  }
});
