// Tests the RENDEZVOUS payload codec.
import assert from "node:assert/strict";
import { Address } from "../../../src/vl1/address.ts";
import { InetAddress } from "../../../src/vl1/inet_address.ts";
import { decodeRendezvous, encodeRendezvous } from "../../../src/vl1/verbs/mod.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

Deno.test("RENDEZVOUS IPv4: flags | address | port | 4 | ip", () => {
  const bytes = fromHex("00" + "cafe9efeb9" + "2709" + "04" + "c6120003");
  const r = decodeRendezvous(bytes)!;
  assert.equal(r.flags, 0);
  assert.equal(r.peer.toString(), "cafe9efeb9");
  assert.equal(r.endpoint.toString(), "198.18.0.3/9993");
  assert.equal(
    toHex(encodeRendezvous({
      flags: 0,
      peer: new Address(0xcafe9efeb9),
      endpoint: InetAddress.parse("198.18.0.3/9993")!,
    })),
    toHex(bytes),
  );
  for (let n = 0; n < bytes.length; n++) assert.equal(decodeRendezvous(bytes, 0, n), undefined);
});

Deno.test("RENDEZVOUS IPv6 and invalid address lengths", () => {
  const v6 = InetAddress.parse("fd00::1/41234")!;
  const enc = encodeRendezvous({ flags: 0, peer: new Address(1), endpoint: v6 });
  assert.equal(enc.length, 1 + 5 + 2 + 1 + 16);
  assert.equal(enc[8], 16);
  assert.ok(decodeRendezvous(enc)!.endpoint.equals(v6));
  const bad = fromHex("00" + "cafe9efeb9" + "2709" + "05" + "c612000300");
  assert.equal(decodeRendezvous(bad), undefined);
});
