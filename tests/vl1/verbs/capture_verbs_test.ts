// Decodes (and re-encodes) every verb payload in the real 1.14.1 capture with the verb codecs.
import assert from "node:assert/strict";
import { fixtureBytes, fixtureText } from "../../fixtures.ts";
import { dearmor, helloCryptField } from "../../../src/vl1/armor.ts";
import { uncompressPacket } from "../../../src/vl1/compression.ts";
import { isFragment, Reassembler } from "../../../src/vl1/fragment.ts";
import { Identity } from "../../../src/vl1/identity.ts";
import {
  getDest,
  getSource,
  getVerb,
  IDX_PAYLOAD,
  isFragmented,
  MIN_PACKET_LENGTH,
  Verb,
  verbName,
} from "../../../src/vl1/packet.ts";
import { PeerKeys } from "../../../src/vl1/peer_keys.ts";
import * as V from "../../../src/vl1/verbs/mod.ts";
import { parseHex, toHex } from "../../../src/util/hex.ts";

interface Datagram {
  t: number;
  src: string;
  dst: string;
  hex: string;
}

/** Every dearmored, decompressed packet of the capture (fragments reassembled). */
function capturePackets(): { pkt: Uint8Array; keys: PeerKeys; ids: Map<number, Identity> }[] {
  const ids = new Map<number, Identity>();
  for (const h of ["r", "c", "a", "b"]) {
    const id = Identity.fromString(fixtureText(`identities/${h}.secret`))!;
    ids.set(id.address.value, id);
  }
  const rs = new Map<string, Reassembler>();
  const out: { pkt: Uint8Array; keys: PeerKeys; ids: Map<number, Identity> }[] = [];
  const lines = fixtureText("captures/session.jsonl").split("\n").filter((l) => l.trim());
  for (const line of lines) {
    const d = JSON.parse(line) as Datagram;
    let b = parseHex(d.hex)!;
    if (b.length < MIN_PACKET_LENGTH && !isFragment(b)) continue; // NAT probes
    let r = rs.get(d.dst);
    if (!r) rs.set(d.dst, r = new Reassembler());
    if (isFragment(b) || isFragmented(b)) {
      const now = Math.round(d.t * 1000);
      const whole = isFragment(b) ? r.addFragment(now, b) : r.addHead(now, b);
      if (!whole) continue;
      b = whole;
    }
    const keys = new PeerKeys(ids.get(getSource(b))!.agree(ids.get(getDest(b))!)!);
    assert.ok(dearmor(b, b.length, keys));
    const u = uncompressPacket(b, b.length)!;
    out.push({ pkt: u.slice(), keys, ids });
  }
  return out;
}

/** Lab host names by address (see the fixture README). */
const HOSTS: Record<string, string> = {
  "8fc24dde94": "r",
  "5b1c20a311": "c",
  "98bec71608": "a",
  "beccf08a89": "b",
};

const same = (a: Uint8Array, b: Uint8Array, what: string) => assert.equal(toHex(a), toHex(b), what);

