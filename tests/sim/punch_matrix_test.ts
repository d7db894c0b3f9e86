// 11-host topology (root + 10 nodes, every NAT pairing): rendezvous-style hole punching matrix.
import assert from "node:assert/strict";
import {
  addrKey,
  type NatType,
  parseAddr,
  Sim,
  type SimAddr,
  type UdpSocket,
} from "../../src/sim/sim.ts";

type Kind = "public" | NatType;
const KINDS: Kind[] = [
  "public",
  "full-cone",
  "address-restricted-cone",
  "port-restricted-cone",
  "symmetric",
];
const enc = new TextEncoder(), dec = new TextDecoder();

interface PunchNode {
  id: number;
  kind: Kind;
  sock: UdpSocket;
  /** Peer id -> address an OK arrived from (a confirmed direct path). */
  direct: Map<number, string>;
}

/**
 * A miniature of ZeroTier's procedure (spec §9.4, §9.2): nodes register with a root, which tells
 * both members of a pair the other's address as it sees it (RENDEZVOUS). Each then sends 4 bytes
 * of junk with TTL 2 and a HELLO there. A HELLO is answered with OK, and a HELLO from an address
 * not yet confirmed is also answered with our own HELLO; an OK confirms a direct path.
 */
function buildAndPunch(seed: number) {
  const sim = new Sim(seed);
  const rootSock = sim.host("198.18.0.1", { name: "root" }).bind(9993);
  const seenByRoot = new Map<number, SimAddr>();
  rootSock.onReceive((src, b) => {
    const [verb, id] = dec.decode(b).split(" ");
    if (verb === "register") seenByRoot.set(Number(id), src);
  });
  const nodes: PunchNode[] = [];
  for (let i = 0; i < 10; i++) {
    const kind = KINDS[i % KINDS.length];
    const host = kind === "public"
      ? sim.host(`198.18.10.${i + 1}`)
      : sim.nat(`198.18.${20 + i}.1`, kind, { link: { latencyMs: 5 + i, jitterMs: 4 } }).host(
        "10.0.0.2",
      );
    const node: PunchNode = { id: i, kind, sock: host.bind(9993), direct: new Map() };
    const rnd = sim.random.fork();
    node.sock.onReceive((src, b) => {
      const [verb, a1, a2] = dec.decode(b).split(" "); // junk matches no verb
      const from = Number(a1);
      if (verb === "rdv") {
        const to = parseAddr(a2)!;
        for (let k = 0; k < 3; k++) {
          sim.clock.after(k * 1000, () => {
            if (node.direct.has(from)) return;
            node.sock.send(to, rnd.bytes(4), 2);
            node.sock.send(to, enc.encode(`hello ${node.id}`));
          });
        }
      } else if (verb === "hello") {
        node.sock.send(src, enc.encode(`ok ${node.id}`));
        if (node.direct.get(from) !== addrKey(src)) {
          node.sock.send(src, enc.encode(`hello ${node.id}`));
        }
      } else if (verb === "ok") {
        node.direct.set(from, addrKey(src));
      }
    });
    nodes.push(node);
    sim.clock.every(20_000, () => node.sock.send(rootSock.local, enc.encode(`register ${i}`)));
    node.sock.send(rootSock.local, enc.encode(`register ${i}`));
  }
  sim.clock.runFor(1000);
  assert.equal(seenByRoot.size, 10);
  // The root introduces every pair (in both directions at once).
  for (const a of nodes) {
    for (const b of nodes) {
      if (a.id < b.id) {
        rootSock.send(
          seenByRoot.get(a.id)!,
          enc.encode(`rdv ${b.id} ${addrKey(seenByRoot.get(b.id)!)}`),
        );
        rootSock.send(
          seenByRoot.get(b.id)!,
          enc.encode(`rdv ${a.id} ${addrKey(seenByRoot.get(a.id)!)}`),
        );
      }
    }
  }
  sim.clock.runFor(10_000);
  return { sim, nodes };
}

/** The textbook outcome: only port-restricted<->symmetric and symmetric<->symmetric fail. */
function expectDirect(x: Kind, y: Kind): boolean {
  const hard = (p: Kind, q: Kind) =>
    p === "symmetric" && (q === "symmetric" || q === "port-restricted-cone");
  return !hard(x, y) && !hard(y, x);
}

Deno.test("hole punching matrix over 10 nodes covers every NAT pairing", () => {
  const { sim, nodes } = buildAndPunch(77);
  const failures: string[] = [];
  let direct = 0;
  for (const a of nodes) {
    for (const b of nodes) {
      if (a.id >= b.id) continue;
      const ok = a.direct.has(b.id) && b.direct.has(a.id);
      if (ok) direct++;
      if (ok !== expectDirect(a.kind, b.kind)) {
        failures.push(`${a.kind}#${a.id} <-> ${b.kind}#${b.id}: got ${ok ? "direct" : "no path"}`);
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(direct, 45 - 5); // sym-sym (1 pair) and prc-sym (2x2 pairs) fail
  // Direct paths point at public addresses, never at private ones.
  for (const n of nodes) {
    for (const addr of n.direct.values()) assert.ok(!addr.startsWith("10."), addr);
  }
  assert.ok(sim.stats.dropped.ttl > 0, "TTL-2 junk died at remote NATs");
  assert.ok(sim.stats.dropped["nat-filtered"] > 0);
});

Deno.test("hole punching matrix is reproducible per seed", () => {
  const summary = (seed: number) => {
    const { sim, nodes } = buildAndPunch(seed);
    return JSON.stringify([nodes.map((n) => [...n.direct.entries()].sort()), sim.stats, sim.now]);
  };
  assert.equal(summary(5), summary(5));
});
