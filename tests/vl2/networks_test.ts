// Networks dispatch: replay of member a's recorded VL2 traffic, controller ERRORs, hooks, deferral, join/leave and local settings.
import assert from "node:assert/strict";
import { fixtureBytes } from "../fixtures.ts";
import { toHex } from "../../src/util/hex.ts";
import { Address } from "../../src/vl1/address.ts";
import { ErrorCode, Verb } from "../../src/vl1/packet.ts";
import { decodeError, encodeError } from "../../src/vl1/verbs/error.ts";
import { encodeNetworkConfigRequest } from "../../src/vl1/verbs/network_config.ts";
import { signConfigChunks } from "../../src/vl2/config_chunks.ts";
import { Dictionary } from "../../src/vl2/dictionary.ts";
import type { Identity } from "../../src/vl1/identity.ts";
import { encodeNetworkLocalConf, parseNetworkLocalConf } from "../../src/vl2/network_local_conf.ts";
import { type FrameHandler, Networks } from "../../src/vl2/networks.ts";
import { ACCEPT_ALL_FILTER, Frames } from "../../src/vl2/frames.ts";
import { macFromAddress } from "../../src/vl2/mac.ts";
import { FakeNode as DataPlaneFakeNode, recordedAt } from "./data_plane_helpers.ts";
import {
  capturePackets,
  FakeNode,
  lab,
  LAB_NET,
  lookupOf,
  MemHost,
  RULES_NET,
} from "./network_helpers.ts";

const A = lab("a");
const B = lab("b");
const C = lab("c");
const pinfo = (id = 1n) => ({ hops: 0, packetId: id, remote: undefined as never, localSocket: 0 });

function setup(me = A, known: Identity[] = [A, B, C]) {
  const node = new FakeNode(me);
  const host = new MemHost();
  const nets = new Networks({ node, host, lookupIdentity: lookupOf(...known) });
  return { node, host, nets };
}

Deno.test("networks: replaying a's recorded VL2 traffic reproduces its files, statuses and OK(NETWORK_CONFIG) replies", () => {
  const all = capturePackets();
  const { node, host, nets } = setup();
  const t0 = all[0].t;
  nets.join(t0, LAB_NET);
  nets.join(t0, RULES_NET);
  const seen = new Set<bigint>();
  const statuses: string[] = [];
  const a = A.address.value;
  for (const p of all) {
    if (p.dest !== a || seen.has(p.packetId)) continue;
    seen.add(p.packetId);
    nets.handle(p.t, new Address(p.source), p.verb, p.payload, {
      hops: p.hops,
      packetId: p.packetId,
      remote: p.remote,
      localSocket: 0,
    });
    const s = nets.get(RULES_NET)!.status;
    if (statuses.at(-1) !== s) statuses.push(s);
  }
  // rules_net: refused first (not yet authorized), then configured
  assert.deepEqual(statuses, ["REQUESTING_CONFIGURATION", "ACCESS_DENIED", "OK"]);
  assert.equal(nets.get(LAB_NET)!.status, "OK");
  for (const nwid of [LAB_NET, RULES_NET]) {
    const name = nwid.toString(16).padStart(16, "0");
    assert.equal(
      toHex(host.configs.get(nwid)!),
      toHex(fixtureBytes(`homes/a/networks.d/${name}.conf`)),
    );
  }
  // our OK(in-re ECHO) answers to the two NETWORK_CONFIG pushes equal what a sent
  const ours = node.of(Verb.OK).map((p) => toHex(p.payload));
  const recorded = all.filter((p) =>
    p.source === a && p.dest === C.address.value && p.verb === Verb.OK && p.payload[0] === Verb.ECHO
  ).map((p) => toHex(p.payload));
  assert.equal(recorded.length, 2);
  assert.deepEqual(ours, recorded);
  // b's credentials established trust
  assert.ok(node.trust.includes(B.address.value));
  assert.equal(nets.get(LAB_NET)!.gate(all.at(-1)!.t, B.address.value), true);
});

