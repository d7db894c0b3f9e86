// Node unit tests with lab identities: cipher choice quirk, WHOIS queueing, unexpected OK, duplicates, relay hop limit.
import assert from "node:assert/strict";
import { Random } from "../../src/sim/random.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { Node, type NodeSettings } from "../../src/vl1/node.ts";
import type { NodeHost } from "../../src/vl1/node_host.ts";
import { getCipher, getHops, setHops, Verb } from "../../src/vl1/packet.ts";
import { parseWorld } from "../../src/vl1/world.ts";
import { UpperLayerMux } from "../../src/vl2/upper_layer_mux.ts";
import { fixtureBytes, fixtureText } from "../fixtures.ts";

const ID = (h: string) => Identity.fromString(fixtureText(`identities/${h}.secret`))!;
const PLANET = parseWorld(fixtureBytes("planet.bin"))!;
const IP: Record<string, string> = {
  r: "198.18.0.1/9993",
  c: "198.18.0.2/9993",
  a: "198.18.0.3/9993",
  b: "198.18.0.4/9993",
};

interface Sent {
  to: string;
  data: Uint8Array;
}

function mk(
  h: string,
  now: number,
  settings?: Partial<NodeSettings>,
): { node: Node; out: Sent[] } {
  const out: Sent[] = [];
  const rnd = new Random(`unit-${h}`);
  const host: NodeHost = {
    send: (_s, remote, data) => (out.push({ to: remote.toString(), data: data.slice() }), true),
    random: (n) => rnd.bytes(n),
    storePut: () => {},
    storeGet: () => undefined,
    event: () => {},
  };
  return { node: new Node({ identity: ID(h), host, now, planet: PLANET, settings }), out };
}

/** Delivers everything queued in the nodes' outboxes to the node owning the address, n rounds. */
function pump(
  nodes: Record<string, { node: Node; out: Sent[] }>,
  now: number,
  rounds = 10,
): Sent[] {
  const undelivered: Sent[] = [];
  const byIp = new Map(Object.entries(IP).map(([k, v]) => [v, k]));
  for (let i = 0; i < rounds; i++) {
    let moved = false;
    for (const [h, n] of Object.entries(nodes)) {
      const batch = n.out.splice(0);
      for (const s of batch) {
        const dst = nodes[byIp.get(s.to) ?? ""];
        if (!dst) {
          undelivered.push(s);
          continue;
        }
        moved = true;
        dst.node.receive(now, 0, InetAddress.parse(IP[h])!, s.data);
      }
    }
    if (!moved) break;
  }
  return undelivered;
}

Deno.test("handshake: first OK(HELLO) to a new peer is cipher 1, later replies cipher 3 (cipher: aes)", () => {
  const now = 1_000_000;
  const r = mk("r", now, { cipher: "aes" }), a = mk("a", now, { cipher: "aes" });
  a.node.tick(now);
  const hello = a.out.find((s) => s.to === IP.r)!;
  assert.equal(getCipher(hello.data), 0, "HELLO is cipher 0");
  a.out.length = 0;
  r.node.receive(now, 0, InetAddress.parse(IP.a)!, hello.data);
  const ok1 = r.out.find((s) => s.to === IP.a)!;
  assert.equal(getCipher(ok1.data), 1, "quirk: OK(HELLO) to a brand-new peer uses cipher 1");
  a.node.receive(now + 10, 0, InetAddress.parse(IP.r)!, ok1.data);
  assert.equal(a.node.peer(r.node.address)!.latency, 10);
  assert.deepEqual(a.node.peer(r.node.address)!.version, { major: 1, minor: 14, revision: 1 });
  // Now r knows a's version: an ECHO reply goes out with AES-GMAC-SIV.
  r.out.length = 0;
  a.node.ping(now + 20, r.node.address);
  const echo = a.out.pop()!;
  assert.equal(getCipher(echo.data), 3, "a knows r is proto 12: cipher 3");
  r.node.receive(now + 20, 0, InetAddress.parse(IP.a)!, echo.data);
  assert.equal(getCipher(r.out.pop()!.data), 3);
});

