// Tests of the node's boundary types (src/vl1/node_host.ts): the upper layer's packet info.
import assert from "node:assert/strict";
import { UpperPacketInfo } from "../../src/vl1/node_host.ts";
import { getPacketId } from "../../src/vl1/packet.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";

Deno.test("UpperPacketInfo: packet ID as on the wire, kept after the packet buffer is reused", () => {
  const remote = InetAddress.fromIp("198.18.0.11", 9993)!;
  const pkt = new Uint8Array(40);
  const ids = [
    [0xff, 0xfe, 0xfd, 0xfc, 0x80, 0x01, 0x02, 0x03],
    [0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
    [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0],
  ];
  const infos = ids.map((b, i) => {
    pkt.set(b);
    return new UpperPacketInfo(i, pkt, remote, 2);
  });
  pkt.fill(0xaa); // reused for the next packet
  for (let i = 0; i < ids.length; i++) {
    assert.equal(infos[i].packetId, getPacketId(Uint8Array.from(ids[i])));
    assert.equal(infos[i].hops, i);
    assert.equal(infos[i].remote, remote);
    assert.equal(infos[i].localSocket, 2);
  }
  assert.equal(infos[0].packetId, 0xfffefdfc80010203n);
});