Deno.test("networks: controller ERRORs set NOT_FOUND / ACCESS_DENIED / AUTHENTICATION_REQUIRED; others' are ignored", () => {
  const { nets, host } = setup();
  const nw = nets.join(0, LAB_NET);
  const c = new Address(C.address.value);
  const b = new Address(B.address.value);
  const err = (code: number, inReVerb = Verb.NETWORK_CONFIG_REQUEST, errorData?: Uint8Array) =>
    encodeError({ inReVerb, inRePacketId: 5n, code, networkId: LAB_NET, errorData });
  nets.handle(1, b, Verb.ERROR, err(ErrorCode.NETWORK_ACCESS_DENIED), pinfo());
  assert.equal(nw.status, "REQUESTING_CONFIGURATION");
  nets.handle(2, c, Verb.ERROR, err(ErrorCode.OBJ_NOT_FOUND, Verb.FRAME), pinfo());
  assert.equal(nw.status, "REQUESTING_CONFIGURATION");
  nets.handle(3, c, Verb.ERROR, err(ErrorCode.OBJ_NOT_FOUND), pinfo());
  assert.equal(nw.status, "NOT_FOUND");
  nets.handle(4, c, Verb.ERROR, err(ErrorCode.NETWORK_ACCESS_DENIED), pinfo());
  assert.equal(nw.status, "ACCESS_DENIED");
  nets.handle(5, c, Verb.ERROR, err(ErrorCode.UNSUPPORTED_OPERATION), pinfo());
  assert.equal(nw.status, "NOT_FOUND");
  const sso = new Dictionary().addU64("aV", 0).addString("aU", "https://sso.example/x").encode();
  nets.handle(6, c, Verb.ERROR, err(ErrorCode.NETWORK_AUTHENTICATION_REQUIRED, 0x0b, sso), pinfo());
  assert.equal(nw.status, "AUTHENTICATION_REQUIRED");
  assert.equal(nw.info().sso?.authenticationUrl, "https://sso.example/x");
  // a config clears the refusal
  nw.applyConfiguration(7, fixtureBytes("homes/a/networks.d/5b1c20a311fca1ca.conf"), true);
  assert.equal(nw.status, "OK");
  assert.equal(nw.info().sso, undefined);
  const statuses = host.changes.filter(([n]) => n === LAB_NET).map(([, i]) => i!.status);
  assert.deepEqual(statuses, [
    "REQUESTING_CONFIGURATION",
    "NOT_FOUND",
    "ACCESS_DENIED",
    "NOT_FOUND",
    "AUTHENTICATION_REQUIRED",
    "OK",
  ]);
});

Deno.test("networks: NEED_MEMBERSHIP_CERTIFICATE pushes our credentials (1 s limit); a config request is refused with UNSUPPORTED_OPERATION", () => {
  const { node, nets } = setup();
  nets.join(0, LAB_NET, { storedConfig: fixtureBytes("homes/a/networks.d/5b1c20a311fca1ca.conf") });
  const b = new Address(B.address.value);
  const need = encodeError({
    inReVerb: Verb.FRAME,
    inRePacketId: 9n,
    code: ErrorCode.NEED_MEMBERSHIP_CERTIFICATE,
    networkId: LAB_NET,
  });
  nets.handle(10, b, Verb.ERROR, need, pinfo());
  nets.handle(500, b, Verb.ERROR, need, pinfo());
  nets.handle(1011, b, Verb.ERROR, need, pinfo());
  const pushes = node.of(Verb.NETWORK_CREDENTIALS);
  assert.deepEqual(pushes.map((p) => [p.dest, p.now]), [[b.value, 10], [b.value, 1011]]);

  const req = encodeNetworkConfigRequest({ networkId: LAB_NET, metadata: new Uint8Array(0) });
  nets.handle(20, b, Verb.NETWORK_CONFIG_REQUEST, req, pinfo(0x1234n));
  const e = decodeError(node.of(Verb.ERROR)[0].payload)!;
  assert.equal(e.code, ErrorCode.UNSUPPORTED_OPERATION);
  assert.equal(e.inRePacketId, 0x1234n);
  assert.equal(e.networkId, LAB_NET);
  // with an in-process controller hook, it gets the request instead
  let got: bigint | undefined;
  nets.configRequestHandler = (_now, _src, q) => {
    got = q.networkId;
    return true;
  };
  nets.handle(21, b, Verb.NETWORK_CONFIG_REQUEST, req, pinfo());
  assert.equal(got, LAB_NET);
  assert.equal(node.of(Verb.ERROR).length, 1);
});

