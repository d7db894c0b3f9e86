// Test helper for the flood tests: a victim node with recorded sends, and hostile peers that build real armored packets for it.
import { c25519Generate } from "../../src/crypto/c25519.ts";
import { Random } from "../../src/sim/random.ts";
import { Address } from "../../src/vl1/address.ts";
import { armor, dearmor, helloCryptField } from "../../src/vl1/armor.ts";
import { uncompressPacket } from "../../src/vl1/compression.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { Node, type NodeSettings } from "../../src/vl1/node.ts";
import type { NodeHost } from "../../src/vl1/node_host.ts";
import {
  Cipher,
  getDest,
  getPacketId,
  getVerb,
  IDX_PAYLOAD,
  PROTO_VERSION,
  Verb,
  writeHeader,
} from "../../src/vl1/packet.ts";
import { PeerKeys } from "../../src/vl1/peer_keys.ts";
import { encodeHello, encodeOkHello } from "../../src/vl1/verbs/hello.ts";
import { signWorld, type World, WorldType } from "../../src/vl1/world.ts";

/**
 * Four valid identities (with private keys), generated once by
 * `makeIdentities("reliability", 4)` of tests/sim/node_harness.ts and kept here so that the
 * floods do not spend seconds on proof of work.
 */
export const VALID = [
  "4df3fe1590:0:60bf9b88fe3406635edf0307e67d083d5e5ee0c1fa211e3d88ee684ba21c383a6646e703130dedaa2d11528b9599f92b02cd3174b7710e79816e54f15d87d4f7:c77ba7954d1305ec8c5e5588f6a93cb5916cf774b8676ca6af19778f9caf2f26b1cade5391800124926af77ddc5caf2c27f487e86b9f089ec28a4e852ea7ce6a",
  "b4db9646bb:0:eaedd3e2d3d584341f6f766b872a9be3aec704ce8154a13058a7d1f6fa5bc72a4abf43ecc7233504cac74b05a0c27ae5f6f1d209be0848b23f00a495e9c00976:048a4c2dc9636419888efc2b5bc3abe5341005f70b52f8fd97e4147d923be2c216d5fe09b11999ef0ec763368982d091950114a14f358bab0af25192d31634d9",
  "49f506d0e7:0:dfd6c5804077088f956376816091e62b869c70285246f229ae03b9f4419b8b4fbfd9c4e5598b48c661c48c7e5dcd123f4d56f3f30518c5d99dcf0fec49db1f30:fa20cfb91fbb1ea37177550e0beb18e927242c08b5d38f6d4486d17c05f73b5aa0b8b909e36624b8aeaded5695d760ebfaf5f0eae84c201cbcbeb456a386239e",
  "9ca3e5564a:0:73e6899a9e907e390dcd6dc4170b8e90bde672493727529b50f634f4f28789461b4ab2cd5b078a09f96a0cacd458a0b888adc3f49ae86a4381ad5ee84b5ddc9b:b7ea6425fe35d2567029ef1d37dd706b285543fb0c90b4f02f9450875152b59a4f38348abb157f98c0ac526d3b7f3720f07fd41611afc9d75cbdde4ed7108104",
].map((s) => Identity.fromString(s)!);

/** A one-root planet (lab addresses) naming `root` at `endpoint`. */
export function labPlanet(root: Identity, endpoint = "198.18.0.1/9993"): World {
  const { publicKey, privateKey } = c25519Generate(new Random("reliability-planet").source());
  return signWorld(
    {
      type: WorldType.PLANET,
      id: 7n,
      timestamp: 1000n,
      updatesMustBeSignedBy: publicKey,
      roots: [{
        identity: new Identity(root.address, root.publicKey),
        stableEndpoints: [InetAddress.parse(endpoint)!],
      }],
    },
    privateKey,
    publicKey,
  );
}

/** A datagram the victim sent. */
export interface Sent {
  to: InetAddress;
  data: Uint8Array;
}

/** A node under attack: its sends are recorded (the last 4,096) for checking answers. */
export class Victim {
  readonly node: Node;
  readonly sent: Sent[] = [];
  now: number;

  constructor(identity: Identity, planet: World, now: number, settings?: Partial<NodeSettings>) {
    this.now = now;
    const rnd = new Random(`victim-${identity.address}`);
    const store = new Map<string, Uint8Array>();
    const host: NodeHost = {
      send: (_s, to, data) => {
        if (this.sent.length >= 4096) this.sent.splice(0, 2048);
        this.sent.push({ to, data: data.slice() });
        return true;
      },
      random: (n) => rnd.bytes(n),
      storePut: (k, id, d) => {
        if (d) store.set(`${k}/${id}`, d.slice());
        else store.delete(`${k}/${id}`);
      },
      storeGet: (k, id) => store.get(`${k}/${id}`),
      event: () => {},
    };
    this.node = new Node({
      identity,
      host,
      now,
      planet,
      settings: { allowLoopbackPaths: true, ...settings },
    });
  }

  /** Delivers one datagram at the current time (advanced by `step` ms first). */
  deliver(from: InetAddress, data: Uint8Array, step = 0): void {
    this.now += step;
    this.node.receive(this.now, 0, from, data);
  }

  /** Runs the node's background work at the current time. */
  tick(): void {
    this.node.tick(this.now);
  }

  /** Forgets recorded sends. */
  clearSent(): void {
    this.sent.length = 0;
  }
}

/**
 * A peer talking to one victim: its identity (any, valid or not), the session key both derive,
 * and a counter for unique packet IDs. Builds real armored packets as a node would send them.
 */
