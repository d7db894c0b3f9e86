// Sim endpoint text form `ip/port` and its parser.
import assert from "node:assert/strict";
import { addrKey, isIpv4, isIpv6, parseAddr, sameAddr, simAddr } from "../../src/sim/address.ts";

Deno.test("addrKey and parseAddr round-trip IPv4 and IPv6", () => {
  assert.equal(addrKey(simAddr("198.18.0.1", 9993)), "198.18.0.1/9993");
  assert.deepEqual(parseAddr("198.18.0.1/9993"), { ip: "198.18.0.1", port: 9993 });
  assert.deepEqual(parseAddr("fd00::1/88"), { ip: "fd00::1", port: 88 });
  assert.deepEqual(parseAddr("::ffff:10.0.0.1/0"), { ip: "::ffff:10.0.0.1", port: 0 });
  for (const t of ["10.1.2.3/1", "2001:db8:0:0:0:0:0:1/65535"]) {
    assert.equal(addrKey(parseAddr(t)!), t);
  }
});

Deno.test("parseAddr rejects malformed text", () => {
  for (
    const t of [
      "",
      "/9993",
      "1.2.3.4",
      "1.2.3.4/",
      "1.2.3.4/65536",
      "1.2.3.4/-1",
      "1.2.3.4/9x",
      "1.2.3/9",
      "1.2.3.256/9",
      "01.2.3.4/9",
      "hello/9",
      "1::2::3/9",
      "12345::/9",
      "1:2:3:4:5:6:7:8:9/9",
    ]
  ) assert.equal(parseAddr(t), undefined, t);
});

Deno.test("ip classifiers and sameAddr", () => {
  assert.ok(isIpv4("0.0.0.0") && isIpv4("255.255.255.255") && !isIpv4("1.2.3.4.5"));
  assert.ok(
    isIpv6("::") && isIpv6("fe80::1") && isIpv6("1:2:3:4:5:6:7:8") && !isIpv6("1:2:3:4:5:6:7"),
  );
  assert.ok(sameAddr(simAddr("1.2.3.4", 5), { ip: "1.2.3.4", port: 5 }));
  assert.ok(!sameAddr(simAddr("1.2.3.4", 5), simAddr("1.2.3.4", 6)));
});
