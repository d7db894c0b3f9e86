// Tests for packet fragmentation and reassembly (spec §3.5).
import assert from "node:assert/strict";
import {
  evenPieceSize,
  FRAGMENT_HEADER_LENGTH,
  fragmentNumber,
  fragmentTotal,
  getFragmentHops,
  incrementFragmentHops,
  isFragment,
  pieceCount,
  Reassembler,
  RECEIVE_QUEUE_TIMEOUT,
  RX_QUEUE_SIZE,
  splitPacket,
  writeFragment,
} from "../../src/vl1/fragment.ts";
import { armor, dearmor } from "../../src/vl1/armor.ts";
import { PeerKeys } from "../../src/vl1/peer_keys.ts";
import {
  DEFAULT_PHYSMTU,
  FLAG_FRAGMENTED,
  IDX_FLAGS,
  setFragmented,
  setPacketId,
  Verb,
  writeHeader,
} from "../../src/vl1/packet.ts";
import { toHex } from "../../src/util/hex.ts";

const KEYS = new PeerKeys(new Uint8Array(48).map((_, i) => 0x40 + i));

/** A plaintext FRAME packet of `len` bytes with a distinctive payload and the given id. */
function makePacket(len: number, id = 0x0102030405060708n): Uint8Array {
  const p = new Uint8Array(len);
  writeHeader(p, new Uint8Array(8), 0x1122334455, 0x66778899aa, Verb.FRAME);
  setPacketId(p, id);
  for (let i = 28; i < len; i++) p[i] = (i * 7 + (i >> 8)) & 0xff;
  return p;
}

/** Builds an armored (cipher 3) packet of `len` bytes split at `mtu`. */
function armoredPieces(
  len: number,
  mtu: number,
  id?: bigint,
): { wire: Uint8Array; pieces: Uint8Array[] } {
  const p = makePacket(len, id);
  if (pieceCount(len, mtu) > 1) setFragmented(p, true);
  armor(p, len, KEYS, 3);
  const pieces = splitPacket(p, len, mtu);
  assert.ok(pieces);
  return { wire: p, pieces };
}

Deno.test("packet that fits the MTU is one datagram", () => {
  const p = makePacket(1432);
  armor(p, p.length, KEYS, 1);
  const pieces = splitPacket(p, p.length, DEFAULT_PHYSMTU)!;
  assert.equal(pieces.length, 1);
  assert.equal(pieces[0].length, 1432);
  assert.equal(pieceCount(1432, 1432), 1);
});

Deno.test("split layout: head [0,mtu), fragments of mtu-16 with 16-byte headers", () => {
  const { wire, pieces } = armoredPieces(3000, 1432);
  assert.equal(pieceCount(3000, 1432), 3);
  assert.equal(pieces.length, 3);
  assert.equal(pieces[0].length, 1432);
  assert.equal(toHex(pieces[0]), toHex(wire, 0, 1432));
  assert.equal(pieces[1].length, 1432);
  assert.equal(pieces[2].length, 16 + (3000 - 1432 - 1416));
  for (let no = 1; no < 3; no++) {
    const f = pieces[no];
    assert.equal(toHex(f, 0, 8), toHex(wire, 0, 8), "wire packet id (post-armor)");
    assert.equal(toHex(f, 8, 13), "1122334455");
    assert.equal(f[13], 0xff);
    assert.equal(f[14], 0x30 | no);
    assert.equal(fragmentTotal(f), 3);
    assert.equal(fragmentNumber(f), no);
    assert.equal(f[15], 0);
    assert.equal(isFragment(f), true);
  }
  assert.equal(toHex(pieces[1], 16), toHex(wire, 1432, 1432 + 1416));
  assert.equal(toHex(pieces[2], 16), toHex(wire, 2848, 3000));
  assert.equal(isFragment(pieces[0]), false, "head's byte 13 is a source address byte");
});

