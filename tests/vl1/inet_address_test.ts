// Tests for InetAddress: binary/text forms, scopes, CIDR helpers and malformed input.
import assert from "node:assert/strict";
import { InetAddress, IpScope } from "../../src/vl1/inet_address.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";
import { fixtureText } from "../fixtures.ts";

Deno.test("binary IPv4 static IP from spec §5.1 (10.147.17.5/24)", () => {
  const r = InetAddress.deserialize(fromHex("040a9311050018"));
  assert.ok(r?.addr);
  assert.equal(r.length, 7);
  assert.equal(r.addr.toString(), "10.147.17.5/24");
  assert.equal(r.addr.netmaskBits, 24);
  assert.equal(toHex(r.addr.serialize()), "040a9311050018");
});

Deno.test("binary IPv6 round trip at an offset", () => {
  const a = InetAddress.parse("2605:9880:200:1200:30:571:e34:51/9993")!;
  const buf = new Uint8Array(25);
  assert.equal(a.serializeInto(buf, 3), 19);
  assert.equal(toHex(buf.subarray(3, 22)), "06260598800200120000300571" + "0e3400512709");
  const r = InetAddress.deserialize(buf, 3)!;
  assert.equal(r.length, 19);
  assert.ok(r.addr!.equals(a));
});

Deno.test("binary skipped types and malformed input", () => {
  assert.deepEqual(InetAddress.deserialize(fromHex("00")), { addr: undefined, length: 1 });
  assert.deepEqual(InetAddress.deserialize(fromHex("01aabbccddeeff")), {
    addr: undefined,
    length: 7,
  });
  assert.deepEqual(InetAddress.deserialize(fromHex("02aabbccddeeff99"), 0), {
    addr: undefined,
    length: 7,
  });
  assert.deepEqual(InetAddress.deserialize(fromHex("030002abcd")), { addr: undefined, length: 5 });
  assert.equal(InetAddress.deserialize(fromHex("030003abcd")), undefined); // other: truncated
  assert.equal(InetAddress.deserialize(fromHex("03ff")), undefined);
  assert.equal(InetAddress.deserialize(fromHex("01aabbccddee")), undefined);
  assert.equal(InetAddress.deserialize(fromHex("040a931105")), undefined); // truncated IPv4
  assert.equal(InetAddress.deserialize(fromHex("06" + "00".repeat(17))), undefined);
  for (const t of [0x05, 0x07, 0x41, 0xff]) {
    assert.equal(InetAddress.deserialize(new Uint8Array([t, 0, 0, 0, 0, 0, 0, 0, 0])), undefined);
  }
  assert.equal(InetAddress.deserialize(new Uint8Array(0)), undefined);
  assert.equal(InetAddress.deserialize(fromHex("00"), 1), undefined);
});

Deno.test("text parse / format", () => {
  const cases: [string, string][] = [
    ["1.2.3.4/9993", "1.2.3.4/9993"],
    ["198.18.0.1", "198.18.0.1/0"],
    ["fd00::1/88", "fd00::1/88"],
    ["FD00:0:0:0:0:0:0:1/88", "fd00::1/88"],
    ["fd8e:4df2:8b72:0:199:93ca:fe9e:feb9/88", "fd8e:4df2:8b72:0:199:93ca:fe9e:feb9/88"],
    ["fcfc:4df2:8aca:fe9e:feb9:0:0:1/40", "fcfc:4df2:8aca:fe9e:feb9::1/40"],
    ["2001:db8:0:0:1:0:0:1/1", "2001:db8::1:0:0:1/1"],
    ["1:0:0:2:0:0:0:3/5", "1:0:0:2::3/5"],
    ["::/0", "::/0"],
    ["::1/9993", "::1/9993"],
    ["fe80::/10", "fe80::/10"],
    ["::ffff:1.2.3.4/7", "::ffff:1.2.3.4/7"],
    ["::ffff:0102:0304/7", "::ffff:1.2.3.4/7"],
    ["2a02:6ea0:d405::9993/9993", "2a02:6ea0:d405::9993/9993"],
    ["1:2:3:4:5:6:7:8/65535", "1:2:3:4:5:6:7:8/65535"],
  ];
  for (const [input, out] of cases) {
    const a = InetAddress.parse(input);
    assert.ok(a, input);
    assert.equal(a.toString(), out, input);
    assert.ok(InetAddress.parse(out)!.equals(a), out);
  }
  assert.equal(InetAddress.parse("1.2.3.4/9993")!.family, 4);
  assert.equal(InetAddress.parse("::1")!.family, 6);
});