Deno.test("cipher setting: salsa2012 (the default) sends cipher 1 to AES-capable peers and still accepts cipher 3", () => {
  const now = 1_000_000;
  const r = mk("r", now), a = mk("a", now, { cipher: "aes" });
  a.node.tick(now);
  const hello = a.out.find((s) => s.to === IP.r)!;
  a.out.length = 0;
  r.node.receive(now, 0, InetAddress.parse(IP.a)!, hello.data);
  a.node.receive(now + 10, 0, InetAddress.parse(IP.r)!, r.out.find((s) => s.to === IP.a)!.data);
  assert.deepEqual(a.node.peer(r.node.address)!.version, { major: 1, minor: 14, revision: 1 });
  // a (aes) → r: cipher 3; r (default salsa2012) answers with cipher 1; both are accepted
  let rtt: number | undefined;
  r.out.length = 0;
  a.node.ping(now + 20, r.node.address, (x) => (rtt = x));
  const echo = a.out.pop()!;
  assert.equal(getCipher(echo.data), 3, "aes setting: cipher 3 to a proto-12 peer");
  r.node.receive(now + 20, 0, InetAddress.parse(IP.a)!, echo.data);
  const reply = r.out.pop()!;
  assert.equal(getCipher(reply.data), 1, "salsa2012 setting: cipher 1 although r could use AES");
  a.node.receive(now + 25, 0, InetAddress.parse(IP.r)!, reply.data);
  assert.equal(rtt, 5, "the cipher 1 OK(ECHO) was accepted");
});

Deno.test("WHOIS queueing: packet to an unknown peer waits for OK(WHOIS) from the root", () => {
  const now = 2_000_000;
  const nodes = { r: mk("r", now), a: mk("a", now), b: mk("b", now) };
  nodes.a.node.tick(now);
  nodes.b.node.tick(now);
  pump(nodes, now);
  nodes.a.node.tick(now + 5000);
  assert.ok(nodes.a.node.online());
  let rtt: number | undefined;
  nodes.a.out.length = 0;
  nodes.a.node.ping(now + 100, nodes.b.node.address, (x) => (rtt = x));
  assert.equal(nodes.a.node.stats().queued, 1, "ECHO queued behind WHOIS");
  assert.equal(nodes.a.out.length, 1);
  assert.equal(nodes.a.out[0].to, IP.r, "WHOIS goes to the root");
  pump(nodes, now + 100);
  assert.equal(nodes.a.node.stats().queued, 0);
  assert.equal(rtt, 0);
});

Deno.test("OK(HELLO) that answers nothing we sent is ignored", () => {
  const now = 3_000_000;
  const r = mk("r", now), a = mk("a", now);
  a.node.tick(now);
  r.node.receive(now, 0, InetAddress.parse(IP.a)!, a.out.find((s) => s.to === IP.r)!.data);
  const ok = r.out.find((s) => s.to === IP.a)!.data;
  // Deliver the genuine OK to a fresh instance of a that never sent that HELLO.
  const a2 = mk("a", now);
  a2.node.receive(now + 5, 0, InetAddress.parse(IP.r)!, ok.slice());
  const p = a2.node.peer(r.node.address)!;
  assert.equal(p.latency, -1);
  assert.equal(p.version, undefined);
  assert.equal(p.paths.length, 0, "no path learned from an unexpected OK");
  // The original a accepts it.
  a.node.receive(now + 5, 0, InetAddress.parse(IP.r)!, ok.slice());
  assert.equal(a.node.peer(r.node.address)!.paths.length, 1);
});

Deno.test("duplicate filter: a replayed ECHO is answered once", () => {
  const now = 4_000_000;
  const nodes = { r: mk("r", now), a: mk("a", now) };
  nodes.a.node.tick(now);
  pump(nodes, now);
  nodes.a.node.ping(now + 1000, nodes.r.node.address);
  const echo = nodes.a.out.pop()!.data;
  nodes.r.out.length = 0;
  nodes.r.node.receive(now + 1000, 0, InetAddress.parse(IP.a)!, echo.slice());
  nodes.r.node.receive(now + 2000, 0, InetAddress.parse(IP.a)!, echo.slice());
  assert.equal(nodes.r.out.length, 1);
});