Deno.test("split refuses: missing FRAGMENTED flag, more than 7 pieces, tiny MTU", () => {
  const p = makePacket(3000);
  armor(p, p.length, KEYS, 1);
  assert.equal(splitPacket(p, p.length, 1432), undefined, "flag not set");
  // 10024 bytes at mtu 1432 needs 8 pieces: receivers accept at most 7.
  assert.equal(pieceCount(10024, 1432), 8);
  const big = makePacket(10024);
  setFragmented(big, true);
  armor(big, big.length, KEYS, 3);
  assert.equal(splitPacket(big, big.length, 1432), undefined);
  assert.equal(pieceCount(1432 + 6 * 1416, 1432), 7);
  assert.equal(splitPacket(big, 27, 1432), undefined);
  assert.equal(splitPacket(big, 100, 20), undefined);
});

Deno.test("largest deliverable packet at the default MTU: 9928 bytes in 7 pieces", () => {
  const { wire, pieces } = armoredPieces(9928, 1432);
  assert.equal(pieces.length, 7);
  const r = new Reassembler();
  let out: Uint8Array | undefined;
  for (const [i, d] of pieces.entries()) {
    out = i === 0 ? r.addHead(0, d) : r.addFragment(0, d);
    if (i < 6) assert.equal(out, undefined);
  }
  assert.ok(out);
  assert.equal(toHex(out), toHex(wire));
  assert.equal(dearmor(out, out.length, KEYS), true);
  assert.equal(toHex(out, 28), toHex(makePacket(9928), 28));
});

Deno.test("reassembly in order, then dearmor (FRAGMENTED flag authenticated)", () => {
  const { wire, pieces } = armoredPieces(5000, 1432);
  const r = new Reassembler();
  assert.equal(r.addHead(100, pieces[0]), undefined);
  assert.equal(r.pending(100), 1);
  assert.equal(r.addFragment(100, pieces[1]), undefined);
  assert.equal(r.addFragment(100, pieces[2]), undefined);
  const out = r.addFragment(101, pieces[3])!;
  assert.equal(toHex(out), toHex(wire));
  assert.equal(r.pending(101), 0);
  assert.equal(dearmor(out, out.length, KEYS), true);
});

Deno.test("reassembly out of order (fragments before head, reversed)", () => {
  const { wire, pieces } = armoredPieces(5000, 1432);
  const r = new Reassembler();
  assert.equal(r.addFragment(0, pieces[3]), undefined);
  assert.equal(r.addFragment(0, pieces[1]), undefined);
  assert.equal(r.addFragment(0, pieces[2]), undefined);
  const out = r.addHead(0, pieces[0])!;
  assert.equal(toHex(out), toHex(wire));
});

Deno.test("duplicates are ignored and never complete a packet twice", () => {
  const { wire, pieces } = armoredPieces(3000, 1432);
  const r = new Reassembler();
  assert.equal(r.addFragment(0, pieces[1]), undefined);
  assert.equal(r.addFragment(0, pieces[1]), undefined);
  const tampered = pieces[1].slice();
  tampered[100] ^= 1;
  assert.equal(r.addFragment(0, tampered), undefined, "a later duplicate does not replace");
  assert.equal(r.addHead(0, pieces[0]), undefined);
  assert.equal(r.addHead(0, pieces[0]), undefined);
  const out = r.addFragment(0, pieces[2])!;
  assert.equal(toHex(out), toHex(wire), "first copy of fragment 1 kept");
  // After completion a replayed piece starts a fresh, incomplete entry.
  assert.equal(r.addFragment(0, pieces[2]), undefined);
});

Deno.test("pieces are copied: reusing the receive buffer does not corrupt reassembly", () => {
  const { wire, pieces } = armoredPieces(3000, 1432);
  const r = new Reassembler();
  const rx = new Uint8Array(2000);
  rx.set(pieces[1]);
  r.addFragment(0, rx, pieces[1].length);
  rx.fill(0);
  rx.set(pieces[0]);
  r.addHead(0, rx, pieces[0].length);
  rx.fill(0xaa);
  rx.set(pieces[2]);
  const out = r.addFragment(0, rx, pieces[2].length)!;
  assert.equal(toHex(out), toHex(wire));
});