Deno.test("text parse rejects malformed input", () => {
  for (
    const bad of [
      "",
      "/",
      "1.2.3.4/",
      "1.2.3.4/65536",
      "1.2.3.4/-1",
      "1.2.3.4/99x",
      "1.2.3.4/1/2",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "a.b.c.d",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      ":::",
      "1:2:3:4:5:6:7::8",
      "12345::",
      "g::1",
      ":1::",
      "1::2:",
      "::ffff:1.2.3",
      "::1.2.3.4:5",
      "fe80::1%eth0",
      "hello",
    ]
  ) {
    assert.equal(InetAddress.parse(bad), undefined, bad);
  }
});

Deno.test("IPv6 addresses printed by the reference parse and print back identically", () => {
  const net = JSON.parse(fixtureText("api/a-network.json")) as { assignedAddresses: string[] }[];
  const seen: string[] = [];
  for (const n of net) {
    for (const s of n.assignedAddresses) {
      const a = InetAddress.parse(s);
      assert.ok(a, s);
      assert.equal(a.toString(), s);
      seen.push(s);
    }
  }
  assert.ok(seen.some((s) => s.includes("::")));
  for (
    const p of JSON.parse(fixtureText("api/a-peer.json")) as { paths: { address: string }[] }[]
  ) {
    for (const path of p.paths) {
      assert.equal(
        InetAddress.parse(path.address)!.toString(),
        path.address,
      );
    }
  }
});

Deno.test("IP scopes", () => {
  const cases: [string, IpScope][] = [
    ["0.1.2.3", IpScope.NONE],
    ["10.1.2.3", IpScope.PRIVATE],
    ["100.64.0.1", IpScope.PRIVATE],
    ["100.127.255.255", IpScope.PRIVATE],
    ["100.128.0.1", IpScope.GLOBAL],
    ["127.0.0.1", IpScope.LOOPBACK],
    ["169.254.1.1", IpScope.LINK_LOCAL],
    ["169.253.1.1", IpScope.GLOBAL],
    ["172.16.0.1", IpScope.PRIVATE],
    ["172.31.255.1", IpScope.PRIVATE],
    ["172.32.0.1", IpScope.GLOBAL],
    ["192.168.1.1", IpScope.PRIVATE],
    ["192.0.2.7", IpScope.PRIVATE],
    ["192.0.3.7", IpScope.GLOBAL],
    ["198.18.0.1", IpScope.PRIVATE],
    ["198.19.0.114", IpScope.PRIVATE],
    ["198.20.0.1", IpScope.GLOBAL],
    ["198.51.100.1", IpScope.PRIVATE],
    ["203.0.113.9", IpScope.PRIVATE],
    ["224.0.0.1", IpScope.MULTICAST],
    ["239.255.255.250", IpScope.MULTICAST],
    ["240.0.0.1", IpScope.PSEUDOPRIVATE],
    ["254.1.1.1", IpScope.PSEUDOPRIVATE],
    ["255.255.255.255", IpScope.NONE],
    ["6.1.1.1", IpScope.PSEUDOPRIVATE],
    ["11.1.1.1", IpScope.PSEUDOPRIVATE],
    ["56.1.1.1", IpScope.PSEUDOPRIVATE],
    ["57.1.1.1", IpScope.GLOBAL],
    ["104.194.8.134", IpScope.GLOBAL],
    ["8.8.8.8", IpScope.GLOBAL],
    ["ff02::1", IpScope.MULTICAST],
    ["fe80::1", IpScope.LOOPBACK],
    ["fe80::1234", IpScope.LINK_LOCAL],
    ["febf::1:0", IpScope.LINK_LOCAL],
    ["fec0::1", IpScope.GLOBAL],
    ["fd00::1", IpScope.PRIVATE],
    ["fc4a:e081:6998:bec7:1608::1", IpScope.PRIVATE],
    ["::1", IpScope.LOOPBACK],
    ["::ffff:127.0.0.1", IpScope.LOOPBACK],
    ["::ffff:10.0.0.1", IpScope.GLOBAL],
    ["::", IpScope.NONE],
    ["2605:9880:200:1200:30:571:e34:51", IpScope.GLOBAL],
  ];
  for (const [s, scope] of cases) assert.equal(InetAddress.parse(s)!.scope(), scope, s);
});