export class Talker {
  readonly identity: Identity;
  readonly keys: PeerKeys;
  readonly #victim: Identity;
  #id = 0;
  readonly #idBytes = new Uint8Array(8);
  readonly #buf = new Uint8Array(10_100);
  readonly #tag: number;

  /** `keys` may be passed when several talkers share one key pair (agreement done once). */
  constructor(identity: Identity, victim: Identity, tag = 0, keys?: PeerKeys) {
    this.identity = identity;
    this.#victim = victim;
    this.keys = keys ?? new PeerKeys(identity.agree(victim)!);
    this.#tag = tag >>> 0;
  }

  /** A fresh packet ID (unique per talker; the tag keeps talkers apart). */
  #nextId(): Uint8Array {
    this.#id++;
    const v = new DataView(this.#idBytes.buffer);
    v.setUint32(0, this.#tag);
    v.setUint32(4, this.#id);
    return this.#idBytes;
  }

  /** An encrypted (cipher 1) packet of `verb` with `payload` to the victim. */
  packet(verb: Verb, payload: Uint8Array): Uint8Array {
    const b = this.#buf;
    writeHeader(b, this.#nextId(), this.#victim.address.value, this.identity.address.value, verb);
    b.set(payload, IDX_PAYLOAD);
    const len = IDX_PAYLOAD + payload.length;
    armor(b, len, this.keys, Cipher.C25519_POLY1305_SALSA2012);
    return b.slice(0, len);
  }

  /** A HELLO (cipher 0, as nodes send it) naming `sentTo` as where it was sent. */
  hello(now: number, sentTo?: InetAddress, planet?: World): Uint8Array {
    const h = encodeHello({
      protocolVersion: PROTO_VERSION,
      versionMajor: 1,
      versionMinor: 14,
      versionRevision: 1,
      timestamp: BigInt(Math.floor(now)),
      identity: new Identity(this.identity.address, this.identity.publicKey),
      destination: sentTo,
      planetWorldId: planet?.id,
      planetWorldTimestamp: planet?.timestamp,
      moons: [],
    });
    const b = this.#buf;
    const id = this.#nextId();
    writeHeader(b, id, this.#victim.address.value, this.identity.address.value, Verb.HELLO);
    b.set(h.payload, IDX_PAYLOAD);
    const len = IDX_PAYLOAD + h.payload.length;
    helloCryptField(b, IDX_PAYLOAD + h.cryptFieldStart, len, this.keys);
    armor(b, len, this.keys, Cipher.C25519_POLY1305_NONE);
    return b.slice(0, len);
  }

  /**
   * The victim's answers to us among `sent` (decrypted): verb, in-re verb (OK/ERROR), payload.
   */
  answers(sent: readonly Sent[]): { verb: number; inReVerb: number; payload: Uint8Array }[] {
    const out: { verb: number; inReVerb: number; payload: Uint8Array }[] = [];
    for (const s of sent) {
      if (s.data.length < IDX_PAYLOAD || getDest(s.data) !== this.identity.address.value) continue;
      const raw = s.data.slice();
      if (!dearmor(raw, raw.length, this.keys)) continue;
      const d = uncompressPacket(raw, raw.length);
      if (!d) continue;
      const verb = getVerb(d);
      out.push({
        verb,
        inReVerb: verb === Verb.OK || verb === Verb.ERROR ? d[IDX_PAYLOAD] & 0x1f : -1,
        payload: d.slice(IDX_PAYLOAD),
      });
    }
    return out;
  }

  /**
   * Answers the victim's HELLOs to us among `sent` with OK(HELLO) (built packets to deliver),
   * which confirms the path they came over (the victim learns a new path only then).
   */
  okHellos(sent: readonly Sent[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const s of sent) {
      if (s.data.length < IDX_PAYLOAD || getDest(s.data) !== this.identity.address.value) continue;
      const d = s.data.slice();
      if (!dearmor(d, d.length, this.keys) || getVerb(d) !== Verb.HELLO) continue;
      const ts = new DataView(d.buffer, d.byteOffset + IDX_PAYLOAD + 5, 8).getBigUint64(0);
      out.push(this.packet(
        Verb.OK,
        encodeOkHello({
          inRePacketId: getPacketId(d),
          timestamp: ts,
          protocolVersion: PROTO_VERSION,
          versionMajor: 1,
          versionMinor: 14,
          versionRevision: 1,
          worlds: new Uint8Array(0),
        }),
      ));
    }
    return out;
  }

  /** The packet ID of a built packet (what the answer refers to). */
  static idOf(pkt: Uint8Array): bigint {
    return getPacketId(pkt);
  }
}

/**
 * `n` key pairs with made-up addresses: identities whose proof of work fails (cheap to make, as
 * an attacker's are). Varying the address of one key pair gives more such identities.
 */
export function badKeyPairs(seed: string, n: number): Identity[] {
  const rnd = new Random(seed);
  const out: Identity[] = [];
  for (let i = 0; i < n; i++) {
    const { publicKey, privateKey } = c25519Generate(rnd.source());
    out.push(new Identity(new Address(0x10_0000_0000 + rnd.nextU32()), publicKey, privateKey));
  }
  return out;
}

/** The same key pair under another address (still failing its proof of work). */
export function withAddress(id: Identity, address: number): Identity {
  return new Identity(new Address(address), id.publicKey, id.privateKey);
}

/** A lab source address: 198.18.`net24 mod 256`.`host` (256 distinct /24s). */
export function sourceIn24(net24: number, host: number, port = 9993): InetAddress {
  return InetAddress.fromIp(`198.18.${net24 & 0xff}.${1 + (host % 254)}`, port)!;
}

/** Heap in use now (MB, one decimal) after a best-effort GC when exposed. */
export function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round(Deno.memoryUsage().heapUsed / 1e5) / 10;
}