Deno.test("capture: every verb payload decodes, and re-encodes byte-identically", () => {
  const seen = new Map<string, number>();
  const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
  // config chunks per (receiver, update id) to rebuild the dictionaries
  const chunks = new Map<string, { total: number; parts: Map<number, Uint8Array> }>();
  const packets = capturePackets();
  assert.ok(packets.length > 200);

  for (const { pkt, keys, ids } of packets) {
    const verb = getVerb(pkt);
    const p = pkt.subarray(IDX_PAYLOAD);
    const what = `${verbName(verb)} from ${getSource(pkt).toString(16)}`;
    count(verbName(verb));
    switch (verb) {
      case Verb.HELLO: {
        const off = V.helloCryptFieldStart(pkt, IDX_PAYLOAD);
        assert.ok(off !== undefined, what);
        helloCryptField(pkt, off, pkt.length, keys);
        const h = V.decodeHello(pkt, IDX_PAYLOAD);
        assert.ok(h, what);
        assert.equal(h.identity.address.value, getSource(pkt));
        assert.equal(h.protocolVersion, 12);
        assert.equal(h.planetWorldId, 149604618n);
        const enc = V.encodeHello(h);
        same(enc.payload, p, what);
        assert.equal(enc.cryptFieldStart + IDX_PAYLOAD, off);
        break;
      }
      case Verb.OK: {
        const ok = V.decodeOk(p)!;
        assert.ok(ok, what);
        const sub = `OK(${verbName(ok.inReVerb)})`;
        count(sub);
        switch (ok.inReVerb) {
          case Verb.HELLO:
            same(V.encodeOkHello(V.decodeOkHello(p)!), p, sub);
            break;
          case Verb.WHOIS: {
            const o = V.decodeOkWhois(p)!;
            assert.ok(o.identities.length >= 1);
            same(V.encodeOkWhois(o), p, sub);
            break;
          }
          case Verb.NETWORK_CONFIG_REQUEST: {
            const o = V.decodeOkNetworkConfigRequest(p)!;
            assert.ok(o, sub);
            collectChunk(p, o.chunk, ids, getDest(pkt), chunks);
            break;
          }
          case Verb.MULTICAST_GATHER: {
            const o = V.decodeOkMulticastGather(p)!;
            assert.ok(o, sub);
            same(V.encodeOkMulticastGather(o), p, sub);
            break;
          }
          case Verb.MULTICAST_FRAME: {
            const o = V.decodeOkMulticastFrame(p)!;
            assert.ok(o, sub);
            same(V.encodeOkMulticastFrame(o), p, sub);
            break;
          }
          case Verb.ECHO: {
            if (p.length === 9 + 16) {
              const o = V.decodeOkNetworkConfig(p)!;
              same(V.encodeOkNetworkConfig(o), p, sub);
              count("OK(NETWORK_CONFIG)");
            } else {
              same(V.encodeOkEcho(V.decodeOkEcho(p)!), p, sub);
            }
            break;
          }
          default:
            assert.fail(`unexpected ${sub}`);
        }
        break;
      }
      case Verb.ERROR: {
        const e = V.decodeError(p)!;
        assert.ok(e, what);
        count(`ERROR(${e.code})`);
        same(V.encodeError(e), p, what);
        break;
      }
      case Verb.WHOIS:
        same(V.encodeWhois(V.decodeWhois(p)!), p, what);
        break;
      case Verb.RENDEZVOUS:
        same(V.encodeRendezvous(V.decodeRendezvous(p)!), p, what);
        break;
      case Verb.FRAME: {
        const f = V.decodeFrame(pkt, IDX_PAYLOAD)!;
        assert.ok(f, what);
        assert.equal(f.payloadEnd, pkt.length);
        const payload = pkt.subarray(f.payloadStart, f.payloadEnd);
        same(V.encodeFrame({ ...f, payload }), p, what);
        break;
      }
      case Verb.ECHO:
        same(V.encodeEcho(V.decodeEcho(p)!), p, what);
        break;
      case Verb.MULTICAST_LIKE: {
        const l = V.decodeMulticastLike(p)!;
        assert.ok(l.groups.length > 0, what);
        same(V.encodeMulticastLike(l), p, what);
        break;
      }
      case Verb.NETWORK_CREDENTIALS: {
        const c = V.decodeNetworkCredentials(p)!;
        assert.ok(c, what);
        assert.ok(c.coms.length + c.revocations.length > 0, what);
        same(V.encodeNetworkCredentials(c), p, what);
        break;
      }
      case Verb.NETWORK_CONFIG_REQUEST: {
        const q = V.decodeNetworkConfigRequest(p)!;
        assert.ok(q, what);
        assert.match(new TextDecoder().decode(q.metadata), /(^|\n)v=0000000000000007(\n|$)/);
        assert.equal(q.networkId >> 24n, BigInt(getDest(pkt)));
        same(V.encodeNetworkConfigRequest(q), p, what);
        break;
      }
      case Verb.NETWORK_CONFIG: {
        const c = V.decodeConfigChunk(p)!;
        assert.ok(c, what);
        collectChunk(p, c, ids, getDest(pkt), chunks);
        break;
      }
      case Verb.MULTICAST_GATHER: {
        const g = V.decodeMulticastGather(p)!;
        assert.ok(g, what);
        same(V.encodeMulticastGather(g), p, what);
        break;
      }
      case Verb.MULTICAST_FRAME: {
        const f = V.decodeMulticastFrame(p)!;
        assert.ok(f, what);
        const payload = p.subarray(f.payloadStart, f.payloadEnd);
        assert.ok(payload.length > 0);
        same(V.encodeMulticastFrame({ ...f, payload }), p, what);
        break;
      }
      case Verb.PUSH_DIRECT_PATHS: {
        const d = V.decodePushDirectPaths(p)!;
        assert.ok(d && d.paths.length > 0, what);
        for (const x of d.paths) assert.ok(x.address.toString().startsWith("198.18.0."));
        same(V.encodePushDirectPaths(d), p, what);
        break;
      }
      default:
        assert.fail(`unexpected verb ${what}`);
    }
  }

  // Every config the controller sent reassembles into the dictionary the member stored.
  assert.ok(chunks.size > 0);
  const nets = JSON.parse(fixtureText("networks.json")) as Record<string, string>;
  let matched = 0;
  const lastConfig = new Map<string, Uint8Array>(); // "host nwid" -> last config (arrival order)
  for (const [key, c] of chunks) {
    const [dest] = key.split(" ");
    const dict = new Uint8Array(c.total);
    let have = 0;
    for (const [idx, part] of c.parts) {
      dict.set(part, idx);
      have += part.length;
    }
    assert.equal(have, c.total, key);
    const text = new TextDecoder().decode(dict);
    const nwid = /(?:^|\n)nwid=([0-9a-f]{16})/.exec(text)?.[1];
    assert.ok(nwid && Object.values(nets).includes(nwid), key);
    assert.match(text, new RegExp(`(^|\\n)id=${dest}(\\n|$)`));
    lastConfig.set(`${HOSTS[dest]} ${nwid}`, dict);
    matched++;
  }
  assert.equal(matched, 6);
  // ... and the last one each member received is byte-identical to what it stored on disk
  assert.equal(lastConfig.size, 3);
  for (const [k, dict] of lastConfig) {
    const [host, nwid] = k.split(" ");
    same(dict, fixtureBytes(`homes/${host}/networks.d/${nwid}.conf`), `stored config ${k}`);
  }

  for (
    const v of [
      "HELLO",
      "OK(HELLO)",
      "OK(WHOIS)",
      "OK(NETWORK_CONFIG_REQUEST)",
      "ERROR",
      "WHOIS",
      "RENDEZVOUS",
      "FRAME",
      "ECHO",
      "MULTICAST_LIKE",
      "NETWORK_CREDENTIALS",
      "NETWORK_CONFIG_REQUEST",
      "NETWORK_CONFIG",
      "MULTICAST_GATHER",
      "MULTICAST_FRAME",
      "PUSH_DIRECT_PATHS",
    ]
  ) assert.ok((seen.get(v) ?? 0) > 0, `saw ${v}`);
  assert.equal(seen.get("HELLO"), 23);
  assert.equal(seen.get("OK(HELLO)"), 20);
  assert.equal(seen.get("OK(WHOIS)"), 24);
  assert.equal(seen.get("OK(NETWORK_CONFIG)"), 3);
  assert.equal(seen.get("ERROR(7)"), 3); // NETWORK_ACCESS_DENIED to the never-authorized member
});