Deno.test("networks: frames, multicast and other OK/ERROR go to the frame hook", () => {
  const { nets } = setup();
  nets.join(0, LAB_NET);
  const got: Verb[] = [];
  let ticks = 0;
  const fh: FrameHandler = {
    handle: (_n, _s, verb) => {
      got.push(verb);
    },
    tick: () => {
      ticks++;
    },
  };
  nets.frameHandler = fh;
  const b = new Address(B.address.value);
  for (const v of [Verb.FRAME, Verb.EXT_FRAME, Verb.MULTICAST_LIKE, Verb.MULTICAST_GATHER]) {
    nets.handle(1, b, v, new Uint8Array(20), pinfo());
  }
  nets.handle(
    1,
    b,
    Verb.OK,
    new Uint8Array([Verb.MULTICAST_GATHER, 0, 0, 0, 0, 0, 0, 0, 1]),
    pinfo(),
  );
  const unwanted = encodeError({
    inReVerb: Verb.MULTICAST_FRAME,
    inRePacketId: 1n,
    code: ErrorCode.UNWANTED_MULTICAST,
    networkId: LAB_NET,
    mac: 1,
    adi: 2,
  });
  nets.handle(1, b, Verb.ERROR, unwanted, pinfo());
  nets.tick(5);
  assert.deepEqual(got, [
    Verb.FRAME,
    Verb.EXT_FRAME,
    Verb.MULTICAST_LIKE,
    Verb.MULTICAST_GATHER,
    Verb.OK,
    Verb.ERROR,
  ]);
  assert.equal(ticks, 1);
});

Deno.test("networks: a config chunk whose controller is unknown waits for WHOIS and is applied once it is known", () => {
  const known: Identity[] = [A];
  const whois: number[] = [];
  const node = new FakeNode(A);
  const host = new MemHost();
  const nets = new Networks({
    node,
    host,
    lookupIdentity: (a) => known.find((i) => i.address.value === a),
    requestWhois: (_n, a) => whois.push(a),
  });
  const nw = nets.join(0, LAB_NET);
  const conf = fixtureBytes("homes/a/networks.d/5b1c20a311fca1ca.conf");
  const [chunk] = signConfigChunks(conf, LAB_NET, 77n, C);
  nets.handle(100, new Address(C.address.value), Verb.NETWORK_CONFIG, chunk, pinfo(42n));
  assert.deepEqual(whois, [C.address.value]);
  assert.equal(nw.status, "REQUESTING_CONFIGURATION");
  nets.tick(200);
  assert.equal(nw.status, "REQUESTING_CONFIGURATION");
  known.push(C);
  nets.tick(300);
  assert.equal(nw.status, "OK");
  assert.equal(node.of(Verb.OK).length, 1);
  // deferred packets expire after 5 s
  const { nets: n2 } = setup(A, [A]);
  const nw2 = n2.join(0, LAB_NET);
  n2.handle(100, new Address(C.address.value), Verb.NETWORK_CONFIG, chunk, pinfo(42n));
  n2.tick(6000);
  assert.equal(nw2.status, "REQUESTING_CONFIGURATION");
});