Deno.test("relay: root forwards with hops+1 and drops at 3 hops", () => {
  const now = 5_000_000;
  const nodes = { r: mk("r", now), a: mk("a", now), b: mk("b", now) };
  nodes.a.node.tick(now);
  nodes.b.node.tick(now);
  pump(nodes, now);
  nodes.a.node.sendPacket(now + 100, nodes.b.node.address, Verb.NOP, new Uint8Array(0));
  // WHOIS round trip; the NOP goes to r, which forwards it to b (not delivered here).
  const lost = pump({ r: nodes.r, a: nodes.a }, now + 100);
  const pkt = lost.find((s) => s.to === IP.b);
  assert.ok(pkt, "root forwarded to b");
  assert.equal(getHops(pkt.data), 1);
  for (const [hops, forwarded] of [[2, true], [3, false]] as const) {
    const d: Uint8Array = pkt.data.slice();
    setHops(d, hops);
    nodes.r.out.length = 0;
    nodes.r.node.receive(now + 200 + hops, 0, InetAddress.parse(IP.a)!, d);
    const f: Sent[] = nodes.r.out.filter((s) => s.to === IP.b && s.data.length === d.length);
    assert.equal(f.length > 0, forwarded, `hops ${hops}`);
    if (forwarded) assert.equal(getHops(f[0].data), 3);
  }
  // A leaf without trust established on the path does not relay (packet for c arriving at b).
  const forC = pkt.data.slice();
  ID("c").address.writeTo(forC, 8);
  setHops(forC, 0);
  nodes.b.out.length = 0;
  nodes.b.node.receive(now + 300, 0, InetAddress.parse(IP.r)!, forC);
  assert.equal(nodes.b.out.length, 0);
});

Deno.test("public API: identityOf (self, peers, peer cache), requestWhois, savePeers", () => {
  const now = 6_000_000;
  const store = new Map<string, Uint8Array>();
  const out: Sent[] = [];
  const rnd = new Random("unit-api");
  const host: NodeHost = {
    send: (_s, remote, data) => (out.push({ to: remote.toString(), data: data.slice() }), true),
    random: (n) => rnd.bytes(n),
    storePut: (k, id, d) => void (d ? store.set(`${k}/${id}`, d) : store.delete(`${k}/${id}`)),
    storeGet: (k, id) => store.get(`${k}/${id}`),
    event: () => {},
  };
  const a = { node: new Node({ identity: ID("a"), host, now, planet: PLANET }), out };
  const r = mk("r", now), b = mk("b", now);
  const bAddr = b.node.address;
  assert.equal(a.node.identityOf(a.node.address), a.node.identity, "our own identity");
  assert.ok(a.node.identityOf(r.node.address.value)?.equals(r.node.identity), "planet root");
  assert.equal(a.node.identityOf(bAddr), undefined, "b not known yet");
  a.node.tick(now);
  b.node.tick(now);
  pump({ r, a, b }, now);
  a.out.length = 0;
  a.node.requestWhois(now + 1000, bAddr);
  a.node.requestWhois(now + 1100, bAddr.value);
  assert.equal(a.out.length, 1, "one WHOIS per 500 ms");
  assert.equal(a.out[0].to, IP.r);
  pump({ r, a, b }, now + 1000);
  assert.ok(a.node.identityOf(bAddr)?.equals(b.node.identity), "learned from OK(WHOIS)");
  assert.equal(store.size, 0);
  a.node.savePeers(now + 2000);
  assert.deepEqual([...store.keys()], [`peer/${bAddr}`], "roots are not cached");
  // a fresh node with that store knows b from the cache
  const a2 = new Node({ identity: ID("a"), host, now, planet: PLANET });
  assert.ok(a2.identityOf(bAddr)?.equals(b.node.identity), "loaded from the peer cache");
});

Deno.test("tick: the upper layer's wanted delay shortens the node's (never under 60 ms)", () => {
  let now = 7_000_000;
  const a = mk("a", now);
  let want: number | void = undefined;
  a.node.setUpperLayer({ handle: () => false, tick: () => want });
  a.node.tick(now);
  now += 1000;
  assert.equal(a.node.tick(now), 4000, "own cadence: next ping check in 4 s");
  want = 500;
  assert.equal(a.node.tick(now), 500);
  want = 10;
  assert.equal(a.node.tick(now), 60, "bounded below");
  want = 9000;
  assert.equal(a.node.tick(now), 4000, "never later than its own");
  // through the mux: the smaller of both parts
  const mux = new UpperLayerMux({
    configRequests: { handle: () => false, tick: () => 700 },
    member: { handle: () => false, tick: () => want },
  });
  a.node.setUpperLayer(mux);
  want = 300;
  assert.equal(a.node.tick(now), 300);
  want = undefined;
  assert.equal(a.node.tick(now), 700);
  assert.equal(mux.tick(now), 700);
});
