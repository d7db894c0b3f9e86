// Flood: 50,000 HELLOs with identities failing their proof of work, from 256 source /24s, replayed and fresh.
import assert from "node:assert/strict";
import { Random } from "../../src/sim/random.ts";
import {
  IDENTITY_AGREEMENT_COST_MS,
  IDENTITY_CHECK_BURST_MS,
  IDENTITY_CHECK_CPU_SHARE,
  IDENTITY_NEGATIVE_CACHE_SIZE,
  IDENTITY_VALIDATION_COST_MS,
} from "../../src/vl1/identity_checks.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { Verb } from "../../src/vl1/packet.ts";
import {
  badKeyPairs,
  heapMb,
  labPlanet,
  sourceIn24,
  Talker,
  VALID,
  Victim,
  withAddress,
} from "./hostile.ts";

const MESSAGES = 50_000;
/** Virtual ms between two flood messages (50,000 → 5 s of the node's clock). */
const STEP = 0.1;

Deno.test("reliability: 50,000 bad-PoW HELLOs from 256 /24s stay within the check budget", () => {
  const [vId, legitId, lateId] = VALID;
  const planet = labPlanet(vId);
  const v = new Victim(vId, planet, 10_000_000);
  const legitSrc = InetAddress.parse("198.18.250.10/9993")!;

  // A legitimate peer introduces itself with a real HELLO and is answered.
  const legit = new Talker(legitId, vId, 1);
  v.deliver(legitSrc, legit.hello(v.now, undefined, planet));
  assert.ok(legit.answers(v.sent).some((a) => a.verb === Verb.OK && a.inReVerb === Verb.HELLO));
  assert.ok(v.node.peer(legitId.address), "legit peer known");
  const peersBefore = v.node.stats().peers;
  const before = v.node.tableStats();
  const heap0 = heapMb();

  // 8 key pairs failing their proof of work; varied addresses give distinct identities.
  const pairs = badKeyPairs("hello-flood", 8);
  const talkers = pairs.map((p, i) => new Talker(p, vId, 100 + i));
  // 32 recorded HELLOs, each replayed about 780 times, and 25,000 fresh identities sent once:
  // 25,032 distinct identities, more than the negative cache holds.
  const recorded: Uint8Array[] = [];
  for (let i = 0; i < 32; i++) {
    const k = i % 8;
    const t = new Talker(withAddress(pairs[k], 0x20_0000_0000 + i), vId, 1000 + i, talkers[k].keys);
    recorded.push(t.hello(v.now));
  }
  const rnd = new Random("hello-flood-src");
  const t0 = v.now;
  let fresh = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const src = sourceIn24(i % 256, rnd.int(254));
    if (i % 2 === 0) {
      v.deliver(src, recorded[(i >> 1) % recorded.length].slice(), STEP);
    } else {
      const k = fresh % 8;
      const t = new Talker(
        withAddress(pairs[k], 0x30_0000_0000 + fresh),
        vId,
        100_000 + fresh,
        talkers[k].keys,
      );
      fresh++;
      v.deliver(src, t.hello(v.now), STEP);
    }
    if (i % 1000 === 999) {
      v.tick();
      v.clearSent();
      const s = v.node.tableStats();
      assert.ok(s.identityNegative <= IDENTITY_NEGATIVE_CACHE_SIZE);
      assert.equal(v.node.stats().peers, peersBefore, "no failing identity became a peer");
    }
  }
  const elapsed = Math.round(v.now - t0);
  const s = v.node.tableStats();
  const checks = s.identityValidations - before.identityValidations;
  // The budget: burst + elapsed × share, each check costing at least the validation cost.
  const maxChecks = Math.floor(
    (IDENTITY_CHECK_BURST_MS + elapsed * IDENTITY_CHECK_CPU_SHARE) /
      (IDENTITY_VALIDATION_COST_MS + IDENTITY_AGREEMENT_COST_MS),
  ) + 1;
  console.log(
    `hello flood: ${MESSAGES} msgs, ${fresh + recorded.length} identities over ${elapsed} ms: ` +
      `${checks} checks (max ${maxChecks}), replays refused ${s.identityReplaysDropped}, ` +
      `budget drops ${s.identityBudgetDropped}, negative cache ${s.identityNegative}, ` +
      `heap ${heap0} → ${heapMb()} MB`,
  );
  assert.ok(checks > 0 && checks <= maxChecks, `checks ${checks} > ${maxChecks}`);
  assert.equal(s.identityFailures - before.identityFailures, checks, "every check failed");
  assert.ok(
    s.identityReplaysDropped > MESSAGES / 4,
    "replays of failed identities refused at once",
  );
  assert.ok(s.identityBudgetDropped > 0, "the excess was counted and dropped");
  assert.equal(s.identityNegative, s.identityFailures, "each failure remembered once");
  assert.equal(v.node.stats().peers, peersBefore);

  // The known peer is still answered.
  v.clearSent();
  v.deliver(legitSrc, legit.packet(Verb.ECHO, new Uint8Array([1, 2, 3])), 1);
  assert.ok(
    legit.answers(v.sent).some((a) => a.verb === Verb.OK && a.inReVerb === Verb.ECHO),
    "legit ECHO answered after the flood",
  );
  // A new legitimate peer is accepted once the budget has refilled a little (as its retry would).
  v.now += 2 * IDENTITY_VALIDATION_COST_MS / IDENTITY_CHECK_CPU_SHARE + 2000;
  const late = new Talker(lateId, vId, 2);
  v.clearSent();
  v.deliver(InetAddress.parse("198.18.251.10/9993")!, late.hello(v.now, undefined, planet));
  assert.ok(late.answers(v.sent).some((a) => a.verb === Verb.OK && a.inReVerb === Verb.HELLO));
  assert.ok(v.node.peer(lateId.address), "new legit peer known");
  assert.deepEqual(
    [...v.node.counters.snapshot().internalErrors],
    [],
    "hostile input is never counted as an internal error",
  );
});