Deno.test("networks: join/leave manage files and notifications; local settings round-trip the reference file", () => {
  const { nets, host } = setup();
  nets.join(0, LAB_NET);
  nets.join(0, RULES_NET);
  assert.deepEqual(nets.list().map((n) => n.id), [RULES_NET, LAB_NET]);
  const ref = fixtureBytes("homes/a/networks.d/5b1c20a311fca1ca.local.conf");
  assert.equal(toHex(host.localConfs.get(LAB_NET)!), toHex(ref));
  assert.equal(toHex(encodeNetworkLocalConf(parseNetworkLocalConf(ref))), toHex(ref));
  const info = nets.setLocalConf(LAB_NET, { allowDNS: true, allowGlobal: true })!;
  assert.equal(info.localConf.allowDNS, true);
  assert.equal(
    new TextDecoder().decode(host.localConfs.get(LAB_NET)!),
    "allowManaged=1\nallowGlobal=1\nallowDefault=0\nallowDNS=1\n",
  );
  const wl = parseNetworkLocalConf(new TextEncoder().encode("allowManaged=10.0.0.0/8,fd00::/8\n"));
  assert.equal(wl.allowManaged, true);
  assert.deepEqual(wl.allowManagedWhitelist!.map(String), ["10.0.0.0/8", "fd00::/8"]);
  assert.equal(
    parseNetworkLocalConf(new TextEncoder().encode("allowManaged=0")).allowManaged,
    false,
  );
  assert.equal(nets.leave(1, LAB_NET), true);
  assert.equal(nets.leave(1, LAB_NET), false);
  assert.equal(host.configs.has(LAB_NET), false);
  assert.equal(host.localConfs.has(LAB_NET), false);
  assert.deepEqual(host.changes.at(-1), [LAB_NET, undefined]);
  assert.equal(nets.get(LAB_NET), undefined);
  // joining again is idempotent and never throws on junk input
  assert.equal(nets.join(2, RULES_NET), nets.get(RULES_NET));
  for (let i = 0; i < 200; i++) {
    const junk = new Uint8Array(i % 40).map((_, j) => (j * 31 + i) & 0xff);
    for (const v of [Verb.NETWORK_CONFIG, Verb.NETWORK_CREDENTIALS, Verb.OK, Verb.ERROR]) {
      nets.handle(3, new Address(B.address.value), v, junk, pinfo());
    }
  }
});

/** A fake node serving both Networks and Frames. */
class BothNode extends DataPlaneFakeNode {
  readonly identity: Identity;
  constructor(identity: Identity) {
    super(identity.address.value);
    this.identity = identity;
  }
  allowCredentials(): boolean {
    return true;
  }
}

Deno.test("networks: a frame held for missing credentials is delivered as soon as the sender's credentials are accepted", () => {
  const all = capturePackets();
  const creds = all.find((p) =>
    p.source === B.address.value && p.dest === A.address.value &&
    p.verb === Verb.NETWORK_CREDENTIALS
  )!;
  assert.ok(creds, "recorded b → a NETWORK_CREDENTIALS");
  const node = new BothNode(A);
  const nets = new Networks({ node, host: new MemHost(), lookupIdentity: lookupOf(A, B, C) });
  const nw = nets.join(creds.t - 1000, LAB_NET, {
    storedConfig: fixtureBytes("homes/a/networks.d/5b1c20a311fca1ca.conf"),
  });
  assert.equal(nw.status, "OK");
  const tapped: Uint8Array[] = [];
  const frames = new Frames({
    node,
    networks: nets,
    random: () => new Uint8Array(8),
    filter: ACCEPT_ALL_FILTER,
    tapWrite: (_n, f, s, e) => tapped.push(f.slice(s, e)),
  });
  nets.frameHandler = frames;
  const frame = recordedAt(162); // b → a FRAME (ARP reply)
  assert.equal(frame.verb, Verb.FRAME);
  const t = creds.t - 100;
  nets.handle(t, new Address(B.address.value), Verb.FRAME, frame.payload, pinfo(frame.packetId));
  assert.equal(frames.heldCount, 1, "gated: held for retry");
  assert.equal(tapped.length, 0);
  assert.equal(node.of(Verb.ERROR, B.address.value).length, 1, "NEED_MEMBERSHIP_CERTIFICATE");
  // while held, the tick asks to be called again within the 500 ms retry cadence
  const want = nets.tick(t + 50);
  assert.ok(want !== undefined && want > 0 && want <= 500, `tick delay ${want}`);
  // b's credentials arrive: the frame is delivered at once, without waiting for a tick
  nets.handle(creds.t, new Address(B.address.value), Verb.NETWORK_CREDENTIALS, creds.payload, {
    hops: creds.hops,
    packetId: creds.packetId,
    remote: creds.remote,
    localSocket: 0,
  });
  assert.equal(frames.heldCount, 0);
  assert.equal(tapped.length, 1, "delivered right after the credentials");
  const macA = macFromAddress(A.address.value, LAB_NET);
  const dst = tapped[0].subarray(0, 6).reduce((v, x) => v * 256 + x, 0);
  assert.equal(dst, macA);
  assert.equal(nets.tick(creds.t + 10), undefined, "nothing pending: no early tick wanted");
});

