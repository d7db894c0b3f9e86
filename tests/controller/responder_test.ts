// ControllerResponder with a fake sender: OK chunks, ERRORs, rate limit, pushes, revocations; the mux.
import assert from "node:assert/strict";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import { networkForSave } from "../../src/controller/model.ts";
import { ControllerResponder, type ResponderNode } from "../../src/controller/responder.ts";
import { toHex } from "../../src/util/hex.ts";
import { Address } from "../../src/vl1/address.ts";
import type { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { ErrorCode, Verb } from "../../src/vl1/packet.ts";
import { decodeNetworkCredentials } from "../../src/vl1/verbs/credentials.ts";
import { decodeError } from "../../src/vl1/verbs/error.ts";
import {
  decodeOkNetworkConfigRequest,
  encodeNetworkConfigRequest,
} from "../../src/vl1/verbs/network_config.ts";
import { ConfigChunkAssembler } from "../../src/vl2/config_chunks.ts";
import {
  defaultConfigRequestMetadata,
  encodeConfigRequestMetadata,
} from "../../src/vl2/config_request_metadata.ts";
import { revocationDeserialize, revocationVerify } from "../../src/vl2/credentials/revocation.ts";
import { Dictionary } from "../../src/vl2/dictionary.ts";
import { parseNetworkConfig } from "../../src/vl2/network_config.ts";
import { UpperLayerMux } from "../../src/vl2/upper_layer_mux.ts";
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import {
  ADDR_A,
  ADDR_B,
  LAB_NET,
  labController,
  labIdentity,
  RULES_NET,
  seededRandom,
} from "./helpers.ts";

interface Sent {
  dest: string;
  verb: Verb;
  payload: Uint8Array;
  compress: boolean;
}

const C = labIdentity("c");
const A = labIdentity("a");
const B = labIdentity("b");
const dbFile = (p: string) => JSON.parse(fixtureText(`controller/controller.d/network/${p}`));
const REMOTE = InetAddress.parse("198.18.0.3/9993")!;

/** A fake node that records every packet and knows the lab identities. */
function fakeNode(): ResponderNode & { sent: Sent[] } {
  const known = new Map<number, Identity>([A, B, C].map((i) => [i.address.value, i]));
  const sent: Sent[] = [];
  let id = 1n;
  return {
    sent,
    address: C.address,
    sendPacket(_now, dest, verb, payload, opts) {
      sent.push({
        dest: dest.toString(),
        verb,
        payload: payload.slice(),
        compress: !!opts?.compress,
      });
      return id++;
    },
    peerIdentity: (a) => known.get(a.value),
  };
}

/** Lab network + the recorded members (a and b authorized on lab; b not on rules). */
function setup(t = 1_795_303_700_000) {
  const store = new MemoryStore(
    [dbFile(`${LAB_NET}.json`), dbFile(`${RULES_NET}.json`)],
    [
      JSON.parse(fixtureText("controller/member-a-authorized.json")),
      JSON.parse(fixtureText("controller/member-b-authorized.json")),
      dbFile(`${RULES_NET}/member/${ADDR_A}.json`),
      dbFile(`${RULES_NET}/member/${ADDR_B}.json`),
    ],
  );
  const { ctl, clock } = labController(store, { t });
  const node = fakeNode();
  const resp = new ControllerResponder({ node, controller: ctl, random: seededRandom(5) });
  return { ctl, clock, node, resp };
}

function request(nwid: string | bigint): Uint8Array {
  return encodeNetworkConfigRequest({
    networkId: typeof nwid === "bigint" ? nwid : BigInt("0x" + nwid),
    metadata: encodeConfigRequestMetadata(defaultConfigRequestMetadata()),
  });
}

function info(packetId: bigint) {
  return { hops: 0, packetId, remote: REMOTE, localSocket: 0 };
}

/** Reassembles config chunks (OK bodies or NETWORK_CONFIG payloads) with the real assembler. */
function assemble(nwid: string, chunks: Uint8Array[], ok: boolean): Uint8Array {
  const asm = new ConfigChunkAssembler(BigInt("0x" + nwid));
  let dict: Uint8Array | undefined;
  for (const p of chunks) {
    let r;
    if (ok) {
      const d = decodeOkNetworkConfigRequest(p)!;
      assert.ok(d, "OK(NETWORK_CONFIG_REQUEST) decodes");
      r = asm.acceptDecoded(p, d.chunk, C, C.address.value);
    } else {
      r = asm.accept(p, C, C.address.value);
    }
    if (r.status === "complete") dict = r.dictionary;
    else assert.equal(r.status, "partial", JSON.stringify(r));
  }
  assert.ok(dict, "config complete");
  return dict!;
}

Deno.test("request from an authorized member → compressed OK chunks = the recorded config", () => {
  // Answer at the time the lab member's stored config was issued: byte-exact with the recording.
  const recorded = fixtureBytes(`homes/a/networks.d/${LAB_NET}.conf`);
  const ts = Number(parseNetworkConfig(recorded)!.timestamp);
  const store = new MemoryStore([dbFile(`${LAB_NET}.json`)], [
    JSON.parse(fixtureText("controller/member-a-authorized.json")),
  ]);
  const { ctl } = labController(store, { t: ts });
  const node = fakeNode();
  const resp = new ControllerResponder({ node, controller: ctl, random: seededRandom(5) });
  assert.equal(
    resp.handle(ts, A.address, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(77n)),
    true,
  );
  assert.ok(node.sent.length >= 1);
  for (const s of node.sent) {
    assert.equal(s.dest, ADDR_A);
    assert.equal(s.verb, Verb.OK);
    assert.equal(s.compress, true, "every chunk compressed");
    assert.equal(decodeOkNetworkConfigRequest(s.payload)!.inRePacketId, 77n);
  }
  const dict = assemble(LAB_NET, node.sent.map((s) => s.payload), true);
  assert.equal(toHex(dict), toHex(recorded));
  assert.equal(resp.stats.configsSent, 1);
  // the controller recorded the member as online with its physical address
  assert.equal(ctl.memberStatus(LAB_NET, ADDR_A)!.physicalAddress!.toString(), "198.18.0.3/9993");
});

Deno.test("requests closer than 1 s per (network, member) are ignored (§10.5)", () => {
  const { node, resp, clock } = setup();
  const t = clock.t;
  resp.handle(t, A.address, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(1n));
  const n1 = node.sent.length;
  assert.ok(n1 > 0);
  resp.handle(t + 500, A.address, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(2n));
  assert.equal(node.sent.length, n1, "rate-limited");
  // another member is not affected
  resp.handle(t + 500, B.address, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(3n));
  assert.ok(node.sent.length > n1);
  const n2 = node.sent.length;
  resp.handle(t + 1000, A.address, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(4n));
  assert.ok(node.sent.length > n2, "answered again after 1 s");
  assert.equal(resp.stats.ignored, 1);
});

Deno.test("ERROR replies: unknown network, access denied, authentication required", () => {
  const { node, resp, ctl, clock } = setup();
  const t = clock.t;
  const unknown = "5b1c20a311000001";
  resp.handle(t, A.address, Verb.NETWORK_CONFIG_REQUEST, request(unknown), info(10n));
  let e = decodeError(node.sent.at(-1)!.payload)!;
  assert.equal(node.sent.at(-1)!.verb, Verb.ERROR);
  assert.equal(e.inReVerb, Verb.NETWORK_CONFIG_REQUEST);
  assert.equal(e.inRePacketId, 10n);
  assert.equal(e.code, ErrorCode.OBJ_NOT_FOUND);
  assert.equal(e.networkId, BigInt("0x" + unknown));
  assert.equal(toHex(node.sent.at(-1)!.payload), `0b000000000000000a03${unknown}`);

  // b was never authorized on the rules network
  resp.handle(t, B.address, Verb.NETWORK_CONFIG_REQUEST, request(RULES_NET), info(11n));
  e = decodeError(node.sent.at(-1)!.payload)!;
  assert.equal(e.code, ErrorCode.NETWORK_ACCESS_DENIED);
  assert.equal(e.networkId, BigInt("0x" + RULES_NET));
  assert.equal(node.sent.at(-1)!.dest, ADDR_B);

  // SSO network (only settable in the database): ERROR with the auth dictionary
  const n = ctl.getNetwork(LAB_NET)!;
  ctl.store.saveNetwork(networkForSave({
    ...n,
    ssoEnabled: true,
    authorizationEndpoint: "https://sso.example/auth",
  }));
  resp.handle(t, A.address, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(12n));
  e = decodeError(node.sent.at(-1)!.payload)!;
  assert.equal(e.code, ErrorCode.NETWORK_AUTHENTICATION_REQUIRED);
  const d = Dictionary.parse(e.errorData!);
  assert.equal(d.getString("aU"), "https://sso.example/auth");
  assert.equal(d.getU64("aV"), 0n);
  assert.equal(resp.stats.errorsSent, 3);
});

Deno.test("networks of other controllers, malformed requests and unknown requesters: no reply", () => {
  const { node, resp, clock } = setup();
  const t = clock.t;
  resp.handle(t, A.address, Verb.NETWORK_CONFIG_REQUEST, request(0x1122334455000001n), info(1n));
  resp.handle(t, A.address, Verb.NETWORK_CONFIG_REQUEST, new Uint8Array([1, 2, 3]), info(2n));
  const stranger = Address.parse("0102030405")!;
  resp.handle(t, stranger, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(3n));
  assert.equal(resp.handle(t, A.address, Verb.FRAME, request(LAB_NET), info(4n)), false);
  assert.equal(node.sent.length, 0);
  assert.equal(resp.stats.ignored, 3);
});

Deno.test("network change → NETWORK_CONFIG pushed (compressed) to the members seen recently", () => {
  const { node, resp, ctl, clock } = setup();
  resp.handle(clock.t, A.address, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(1n));
  resp.handle(clock.t, B.address, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(2n));
  node.sent.length = 0;
  clock.t += 5000;
  const r = ctl.postNetwork(LAB_NET, { name: "renamed", mtu: 1400 });
  assert.ok(r.ok);
  const pushes = node.sent.filter((s) => s.verb === Verb.NETWORK_CONFIG);
  assert.deepEqual([...new Set(pushes.map((s) => s.dest))].sort(), [ADDR_A, ADDR_B]);
  assert.ok(pushes.every((s) => s.compress));
  const forA = pushes.filter((s) => s.dest === ADDR_A).map((s) => s.payload);
  const nc = parseNetworkConfig(assemble(LAB_NET, forA, false))!;
  assert.equal(nc.name, "renamed");
  assert.equal(nc.mtu, 1400);
  assert.equal(nc.issuedTo, A.address.value);
  assert.equal(Number(nc.timestamp), clock.t);
  assert.equal(resp.stats.pushes, 2);
  // members not seen within 120 s get nothing
  node.sent.length = 0;
  clock.t += 200_000;
  ctl.postNetwork(LAB_NET, { name: "again" });
  assert.equal(node.sent.length, 0);
});

Deno.test("deauthorize → signed revocation to the member and the other online members", () => {
  const { node, resp, ctl, clock } = setup();
  resp.handle(clock.t, A.address, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(1n));
  resp.handle(clock.t, B.address, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(2n));
  node.sent.length = 0;
  clock.t += 1000;
  assert.ok(ctl.postMember(LAB_NET, ADDR_B, { authorized: false }).ok);
  const creds = node.sent.filter((s) => s.verb === Verb.NETWORK_CREDENTIALS);
  assert.deepEqual(creds.map((s) => s.dest).sort(), [ADDR_A, ADDR_B]);
  // b is also told at once: the re-run request is refused with ERROR(NETWORK_ACCESS_DENIED) in
  // re packet 0 (spec §10.5 steps 7 and 10), so it does not wait for its next request
  const toB = node.sent.filter((s) => s.dest === ADDR_B && s.verb === Verb.ERROR);
  assert.equal(toB.length, 1);
  const err = decodeError(toB[0].payload)!;
  assert.equal(err.code, ErrorCode.NETWORK_ACCESS_DENIED);
  assert.equal(err.inReVerb, Verb.NETWORK_CONFIG_REQUEST);
  assert.equal(err.inRePacketId, 0n);
  assert.equal(err.networkId, BigInt("0x" + LAB_NET));
  assert.equal(node.sent.filter((s) => s.dest === ADDR_B).length, 2, "error + revocation only");
  for (const s of creds) {
    const p = s.payload;
    // 00 | 0000 | 0000 | 0001 | rev | 0000
    assert.equal(toHex(p.subarray(0, 7)), "00000000000001");
    assert.equal(toHex(p.subarray(p.length - 2)), "0000");
    const c = decodeNetworkCredentials(p)!;
    assert.equal(c.revocations.length, 1);
    assert.equal(c.coms.length + c.capabilities.length + c.tags.length + c.coos.length, 0);
    const rev = revocationDeserialize(c.revocations[0])!.revocation;
    assert.ok(revocationVerify(rev, C));
    assert.equal(rev.target, B.address.value);
    assert.equal(rev.networkId, BigInt("0x" + LAB_NET));
    assert.equal(rev.threshold, BigInt(clock.t));
    assert.equal(rev.credentialType, 1);
  }
  assert.equal(resp.stats.revocationsSent, 2);
  // after dispose, changes are no longer sent
  resp.dispose();
  node.sent.length = 0;
  ctl.postMember(LAB_NET, ADDR_A, { authorized: false });
  assert.equal(node.sent.length, 0);
});

Deno.test("mux: config requests to the controller side, the rest to the member side", () => {
  const seen: string[] = [];
  const member = {
    handle: (_n: number, _s: Address, verb: Verb) => {
      seen.push(`member:${Verb[verb]}`);
      return true;
    },
    tick: () => seen.push("member:tick"),
  };
  const ctlSide = {
    handle: (_n: number, _s: Address, verb: Verb) => {
      seen.push(`ctl:${Verb[verb]}`);
      return true;
    },
    tick: () => seen.push("ctl:tick"),
  };
  const node = fakeNode();
  const mux = new UpperLayerMux({ sender: node });
  // nothing installed: other verbs dropped, config requests answered UNSUPPORTED_OPERATION
  assert.equal(mux.handle(0, A.address, Verb.FRAME, new Uint8Array(0), info(1n)), false);
  mux.handle(0, A.address, Verb.NETWORK_CONFIG_REQUEST, request(LAB_NET), info(9n));
  assert.equal(node.sent.length, 1);
  const e = decodeError(node.sent[0].payload)!;
  assert.equal(e.code, ErrorCode.UNSUPPORTED_OPERATION);
  assert.equal(e.inRePacketId, 9n);
  assert.equal(e.networkId, BigInt("0x" + LAB_NET));
  mux.setMember(member);
  mux.setConfigRequestHandler(ctlSide);
  for (
    const v of [Verb.NETWORK_CONFIG_REQUEST, Verb.NETWORK_CONFIG, Verb.OK, Verb.ERROR, Verb.FRAME]
  ) mux.handle(0, A.address, v, new Uint8Array(8), info(1n));
  mux.tick(5);
  assert.deepEqual(seen, [
    "ctl:NETWORK_CONFIG_REQUEST",
    "member:NETWORK_CONFIG",
    "member:OK",
    "member:ERROR",
    "member:FRAME",
    "ctl:tick",
    "member:tick",
  ]);
  assert.equal(node.sent.length, 1, "no UNSUPPORTED_OPERATION once a controller is installed");
  // one part throwing in tick does not starve the other
  seen.length = 0;
  mux.setConfigRequestHandler({
    handle: () => true,
    tick: () => {
      throw new Error("boom");
    },
  });
  assert.throws(() => mux.tick(6), /boom/);
  assert.deepEqual(seen, ["member:tick"]);
});

Deno.test("the controller's own node: answer() directly, pushes and revocations go to localDelivery", () => {
  const { node, resp, ctl, clock } = setup();
  const local: { verb: Verb; payload: Uint8Array }[] = [];
  resp.setLocalDelivery((_now, verb, payload) => local.push({ verb, payload }));
  const self = C.address.toString();
  assert.ok(ctl.postMember(LAB_NET, self, { authorized: true }).ok);
  const a = resp.answer(clock.t, C, request(LAB_NET), undefined);
  assert.equal(a.kind, "config");
  if (a.kind !== "config") return;
  assert.equal(parseNetworkConfig(assemble(LAB_NET, a.chunks, false))!.issuedTo, C.address.value);
  clock.t += 1000;
  ctl.postNetwork(LAB_NET, { name: "self-renamed" });
  assert.equal(node.sent.length, 0, "nothing sent to ourselves");
  const pushed = local.filter((l) => l.verb === Verb.NETWORK_CONFIG).map((l) => l.payload);
  assert.equal(parseNetworkConfig(assemble(LAB_NET, pushed, false))!.name, "self-renamed");
  ctl.postMember(LAB_NET, self, { authorized: false });
  const rev = local.filter((l) => l.verb === Verb.NETWORK_CREDENTIALS);
  assert.equal(rev.length, 1);
  const r = revocationDeserialize(decodeNetworkCredentials(rev[0].payload)!.revocations[0])!;
  assert.equal(r.revocation.target, C.address.value);
});
