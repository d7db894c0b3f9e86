// Test helpers for the data plane: fake node and networks, the lab configs and the recorded frame payloads.
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import { parseCaptureJsonl } from "../../src/vl1/capture_jsonl.ts";
import { Address } from "../../src/vl1/address.ts";
import { dissect } from "../../src/vl1/dissect.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { IDX_PAYLOAD, Verb } from "../../src/vl1/packet.ts";
import type { World } from "../../src/vl1/world.ts";
import type { CertificateOfMembership } from "../../src/vl2/credentials/com.ts";
import type {
  DataPlaneNetwork,
  DataPlaneNetworks,
  DataPlaneNode,
  PacketInfo,
} from "../../src/vl2/frames.ts";
import { macFromAddress } from "../../src/vl2/mac.ts";
import { type NetworkConfig, parseNetworkConfig } from "../../src/vl2/network_config.ts";
export { seededRandom } from "../helpers/seeded_random.ts";

/** The lab network and nodes (fixtures README): root r, controller c, members a and b. */
export const NWID = 0x5b1c20a311fca1can;
export const R = 0x8fc24dde94;
export const C = 0x5b1c20a311;
export const A = 0x98bec71608;
export const B = 0xbeccf08a89;

/** A lab node's stored config for the lab network. */
export function labConfig(h: "a" | "b"): NetworkConfig {
  const nc = parseNetworkConfig(fixtureBytes(`homes/${h}/networks.d/5b1c20a311fca1ca.conf`));
  if (!nc) throw new Error(`config of ${h}`);
  return nc;
}

/** One recorded, authenticated packet: sender, receiver, verb, packet ID and verb payload. */
export interface RecordedPacket {
  index: number;
  source: number;
  dest: number;
  hops: number;
  verb: number;
  packetId: bigint;
  payload: Uint8Array;
}

let recorded: RecordedPacket[] | undefined;

/** All authenticated packets of the recorded session (decrypted with the lab secrets). */
export function recordedPackets(): RecordedPacket[] {
  if (recorded) return recorded;
  const ids = ["r", "c", "a", "b"].map((h) =>
    Identity.fromString(fixtureText(`identities/${h}.secret`))!
  );
  const cap = parseCaptureJsonl(fixtureText("captures/session.jsonl"));
  if (!cap.ok) throw new Error("capture");
  const out: RecordedPacket[] = [];
  for (const x of dissect(cap.datagrams, ids)) {
    const p = x.plaintext;
    if (!p || x.verdict !== "ok") continue;
    out.push({
      index: x.index,
      source: parseInt(x.source!, 16),
      dest: parseInt(x.destination!, 16),
      hops: x.hops ?? 0,
      verb: p[27] & 0x1f,
      packetId: BigInt("0x" + x.packetId!),
      payload: p.slice(IDX_PAYLOAD),
    });
  }
  recorded = out;
  return out;
}

/** The recorded packet at capture index `i`. */
export function recordedAt(i: number): RecordedPacket {
  const p = recordedPackets().find((x) => x.index === i);
  if (!p) throw new Error(`no recorded packet #${i}`);
  return p;
}

/** One packet a {@link FakeNode} was asked to send. */
export interface SentPacket {
  dest: number;
  verb: Verb;
  payload: Uint8Array;
  compress: boolean;
}

/** A VL1 node stand-in: records sends and trust notes. */
export class FakeNode implements DataPlaneNode {
  readonly address: Address;
  readonly sent: SentPacket[] = [];
  readonly trust: number[] = [];
  root = false;
  roots: number[];
  latency = new Map<number, number>();
  #id = 0x1000n;

  constructor(address: number, roots: number[] = [R]) {
    this.address = new Address(address);
    this.roots = roots;
  }

  sendPacket(
    _now: number,
    dest: Address,
    verb: Verb,
    payload: Uint8Array,
    opts?: { compress?: boolean; encrypt?: boolean },
  ): bigint | undefined {
    this.sent.push({
      dest: dest.value,
      verb,
      payload: payload.slice(),
      compress: !!opts?.compress,
    });
    return this.#id++;
  }

  noteTrustEstablished(_now: number, source: Address): void {
    this.trust.push(source.value);
  }

  /** Internal exceptions reported by the code under test (a test expects none unless planted). */
  readonly internalErrors: { where: string; error: unknown }[] = [];

  internalError(where: string, error: unknown): void {
    this.internalErrors.push({ where, error });
  }

  isRoot(): boolean {
    return this.root;
  }

  planet(): World {
    return {
      roots: this.roots.map((a) => ({
        identity: { address: new Address(a) },
        stableEndpoints: [],
      })),
    } as unknown as World;
  }

  moons(): World[] {
    return [];
  }

  peer(addr: Address): { latency: number } | undefined {
    const l = this.latency.get(addr.value);
    return l === undefined ? undefined : { latency: l };
  }

  /** Sends of one verb, optionally to one destination. */
  of(verb: Verb, dest?: number): SentPacket[] {
    return this.sent.filter((s) => s.verb === verb && (dest === undefined || s.dest === dest));
  }
}

/** A joined network stand-in whose gate admits the addresses in {@link allowed}. */
export class FakeNet implements DataPlaneNetwork {
  readonly id: bigint;
  readonly controller: number;
  readonly mac: number;
  config: NetworkConfig | undefined;
  readonly allowed = new Set<number>();
  readonly pushes: number[] = [];
  readonly coms: CertificateOfMembership[] = [];

  constructor(id: bigint, me: number, config: NetworkConfig | undefined) {
    this.id = id;
    this.controller = Number(id >> 24n);
    this.mac = macFromAddress(me, id);
    this.config = config;
  }

  gate(_now: number, peer: number): boolean {
    return this.config !== undefined && this.allowed.has(peer);
  }

  pushCredentials(_now: number, to: number): boolean {
    this.pushes.push(to);
    return true;
  }

  addCom(_now: number, com: CertificateOfMembership): void {
    this.coms.push(com);
  }
}

/** A network table of fakes. */
export class FakeNets implements DataPlaneNetworks {
  readonly map = new Map<bigint, FakeNet>();

  add(n: FakeNet): FakeNet {
    this.map.set(n.id, n);
    return n;
  }

  get(nwid: bigint): FakeNet | undefined {
    return this.map.get(nwid);
  }

  list(): FakeNet[] {
    return [...this.map.values()];
  }
}

/** Packet info for a packet with `packetId`. */
export function info(packetId: bigint): PacketInfo {
  return { hops: 0, packetId, remote: InetAddress.parse("198.18.0.9/9993")!, localSocket: 1 };
}

/** A tap frame `dst | src | ethertype | payload`. */
export function ethFrame(dst: number, src: number, etherType: number, payload: Uint8Array) {
  const f = new Uint8Array(14 + payload.length);
  const w = (mac: number, o: number) => {
    let v = mac;
    for (let i = 5; i >= 0; i--) {
      f[o + i] = v % 256;
      v = Math.floor(v / 256);
    }
  };
  w(dst, 0);
  w(src, 6);
  f[12] = etherType >> 8;
  f[13] = etherType & 0xff;
  f.set(payload, 14);
  return f;
}