Deno.test("equality, keys, ordering", () => {
  const a = InetAddress.parse("1.2.3.4/9993")!;
  const b = InetAddress.parse("1.2.3.4/9994")!;
  const c = InetAddress.fromIpv4Number(0x01020304, 9993);
  assert.ok(a.equals(c));
  assert.equal(a.key(), c.key());
  assert.ok(!a.equals(b));
  assert.ok(a.ipEquals(b));
  assert.notEqual(a.key(), b.key());
  assert.equal(a.ipKey(), b.ipKey());
  const v6 = InetAddress.parse("::102:304/9993")!;
  assert.ok(!a.ipEquals(v6));
  assert.notEqual(a.key(), v6.key());
  assert.equal(a.ipv4Number(), 0x01020304);
  assert.equal(v6.ipv4Number(), undefined);
  const sorted = [v6, b, a].sort(InetAddress.compare).map(String);
  assert.deepEqual(sorted, ["1.2.3.4/9993", "1.2.3.4/9994", "::1.2.3.4/9993"]);
  assert.equal(InetAddress.fromIp("10.0.0.1", 5)!.toString(), "10.0.0.1/5");
  assert.equal(InetAddress.fromIp("10.0.0.1", 70000), undefined);
  assert.throws(() => new InetAddress(new Uint8Array(5), 1));
  assert.throws(() => new InetAddress(new Uint8Array(4), 65536));
});

Deno.test("netmask / network / containsAddress", () => {
  const route = InetAddress.parse("198.19.0.114/24")!;
  assert.equal(route.netmask().toString(), "255.255.255.0/0");
  assert.equal(route.network().toString(), "198.19.0.0/24");
  assert.ok(route.containsAddress(InetAddress.parse("198.19.0.5")!));
  assert.ok(!route.containsAddress(InetAddress.parse("198.19.1.5")!));
  assert.ok(!route.containsAddress(InetAddress.parse("::ffff:198.19.0.5")!));
  const odd = InetAddress.parse("10.128.0.0/9")!;
  assert.ok(odd.containsAddress(InetAddress.parse("10.255.1.1")!));
  assert.ok(!odd.containsAddress(InetAddress.parse("10.127.1.1")!));
  assert.equal(odd.netmask().toString(), "255.128.0.0/0");
  assert.ok(InetAddress.parse("0.0.0.0/0")!.containsAddress(InetAddress.parse("8.8.8.8")!));
  const six = InetAddress.parse("fc4a:e081:6900::/40")!;
  assert.ok(six.containsAddress(InetAddress.parse("fc4a:e081:6998:bec7:1608::1")!));
  assert.ok(!six.containsAddress(InetAddress.parse("fc4a:e081:6a98:bec7:1608::1")!));
  assert.equal(
    InetAddress.parse("fd5b:1c20:a311:fca1:ca99:9398:bec7:1608/88")!.network().toString(),
    "fd5b:1c20:a311:fca1:ca99:9300::/88",
  );
  const host = InetAddress.parse("1.2.3.4/32")!;
  assert.ok(host.containsAddress(InetAddress.parse("1.2.3.4/77")!));
  assert.ok(!host.containsAddress(InetAddress.parse("1.2.3.5")!));
  // Over-long mask bits clamp to the full address.
  assert.ok(InetAddress.parse("1.2.3.4/200")!.containsAddress(host));
});
