// Robustness: every verb decoder on random, truncated and bit-flipped input never throws or over-reads.
import assert from "node:assert/strict";
import * as V from "../../../src/vl1/verbs/mod.ts";
import { seededRandom } from "../../helpers/seeded_random.ts";

type Decoder = (p: Uint8Array, s?: number, e?: number) => unknown;

const DECODERS: [string, Decoder][] = [
  ["hello", V.decodeHello],
  ["helloCryptFieldStart", V.helloCryptFieldStart],
  ["okHello", V.decodeOkHello],
  ["ok", V.decodeOk],
  ["error", V.decodeError],
  ["whois", V.decodeWhois],
  ["okWhois", V.decodeOkWhois],
  ["rendezvous", V.decodeRendezvous],
  ["frame", V.decodeFrame],
  ["extFrame", V.decodeExtFrame],
  ["okExtFrame", V.decodeOkExtFrame],
  ["echo", V.decodeEcho],
  ["okEcho", V.decodeOkEcho],
  ["like", V.decodeMulticastLike],
  ["gather", V.decodeMulticastGather],
  ["okGather", V.decodeOkMulticastGather],
  ["mframe", V.decodeMulticastFrame],
  ["okMframe", V.decodeOkMulticastFrame],
  ["credentials", V.decodeNetworkCredentials],
  ["ncr", V.decodeNetworkConfigRequest],
  ["chunk", V.decodeConfigChunk],
  ["okNcr", V.decodeOkNetworkConfigRequest],
  ["okNc", V.decodeOkNetworkConfig],
  ["push", V.decodePushDirectPaths],
  ["user", V.decodeUserMessage],
  ["trace", V.decodeRemoteTrace],
  ["com", (b, s, e) => V.comLength(b, s ?? 0, e)],
  ["cap", (b, s, e) => V.capabilityLength(b, s ?? 0, e)],
  ["tag", (b, s, e) => V.tagLength(b, s ?? 0, e)],
  ["rev", (b, s, e) => V.revocationLength(b, s ?? 0, e)],
  ["coo", (b, s, e) => V.cooLength(b, s ?? 0, e)],
];

/** Offsets in a decoded result (…Start / …End / signedEnd) must lie inside the window. */
function checkOffsets(v: unknown, lo: number, hi: number, what: string): void {
  if (!v || typeof v !== "object") return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x === "number" && /(Start|End)$/.test(k)) {
      assert.ok(x >= lo && x <= hi, `${what}: ${k}=${x} outside [${lo}, ${hi}]`);
    } else if (x && typeof x === "object" && !(x instanceof Uint8Array)) {
      checkOffsets(x, lo, hi, what);
    }
  }
}

/** A buffer whose bytes past `end` are poisoned: decoders must not depend on them. */
function run(b: Uint8Array, start: number, end: number): void {
  const poisoned = b.slice();
  poisoned.fill(0x5a, end);
  for (const [name, dec] of DECODERS) {
    let r1: unknown, r2: unknown;
    assert.doesNotThrow(() => {
      r1 = dec(b, start, end);
      r2 = dec(poisoned, start, end);
    }, name);
    if (typeof r1 === "number") assert.ok(r1 <= end, name);
    checkOffsets(r1, start, end, name);
    assert.equal(r1 === undefined, r2 === undefined, `${name}: bytes past end changed the result`);
  }
}

Deno.test("decoders: random payloads, windows and truncations never throw or over-read", () => {
  const rnd = seededRandom(0x2d2e68f);
  for (let i = 0; i < 600; i++) {
    const len = rnd(2)[0] % 200 + (i % 3 === 0 ? rnd(1)[0] * 4 : 0);
    const b = rnd(len + 8);
    // steer some inputs towards plausible structure
    if (i % 4 === 1) b[0] = 1; // COM format / HELLO verb / small counts
    if (i % 5 === 2) b.fill(0, 0, Math.min(b.length, 12));
    const start = i % 7 === 0 ? 0 : rnd(1)[0] % 8;
    run(b, Math.min(start, len), len);
  }
});

Deno.test("decoders: bit flips and truncations of well-formed payloads never throw", () => {
  const rnd = seededRandom(77);
  const samples: Uint8Array[] = [
    V.encodeNetworkCredentials({
      coms: [new Uint8Array([1, 0, 1, ...new Uint8Array(24), 0, 0, 0, 0, 0])],
      capabilities: [],
      tags: [],
      revocations: [],
      coos: [],
    }),
    V.encodeMulticastFrame({
      networkId: 1n,
      flags: 8,
      gatherLimit: 3,
      source: 2,
      mac: 0xffffffffffff,
      adi: 0,
      etherType: 0x800,
      payload: rnd(30),
    }),
    V.encodeOkMulticastFrame({
      inRePacketId: 1n,
      networkId: 2n,
      mac: 3,
      adi: 4,
      flags: 0,
      com: new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]),
      gather: { totalKnown: 0, members: [] },
    }),
    V.encodeConfigChunk({
      networkId: 1n,
      data: rnd(40),
      flags: 0,
      configUpdateId: 9n,
      totalLength: 40,
      chunkIndex: 0,
    }, rnd(96)),
    V.encodeError({ inReVerb: 0x0b, inRePacketId: 1n, code: 9, networkId: 1n, errorData: rnd(9) }),
    V.encodePushDirectPaths({ paths: [] }),
  ];
  for (const s of samples) {
    for (let n = 0; n <= s.length; n++) run(s, 0, n);
    for (let i = 0; i < 200; i++) {
      const m = s.slice();
      const pos = (rnd(2)[0] << 8 | rnd(1)[0]) % m.length;
      m[pos] ^= 1 << (i % 8);
      run(m, 0, m.length);
    }
  }
});
