// Dearmors every datagram of the real 1.14.1 capture (fragments reassembled, LZ4 undone) with the lab identities.
import assert from "node:assert/strict";
import { fixtureText } from "../fixtures.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { PeerKeys } from "../../src/vl1/peer_keys.ts";
import { dearmor } from "../../src/vl1/armor.ts";
import { uncompressPacket } from "../../src/vl1/compression.ts";
import { isFragment, Reassembler } from "../../src/vl1/fragment.ts";
import {
  getCipher,
  getDest,
  getHops,
  getSource,
  getVerb,
  isCompressed,
  isFragmented,
  MIN_PACKET_LENGTH,
  verbName,
} from "../../src/vl1/packet.ts";
import { parseHex } from "../../src/util/hex.ts";

interface Datagram {
  t: number;
  src: string;
  dst: string;
  hex: string;
}

const NODES = ["r", "c", "a", "b"];

function loadIdentities(): Map<number, Identity> {
  const m = new Map<number, Identity>();
  for (const h of NODES) {
    const id = Identity.fromString(fixtureText(`identities/${h}.secret`));
    assert.ok(id, `identity ${h}`);
    m.set(id.address.value, id);
  }
  return m;
}

function loadCapture(): Datagram[] {
  return fixtureText("captures/session.jsonl").split("\n").filter((l) => l.trim() !== "").map((l) =>
    JSON.parse(l) as Datagram
  );
}

/** A whole (possibly reassembled) packet from the capture, before dearmoring. */
interface WirePacket {
  bytes: Uint8Array;
  datagrams: number;
}

Deno.test("capture: every ZeroTier datagram authenticates, fragments reassemble, LZ4 inflates", () => {
  const ids = loadIdentities();
  const keyCache = new Map<string, PeerKeys | undefined>();
  const keysFor = (src: number, dst: number): PeerKeys | undefined => {
    const k = `${src}>${dst}`;
    if (!keyCache.has(k)) {
      const a = ids.get(src), b = ids.get(dst);
      const key = a && b ? a.agree(b) : undefined;
      keyCache.set(k, key ? new PeerKeys(key) : undefined);
    }
    return keyCache.get(k);
  };

  const capture = loadCapture();
  assert.equal(capture.length, 275);

  // Each receiving host reassembles its own fragments, as a node would.
  const reassemblers = new Map<string, Reassembler>();
  const packets: WirePacket[] = [];
  const piecesSeen = new Map<string, number>();
  let junk = 0, fragmentedPackets = 0, pieces = 0;
  for (const d of capture) {
    const b = parseHex(d.hex);
    assert.ok(b);
    if (b.length < MIN_PACKET_LENGTH && !isFragment(b)) {
      assert.equal(b.length, 4, "only the 4-byte NAT probes are not ZeroTier datagrams");
      junk++;
      continue;
    }
    const now = Math.round(d.t * 1000);
    let r = reassemblers.get(d.dst);
    if (!r) reassemblers.set(d.dst, r = new Reassembler());
    if (isFragment(b) || isFragmented(b)) {
      pieces++;
      const pieceKey = `${d.dst} ${d.hex.slice(0, 16)}`;
      piecesSeen.set(pieceKey, (piecesSeen.get(pieceKey) ?? 0) + 1);
      if (!isFragment(b)) fragmentedPackets++;
      const whole = isFragment(b) ? r.addFragment(now, b) : r.addHead(now, b);
      if (whole) packets.push({ bytes: whole, datagrams: piecesSeen.get(pieceKey)! });
    } else {
      packets.push({ bytes: b, datagrams: 1 });
    }
  }
  assert.equal(junk, 3);
  assert.equal(fragmentedPackets, 8);

  let authenticated = 0, reassembled = 0, relayed = 0, compressed = 0;
  const ciphers = new Set<number>();
  const verbs = new Set<string>();
  for (const p of packets) {
    if (isFragmented(p.bytes)) reassembled++;
    const b = p.bytes;
    const keys = keysFor(getSource(b), getDest(b));
    assert.ok(keys, `known pair ${getSource(b).toString(16)} -> ${getDest(b).toString(16)}`);
    const pristine = b.slice();

    // Flipping a bit anywhere but in the hop count breaks authentication.
    const positions = [
      0,
      7,
      8,
      12,
      13,
      17,
      19,
      26,
      27,
      b.length - 1,
      28 + ((b.length * 7919) % (b.length - 28 || 1)),
    ];
    for (const pos of positions) {
      if (pos >= b.length) continue;
      for (const bit of pos === 18 ? [3, 4, 5, 6, 7] : [pos % 8]) {
        const t = pristine.slice();
        t[pos] ^= 1 << bit;
        assert.equal(dearmor(t, t.length, keys), false, `tampered byte ${pos} bit ${bit}`);
      }
    }
    {
      const t = pristine.slice();
      t[18] ^= 0x07; // hop bits are not authenticated
      assert.equal(dearmor(t, t.length, keys), true, "hop bits masked");
    }

    assert.equal(dearmor(b, b.length, keys), true, "authenticates");
    authenticated += p.datagrams;
    ciphers.add(getCipher(b));
    if (getHops(b) > 0) relayed++;
    if (isCompressed(b)) compressed++;
    const u = uncompressPacket(b, b.length);
    assert.ok(u, "payload decompresses");
    verbs.add(verbName(getVerb(u)));
  }
  assert.equal(reassembled, 8);
  assert.equal(pieces, 16, "8 heads + 8 fragments");
  assert.equal(authenticated, 272);
  assert.deepEqual([...ciphers].sort(), [0, 1, 3]);
  assert.ok(relayed > 0, "relayed copies (hops 1) authenticate");
  assert.ok(compressed > 0, "some payloads are LZ4-compressed");
  assert.deepEqual(
    [...verbs].sort(),
    [
      "ECHO",
      "ERROR",
      "FRAME",
      "HELLO",
      "MULTICAST_FRAME",
      "MULTICAST_GATHER",
      "MULTICAST_LIKE",
      "NETWORK_CONFIG",
      "NETWORK_CONFIG_REQUEST",
      "NETWORK_CREDENTIALS",
      "OK",
      "PUSH_DIRECT_PATHS",
      "RENDEZVOUS",
      "WHOIS",
    ],
  );
});
