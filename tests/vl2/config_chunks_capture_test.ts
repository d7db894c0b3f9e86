// Reassembles the real NETWORK_CONFIG / OK(NETWORK_CONFIG_REQUEST) chunks of the 1.14.1 capture and checks them.
import assert from "node:assert/strict";
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import { parseHex, toHex } from "../../src/util/hex.ts";
import { dearmor } from "../../src/vl1/armor.ts";
import { uncompressPacket } from "../../src/vl1/compression.ts";
import { isFragment, Reassembler } from "../../src/vl1/fragment.ts";
import { Identity } from "../../src/vl1/identity.ts";
import {
  getDest,
  getSource,
  getVerb,
  IDX_PAYLOAD,
  isFragmented,
  MIN_PACKET_LENGTH,
  Verb,
} from "../../src/vl1/packet.ts";
import { PeerKeys } from "../../src/vl1/peer_keys.ts";
import { decodeOk } from "../../src/vl1/verbs/ok.ts";
import { ConfigChunkAssembler } from "../../src/vl2/config_chunks.ts";
import { parseNetworkConfig } from "../../src/vl2/network_config.ts";
import { comVerify } from "../../src/vl2/credentials/com.ts";

const HOSTS = ["r", "c", "a", "b"];

Deno.test("capture: config chunks from controller c reassemble, verify and equal the stored configs", () => {
  const secrets = new Map<number, Identity>();
  const names = new Map<number, string>();
  for (const h of HOSTS) {
    const id = Identity.fromString(fixtureText(`identities/${h}.secret`))!;
    secrets.set(id.address.value, id);
    names.set(id.address.value, h);
  }
  // the receiver only knows the controller's public identity
  const controller = Identity.fromString(fixtureText("identities/c.public"))!;
  const assemblers = new Map<string, ConfigChunkAssembler>(); // "host nwid"
  const last = new Map<string, Uint8Array>();
  const frags = new Map<string, Reassembler>();
  let chunks = 0;
  let completes = 0;
  const lines = fixtureText("captures/session.jsonl").split("\n").filter((l) => l.trim());
  for (const line of lines) {
    const d = JSON.parse(line) as { t: number; dst: string; hex: string };
    let b = parseHex(d.hex)!;
    if (b.length < MIN_PACKET_LENGTH && !isFragment(b)) continue;
    if (isFragment(b) || isFragmented(b)) {
      let r = frags.get(d.dst);
      if (!r) frags.set(d.dst, r = new Reassembler());
      const now = Math.round(d.t * 1000);
      const whole = isFragment(b) ? r.addFragment(now, b) : r.addHead(now, b);
      if (!whole) continue;
      b = whole;
    }
    const src = getSource(b);
    const dst = getDest(b);
    assert.ok(dearmor(b, b.length, new PeerKeys(secrets.get(src)!.agree(secrets.get(dst)!)!)));
    const pkt = uncompressPacket(b, b.length)!.slice();
    const verb = getVerb(pkt);
    let start = IDX_PAYLOAD;
    if (verb === Verb.OK) {
      const ok = decodeOk(pkt, IDX_PAYLOAD);
      if (!ok || ok.inReVerb !== Verb.NETWORK_CONFIG_REQUEST) continue;
      start = ok.bodyStart;
    } else if (verb !== Verb.NETWORK_CONFIG) continue;
    chunks++;
    assert.ok(pkt.length - start > 8);
    const nwid = new DataView(pkt.buffer, start, 8).getBigUint64(0).toString(16).padStart(16, "0");
    const key = `${names.get(dst)} ${nwid}`;
    let a = assemblers.get(key);
    if (!a) assemblers.set(key, a = new ConfigChunkAssembler(BigInt("0x" + nwid)));
    // without the controller identity the chunk waits for WHOIS
    assert.equal(a.accept(pkt, undefined, src, start).status, "need-identity");
    // a tampered copy is rejected
    const bad = pkt.slice();
    bad[start + 12] ^= 1;
    assert.equal(a.accept(bad, controller, src, start).status, "rejected");
    const r = a.accept(pkt, controller, src, start);
    assert.equal(r.status, "complete", key);
    if (r.status !== "complete") continue;
    completes++;
    assert.equal(a.accept(pkt, controller, src, start).status, "duplicate");
    const cfg = parseNetworkConfig(r.dictionary);
    assert.ok(cfg, key);
    assert.equal(cfg.issuedTo, dst);
    assert.ok(comVerify(cfg.com!, controller));
    last.set(key, r.dictionary);
  }
  assert.equal(chunks, 6);
  assert.equal(completes, 6);
  assert.deepEqual([...last.keys()].sort(), [
    "a 5b1c20a311309832",
    "a 5b1c20a311fca1ca",
    "b 5b1c20a311fca1ca",
  ]);
  for (const [key, dict] of last) {
    const [h, nwid] = key.split(" ");
    assert.equal(toHex(dict), toHex(fixtureBytes(`homes/${h}/networks.d/${nwid}.conf`)), key);
  }
});