Deno.test("entries time out after 5 s", () => {
  assert.equal(RECEIVE_QUEUE_TIMEOUT, 5000);
  const { wire, pieces } = armoredPieces(3000, 1432);
  const r = new Reassembler();
  r.addHead(1000, pieces[0]);
  r.addFragment(2000, pieces[1]);
  // The slot's age counts from its first piece: 1000 + 5000 is still fresh.
  const stillFresh = new Reassembler();
  stillFresh.addHead(1000, pieces[0]);
  stillFresh.addFragment(1000, pieces[1]);
  assert.equal(toHex(stillFresh.addFragment(6000, pieces[2])!), toHex(wire));
  // 5001 ms later the old pieces are gone; the last fragment starts a new entry.
  assert.equal(r.addFragment(6001, pieces[2]), undefined);
  assert.equal(r.pending(6001), 1);
  assert.equal(r.addFragment(6001, pieces[1]), undefined);
  const out = r.addHead(6002, pieces[0])!;
  assert.equal(toHex(out), toHex(wire));
  assert.equal(r.pending(12000), 0);
});

Deno.test("fragment count limits: total <= 7, number 1..6 and < total, total > 1", () => {
  const { pieces } = armoredPieces(3000, 1432);
  const r = new Reassembler();
  const variant = (total: number, no: number) => {
    const f = pieces[1].slice();
    f[14] = (total << 4) | no;
    return f;
  };
  for (
    const [total, no] of [[8, 1], [15, 3], [1, 0], [1, 1], [3, 0], [3, 3], [7, 7], [8, 7], [2, 9]]
  ) {
    assert.equal(r.addFragment(0, variant(total, no)), undefined);
  }
  assert.equal(r.pending(0), 0, "rejected fragments claim no slot");
  // A fragment whose total disagrees with an earlier fragment of the same packet is ignored.
  r.addFragment(0, variant(3, 1));
  assert.equal(r.addFragment(0, variant(4, 2)), undefined);
  assert.equal(r.pending(0), 1);
  // Too short to be a fragment / not a fragment.
  assert.equal(isFragment(pieces[1], 16), false);
  assert.equal(r.addFragment(0, pieces[1].subarray(0, 16)), undefined);
  assert.equal(r.addFragment(0, pieces[0]), undefined, "a head is not a fragment");
});

Deno.test("heads without the FRAGMENTED flag or shorter than 28 bytes are refused", () => {
  const r = new Reassembler();
  const p = makePacket(100);
  assert.equal(r.addHead(0, p), undefined);
  setFragmented(p, true);
  assert.equal(r.addHead(0, p, 27), undefined);
  assert.equal(r.addHead(0, p, 101), undefined);
  assert.equal(r.pending(0), 0);
  assert.equal(r.addHead(0, p), undefined);
  assert.equal(r.pending(0), 1);
});

Deno.test("ring of 32: the 33rd new packet evicts the oldest entry", () => {
  assert.equal(RX_QUEUE_SIZE, 32);
  const r = new Reassembler();
  const packets = [];
  for (let i = 0; i < 33; i++) packets.push(armoredPieces(2000, 1432, 0x1000n + BigInt(i)));
  for (const { pieces } of packets) r.addHead(0, pieces[0]);
  assert.equal(r.pending(0), 32);
  // Packet 0's head was evicted by packet 32; its fragment alone cannot complete it...
  assert.equal(r.addFragment(0, packets[0].pieces[1]), undefined);
  // ...and claiming a slot for it evicted packet 1's head in turn.
  assert.equal(r.addFragment(0, packets[1].pieces[1]), undefined);
  // Packets 3..32 are still complete-able.
  for (let i = 3; i < 33; i++) {
    const out = r.addFragment(0, packets[i].pieces[1]);
    assert.equal(toHex(out!), toHex(packets[i].wire), `packet ${i}`);
  }
  // Re-sending packet 0's head completes it (its fragment is in a live slot).
  assert.equal(toHex(r.addHead(0, packets[0].pieces[0])!), toHex(packets[0].wire));
});