Deno.test("networks: credentials call frameHandler.retryHeld only when something new was accepted; tick delays propagate", () => {
  const creds = capturePackets().find((p) =>
    p.source === B.address.value && p.dest === A.address.value &&
    p.verb === Verb.NETWORK_CREDENTIALS
  )!;
  const { nets } = setup();
  nets.join(creds.t - 1000, LAB_NET, {
    storedConfig: fixtureBytes("homes/a/networks.d/5b1c20a311fca1ca.conf"),
  });
  let retries = 0;
  let want: number | undefined = 321;
  nets.frameHandler = { handle: () => false, tick: () => want, retryHeld: () => void retries++ };
  const inf = { hops: 0, packetId: creds.packetId, remote: creds.remote, localSocket: 0 };
  const b = new Address(B.address.value);
  nets.handle(creds.t, b, Verb.NETWORK_CREDENTIALS, creds.payload, inf);
  assert.equal(retries, 1);
  nets.handle(creds.t + 2000, b, Verb.NETWORK_CREDENTIALS, creds.payload, inf);
  assert.equal(retries, 1, "the same credentials again are redundant");
  assert.equal(nets.tick(creds.t + 3000), 321);
  want = undefined;
  assert.equal(nets.tick(creds.t + 3100), undefined);
  // a packet deferred for a missing identity asks for the 500 ms WHOIS cadence
  const { nets: n2 } = setup(A, [A]);
  n2.join(0, LAB_NET);
  const [chunk] = signConfigChunks(
    fixtureBytes("homes/a/networks.d/5b1c20a311fca1ca.conf"),
    LAB_NET,
    77n,
    C,
  );
  n2.handle(100, new Address(C.address.value), Verb.NETWORK_CONFIG, chunk, pinfo(42n));
  assert.equal(n2.tick(200), 500);
});

Deno.test("networks: a network of our own address is NOT_FOUND without a controller here, else asks it in process", () => {
  const { node, nets } = setup(C);
  const own = (BigInt(C.address.value) << 24n) | 0x000123n;
  const sentBefore = node.sent.length;
  nets.join(1000, own);
  assert.equal(nets.get(own)!.status, "NOT_FOUND");
  assert.equal(node.sent.length, sentBefore, "no NETWORK_CONFIG_REQUEST to ourselves");
  // with an in-process controller installed, the request goes to it (here: it refuses)
  const asked: bigint[] = [];
  nets.selfRequest = (now, nw) => {
    asked.push(nw.id);
    return nets.deliverFromSelf(now, { kind: "error", networkId: nw.id, failure: "ACCESS_DENIED" });
  };
  const own2 = own + 1n;
  nets.join(2000, own2);
  assert.deepEqual(asked, [own2]);
  assert.equal(nets.get(own2)!.status, "ACCESS_DENIED");
  assert.equal(node.sent.length, sentBefore);
  // deliveries for networks we do not control (or did not join) are refused
  assert.equal(
    nets.deliverFromSelf(3000, { kind: "error", networkId: RULES_NET, failure: "NOT_FOUND" }),
    false,
  );
  assert.equal(nets.deliverFromSelf(3000, { kind: "config", chunks: [new Uint8Array(4)] }), false);
});

Deno.test("networks: get() after leave and a new join never returns the network that was left", () => {
  const { nets } = setup();
  const first = nets.join(0, LAB_NET);
  assert.equal(nets.get(LAB_NET), first);
  assert.equal(nets.get(LAB_NET), first); // the repeated lookup (the frame path's) agrees
  assert.equal(nets.get(RULES_NET), undefined);
  assert.equal(nets.get(LAB_NET), first);
  assert.equal(nets.leave(1, LAB_NET), true);
  assert.equal(nets.get(LAB_NET), undefined);
  const second = nets.join(2, LAB_NET);
  assert.notEqual(second, first);
  assert.equal(nets.get(LAB_NET), second);
  const other = nets.join(3, RULES_NET);
  assert.equal(nets.get(RULES_NET), other);
  assert.equal(nets.get(LAB_NET), second);
  assert.equal(nets.leave(4, RULES_NET), true);
  assert.equal(nets.get(RULES_NET), undefined);
  assert.equal(nets.get(LAB_NET), second);
});