/** Verifies a chunk's controller signature and files its data under (receiver, update ID). */
function collectChunk(
  payload: Uint8Array,
  c: V.ConfigChunk,
  ids: Map<number, Identity>,
  dest: number,
  chunks: Map<string, { total: number; parts: Map<number, Uint8Array> }>,
): void {
  assert.equal(c.legacy, false);
  assert.equal(c.signatureType, 1);
  assert.equal(c.signature!.length, 96);
  const controller = ids.get(Number(c.networkId >> 24n))!;
  assert.ok(controller.verify(payload.subarray(c.signedStart, c.signedEnd), c.signature!));
  const tampered = payload.slice(c.signedStart, c.signedEnd);
  tampered[tampered.length - 1] ^= 1;
  assert.equal(controller.verify(tampered, c.signature!), false);
  assert.ok(c.chunkIndex! + (c.dataEnd - c.dataStart) <= c.totalLength!);
  const key = `${dest.toString(16).padStart(10, "0")} ${c.configUpdateId}`;
  let e = chunks.get(key);
  if (!e) chunks.set(key, e = { total: c.totalLength!, parts: new Map() });
  e.parts.set(c.chunkIndex!, payload.slice(c.dataStart, c.dataEnd));
  // re-encoding from the decoded fields reproduces the chunk
  const re = V.encodeConfigChunk({
    networkId: c.networkId,
    data: payload.subarray(c.dataStart, c.dataEnd),
    flags: c.flags!,
    configUpdateId: c.configUpdateId!,
    totalLength: c.totalLength!,
    chunkIndex: c.chunkIndex!,
  }, c.signature!);
  assert.equal(toHex(re), toHex(payload.subarray(c.signedStart)));
}