Deno.test("fragment hops: relays increment byte 15; reassembly ignores it", () => {
  const { wire, pieces } = armoredPieces(3000, 1432);
  const f = pieces[1].slice();
  assert.equal(getFragmentHops(f), 0);
  assert.equal(incrementFragmentHops(f), 1);
  assert.equal(f[15], 1);
  const r = new Reassembler();
  r.addHead(0, pieces[0]);
  r.addFragment(0, f);
  assert.equal(toHex(r.addFragment(0, pieces[2])!), toHex(wire));
});

Deno.test("custom MTU: pieces never exceed it and reassemble", () => {
  for (const mtu of [1400, 2800, 10324]) {
    const len = Math.min(9000, mtu * 3);
    const { wire, pieces } = armoredPieces(len, mtu);
    assert.equal(pieces.length, pieceCount(len, mtu));
    for (const d of pieces) assert.ok(d.length <= mtu);
    assert.equal(FRAGMENT_HEADER_LENGTH, 16);
    const r = new Reassembler();
    let out: Uint8Array | undefined;
    for (let i = pieces.length - 1; i >= 0; i--) {
      out = i === 0 ? r.addHead(0, pieces[0]) : r.addFragment(0, pieces[i]);
    }
    if (pieces.length === 1) out = pieces[0];
    assert.equal(toHex(out!), toHex(wire));
  }
});

Deno.test("fragment: writeFragment matches splitPacket; reuseOutput reassembles into one buffer", () => {
  const len = 3000, mtu = 1432;
  const pkt = new Uint8Array(len);
  for (let i = 0; i < len; i++) pkt[i] = (i * 31 + 7) & 0xff;
  pkt[IDX_FLAGS] |= FLAG_FRAGMENTED;
  const pieces = splitPacket(pkt, len, mtu)!;
  assert.equal(pieces.length, 3);
  const out = new Uint8Array(2000);
  for (let no = 1; no < pieces.length; no++) {
    const n = writeFragment(pkt, len, mtu, no, out);
    assert.deepEqual(out.subarray(0, n), pieces[no], `fragment ${no}`);
  }
  assert.equal(writeFragment(pkt, len, mtu, 3, out), 0, "out of range");
  assert.equal(writeFragment(pkt, len, mtu, 1, new Uint8Array(100)), 0, "too small");
  for (const reuseOutput of [false, true]) {
    const r = new Reassembler({ reuseOutput });
    assert.equal(r.addFragment(0, pieces[2]), undefined);
    assert.equal(r.addFragment(0, pieces[1]), undefined);
    const whole = r.addHead(0, pieces[0])!;
    assert.deepEqual(whole, pkt);
    const pkt2 = pkt.slice();
    pkt2[0] ^= 1; // another packet ID
    const p2 = splitPacket(pkt2, len, mtu)!;
    r.addHead(1, p2[0]);
    r.addFragment(1, p2[1]);
    const whole2 = r.addFragment(1, p2[2])!;
    assert.deepEqual(whole2, pkt2);
    assert.equal(whole.buffer === whole2.buffer, reuseOutput, "one output buffer iff reuseOutput");
  }
});

