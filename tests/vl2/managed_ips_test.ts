// Tests for RFC4193 / 6PLANE address derivation (spec §5.5, §12.8) and the NetworkId type.
import assert from "node:assert/strict";
import { rfc4193Address, sixPlaneAddress, sixPlaneHash } from "../../src/vl2/managed_ips.ts";
import { NetworkId } from "../../src/vl2/network_id.ts";
import { toHex } from "../../src/util/hex.ts";
import { fixtureText } from "../fixtures.ts";

Deno.test("§12.8 RFC4193 and 6PLANE vectors", () => {
  const nwid = 0x8e4df28b72000001n;
  assert.equal(
    rfc4193Address(nwid, 0xcafe9efeb9).toString(),
    "fd8e:4df2:8b72:0:199:93ca:fe9e:feb9/88",
  );
  assert.equal(sixPlaneAddress(nwid, 0xcafe9efeb9).toString(), "fcfc:4df2:8aca:fe9e:feb9::1/40");
  assert.equal(sixPlaneHash(nwid), 0xfc4df28a);
});

Deno.test("managed addresses assigned by the reference (api/*-network.json)", () => {
  const nwid = BigInt("0x" + JSON.parse(fixtureText("networks.json")).lab_net);
  for (const h of ["a", "b"]) {
    const addr = parseInt(fixtureText(`identities/${h}.public`).trim().slice(0, 10), 16);
    const nets = JSON.parse(fixtureText(`api/${h}-network.json`)) as {
      nwid: string;
      assignedAddresses: string[];
    }[];
    const lab = nets.find((n) => BigInt("0x" + n.nwid) === nwid)!;
    assert.ok(lab.assignedAddresses.includes(rfc4193Address(nwid, addr).toString()), h);
    assert.ok(lab.assignedAddresses.includes(sixPlaneAddress(nwid, addr).toString()), h);
  }
});

Deno.test("NetworkId", () => {
  const id = NetworkId.parse("5B1C20A311fca1ca")!;
  assert.equal(id.toString(), "5b1c20a311fca1ca");
  assert.equal(id.value, 0x5b1c20a311fca1can);
  assert.equal(id.controllerAddress, 0x5b1c20a311);
  assert.equal(id.networkNumber, 0xfca1ca);
  assert.equal(toHex(id.toBytes()), "5b1c20a311fca1ca");
  assert.ok(NetworkId.fromBytes(new Uint8Array([0, ...id.toBytes()]), 1)!.equals(id));
  assert.equal(NetworkId.fromBytes(id.toBytes(), 1), undefined);
  assert.ok(NetworkId.fromParts(0x5b1c20a311, 0xfca1ca).equals(id));
  assert.equal(new NetworkId(1n).toString(), "0000000000000001");
  assert.ok(NetworkId.parse("ff00110022000000")!.isAdhoc());
  assert.ok(!id.isAdhoc());
  for (
    const bad of [
      "",
      "5b1c20a311fca1c",
      "5b1c20a311fca1ca0",
      "5b1c20a311fca1cg",
      "0x1c20a311fca1ca",
    ]
  ) {
    assert.equal(NetworkId.parse(bad), undefined, bad);
  }
  assert.throws(() => new NetworkId(-1n));
  assert.throws(() => new NetworkId(1n << 64n));
});
