// Fuzzing the node with 100,000 mutated capture packets: nothing escapes, memory stays bounded, HELLO still answered.
import assert from "node:assert/strict";
import { Random } from "../../src/sim/random.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { Node } from "../../src/vl1/node.ts";
import type { NodeHost } from "../../src/vl1/node_host.ts";
import { encodePeerCache } from "../../src/vl1/peer_cache.ts";
import { parseWorld } from "../../src/vl1/world.ts";
import { parseHex } from "../../src/util/hex.ts";
import { fixtureBytes, fixtureText } from "../fixtures.ts";

const ID = (h: string) => Identity.fromString(fixtureText(`identities/${h}.secret`))!;
const PLANET = parseWorld(fixtureBytes("planet.bin"))!;

function host(sent: { to: string; data: Uint8Array }[], store: Map<string, Uint8Array>): NodeHost {
  const rnd = new Random("fuzz-host");
  return {
    send: (_s, remote, data) => {
      if (sent.length < 10_000) sent.push({ to: remote.toString(), data: data.slice() });
      return true;
    },
    random: (n) => rnd.bytes(n),
    storePut: (k, id, d) => {
      if (d) store.set(`${k}/${id}`, d);
    },
    storeGet: (k, id) => store.get(`${k}/${id}`),
    event: () => {},
  };
}

Deno.test("fuzz: 100,000 mutated capture packets into the root r", () => {
  const r = ID("r");
  const store = new Map<string, Uint8Array>();
  for (const h of ["a", "b", "c"]) {
    const id = ID(h);
    store.set(
      `peer/${id.address}`,
      encodePeerCache({ identity: id, vProto: 12, vMajor: 1, vMinor: 14, vRevision: 1, paths: [] }),
    );
  }
  const sent: { to: string; data: Uint8Array }[] = [];
  let now = 1_795_303_611_000;
  const node = new Node({ identity: r, host: host(sent, store), now, planet: PLANET });
  assert.ok(node.isRoot());
  const corpus: { src: InetAddress; bytes: Uint8Array }[] = [];
  for (const line of fixtureText("captures/session.jsonl").split("\n")) {
    if (!line.trim()) continue;
    const j = JSON.parse(line);
    const b = parseHex(j.hex);
    const src = InetAddress.parse(j.src);
    if (b && src) corpus.push({ src, bytes: b });
  }
  assert.ok(corpus.length > 200);
  const rnd = new Random("fuzz");
  const t0 = performance.now();
  for (let i = 0; i < 100_000; i++) {
    const base = corpus[rnd.int(corpus.length)];
    let d = base.bytes.slice();
    switch (rnd.int(6)) {
      case 0: // bit flips
        for (let k = 1 + rnd.int(4); k > 0; k--) d[rnd.int(d.length)] ^= 1 << rnd.int(8);
        break;
      case 1: // truncation
        d = d.slice(0, rnd.int(d.length + 1));
        break;
      case 2: { // splicing
        const o = corpus[rnd.int(corpus.length)].bytes;
        const cut = rnd.int(Math.min(d.length, o.length) + 1);
        const x = new Uint8Array(cut + o.length - cut);
        x.set(d.subarray(0, cut));
        x.set(o.subarray(cut), cut);
        d = x;
        break;
      }
      case 3: // hops / flags / cipher
        if (d.length > 18) d[18] = rnd.int(256);
        break;
      case 4: // verb byte
        if (d.length > 27) d[27] = rnd.int(256);
        break;
      default: // unmodified replay (duplicate filter, relaying)
        break;
    }
    const src = rnd.chance(0.5)
      ? base.src
      : InetAddress.fromIpv4Number(rnd.nextU32(), 1 + rnd.int(65535));
    now += 1;
    node.receive(now, 0, src, d);
    if (i % 1000 === 0) node.tick(now);
  }
  const elapsed = performance.now() - t0;
  const s = node.stats();
  assert.ok(s.peers <= 64, `peers ${s.peers}`);
  assert.ok(s.queued <= 64, `queued ${s.queued}`);
  assert.ok(s.paths <= 70_000, `paths ${s.paths}`);
  console.log(`fuzz: ${elapsed.toFixed(0)} ms, stats ${JSON.stringify(s)}, sent ${sent.length}`);

  // A fresh HELLO from a (built by a real node for a) still gets an OK(HELLO).
  const aSent: { to: string; data: Uint8Array }[] = [];
  const a = new Node({ identity: ID("a"), host: host(aSent, new Map()), now, planet: PLANET });
  a.tick(now);
  const hello = aSent.find((x) => x.to === "198.18.0.1/9993");
  assert.ok(hello, "a sends HELLO to r");
  sent.length = 0;
  node.receive(now + 10_000, 0, InetAddress.parse("198.18.0.3/9993")!, hello.data);
  assert.ok(sent.some((x) => x.to === "198.18.0.3/9993"), "r answers a's HELLO");
  a.receive(now + 10_001, 0, InetAddress.parse("198.18.0.1/9993")!, sent[0].data);
  a.tick(now + 15_000);
  assert.ok(a.online(), "a is online after r's OK(HELLO)");
});