Deno.test("fragment: evenPieceSize keeps the piece count, makes datagrams equal, reassembles", () => {
  let checked = 0;
  for (const mtu of [1432, 1400, 576]) {
    for (let len = 28; len <= Math.min(10000, mtu + 6 * (mtu - 16)); len += 37) {
      const pieces = pieceCount(len, mtu);
      const piece = evenPieceSize(len, mtu);
      assert.ok(piece <= mtu, `len ${len} mtu ${mtu}`);
      if (pieces === 1) {
        assert.equal(piece, mtu);
        continue;
      }
      assert.equal(pieceCount(len, piece), pieces, `same count, len ${len} mtu ${mtu}`);
      const { wire, pieces: dgrams } = armoredPieces(len, piece, BigInt(len));
      assert.equal(dgrams.length, pieces);
      // every datagram but the last has the same size; the last is at most pieces-1 shorter
      for (let i = 1; i < dgrams.length - 1; i++) assert.equal(dgrams[i].length, dgrams[0].length);
      const last = dgrams[dgrams.length - 1].length;
      assert.ok(last <= dgrams[0].length && dgrams[0].length - last < pieces, `len ${len}`);
      const r = new Reassembler();
      let out: Uint8Array | undefined;
      for (let i = dgrams.length - 1; i >= 0; i--) {
        out = i === 0 ? r.addHead(0, dgrams[0]) : r.addFragment(0, dgrams[i]);
      }
      assert.equal(toHex(out!), toHex(wire));
      checked++;
    }
  }
  assert.ok(checked > 200);
  // a FRAME carrying a 2800-byte Ethernet payload (2838 bytes) splits 1427 + 1427
  const p = makePacket(2838);
  setFragmented(p, true);
  const even = splitPacket(p, 2838, evenPieceSize(2838, 1432))!;
  assert.deepEqual(even.map((d) => d.length), [1427, 1427]);
  assert.equal(evenPieceSize(1000, 1432), 1432, "fits: unchanged");
  assert.equal(evenPieceSize(20000, 1432), 1432, "too many pieces: unchanged");
});

Deno.test("reuseOutput: the same packets as fresh arrays, in any order, with no new array per packet", () => {
  const fresh = new Reassembler();
  const reuse = new Reassembler({ reuseOutput: true });
  let buffer: ArrayBufferLike | undefined;
  const orders: number[][] = [[0, 1], [1, 0], [0, 1, 2, 3], [3, 1, 2, 0], [2, 0, 3, 1]];
  for (let round = 0; round < 80; round++) {
    const len = [2000, 5000, 9928, 1500][round % 4];
    const { wire, pieces } = armoredPieces(len, 1432, BigInt(round + 1) * 0x1_0000_0001n);
    const order = pieces.length === 7
      ? (round % 8 < 4 ? [0, 1, 2, 3, 4, 5, 6] : [6, 5, 4, 3, 2, 1, 0])
      : orders.find((o) => o.length === pieces.length && (round % 3 === 0 || o[0] !== 0)) ??
        pieces.map((_, i) => i);
    let a: Uint8Array | undefined;
    let b: Uint8Array | undefined;
    for (const i of order) {
      // the datagram as a view into a larger receive buffer, as the UDP layer hands it over
      const rx = new Uint8Array(pieces[i].length + 64);
      rx.set(pieces[i], 32);
      const d = rx.subarray(32, 32 + pieces[i].length);
      a = i === 0 ? fresh.addHead(round, pieces[i]) : fresh.addFragment(round, pieces[i]);
      b = i === 0 ? reuse.addHead(round, d) : reuse.addFragment(round, d);
      rx.fill(0xee); // the caller reuses its buffer at once
    }
    assert.ok(a && b, `round ${round}`);
    assert.equal(toHex(b), toHex(wire), `round ${round}`);
    assert.equal(toHex(b), toHex(a));
    assert.equal(dearmor(b, b.length, KEYS), true, "modifiable in place");
    buffer ??= b.buffer;
    assert.equal(b.buffer, buffer, "a view into the reassembler's one buffer");
  }
  // a head shorter than its array (len argument) still reassembles
  const { wire, pieces } = armoredPieces(3000, 1432, 0xabcdefn);
  const padded = new Uint8Array(pieces[0].length + 10);
  padded.set(pieces[0]);
  assert.equal(reuse.addHead(1, padded, pieces[0].length), undefined);
  let out: Uint8Array | undefined;
  for (let i = 1; i < pieces.length; i++) out = reuse.addFragment(1, pieces[i]);
  assert.equal(toHex(out!), toHex(wire));
});
