// Test helpers for the VL2 network layer: lab identities, a fake node, a memory host, and the capture's VL2 packets.
import { fixtureText } from "../fixtures.ts";
import { parseHex } from "../../src/util/hex.ts";
import type { Address } from "../../src/vl1/address.ts";
import { dearmor } from "../../src/vl1/armor.ts";
import { uncompressPacket } from "../../src/vl1/compression.ts";
import { isFragment, Reassembler } from "../../src/vl1/fragment.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import {
  getDest,
  getHops,
  getPacketId,
  getSource,
  getVerb,
  IDX_PAYLOAD,
  isFragmented,
  MIN_PACKET_LENGTH,
  Verb,
} from "../../src/vl1/packet.ts";
import { PeerKeys } from "../../src/vl1/peer_keys.ts";
import type { NetworkInfo, NetworksHost, NetworksNode } from "../../src/vl2/networks.ts";

/** Lab network IDs (networks.json). */
export const LAB_NET = 0x5b1c20a311fca1can;
/** The rules network. */
export const RULES_NET = 0x5b1c20a311309832n;

/** A lab identity with its secret. */
export function lab(h: "a" | "b" | "c" | "r"): Identity {
  return Identity.fromString(fixtureText(`identities/${h}.secret`))!;
}

/** One packet sent through the fake node. */
export interface SentPacket {
  now: number;
  dest: number;
  verb: Verb;
  payload: Uint8Array;
  compress: boolean;
  encrypt: boolean;
  id: bigint;
}

/** A NetworksNode that records what it is asked to send. */
export class FakeNode implements NetworksNode {
  readonly identity: Identity;
  readonly sent: SentPacket[] = [];
  readonly trust: number[] = [];
  allowCreds = true;
  #id = 1n;

  constructor(identity: Identity) {
    this.identity = identity;
  }

  sendPacket(
    now: number,
    dest: Address,
    verb: Verb,
    payload: Uint8Array,
    opts?: { compress?: boolean; encrypt?: boolean },
  ): bigint {
    const id = this.#id++;
    this.sent.push({
      now,
      dest: dest.value,
      verb,
      payload: payload.slice(),
      compress: opts?.compress ?? false,
      encrypt: opts?.encrypt ?? true,
      id,
    });
    return id;
  }

  noteTrustEstablished(_now: number, source: Address): void {
    this.trust.push(source.value);
  }

  /** Internal exceptions reported by the code under test (a test expects none unless planted). */
  readonly internalErrors: { where: string; error: unknown }[] = [];

  internalError(where: string, error: unknown): void {
    this.internalErrors.push({ where, error });
  }

  allowCredentials(): boolean {
    return this.allowCreds;
  }

  /** Packets of one verb, and clears nothing. */
  of(verb: Verb): SentPacket[] {
    return this.sent.filter((p) => p.verb === verb);
  }
}

/** A NetworksHost keeping files in maps. */
export class MemHost implements NetworksHost {
  readonly configs = new Map<bigint, Uint8Array>();
  readonly localConfs = new Map<bigint, Uint8Array>();
  readonly changes: [bigint, NetworkInfo | undefined][] = [];

  saveConfig(nwid: bigint, bytes: Uint8Array | undefined): void {
    if (bytes) this.configs.set(nwid, bytes.slice());
    else this.configs.delete(nwid);
  }

  saveLocalConf(nwid: bigint, bytes: Uint8Array | undefined): void {
    if (bytes) this.localConfs.set(nwid, bytes.slice());
    else this.localConfs.delete(nwid);
  }

  onNetworkChanged(nwid: bigint, info: NetworkInfo | undefined): void {
    this.changes.push([nwid, info]);
  }
}

/** A lookup over a fixed identity list. */
export function lookupOf(...ids: Identity[]): (a: number) => Identity | undefined {
  return (a) => ids.find((i) => i.address.value === a);
}

/** One authenticated, decompressed packet of the capture. */
export interface CapturedPacket {
  /** Capture time, ms. */
  t: number;
  source: number;
  dest: number;
  verb: Verb;
  packetId: bigint;
  hops: number;
  /** Verb payload (a copy). */
  payload: Uint8Array;
  remote: InetAddress;
}

/** Every packet of the lab capture, decrypted (relayed copies included, hops > 0). */
export function capturePackets(): CapturedPacket[] {
  const ids = new Map<number, Identity>();
  for (const h of ["r", "c", "a", "b"] as const) {
    const id = lab(h);
    ids.set(id.address.value, id);
  }
  const out: CapturedPacket[] = [];
  const frags = new Map<string, Reassembler>();
  for (const line of fixtureText("captures/session.jsonl").split("\n")) {
    if (!line.trim()) continue;
    const d = JSON.parse(line) as { t: number; src: string; dst: string; hex: string };
    let b = parseHex(d.hex)!;
    const now = Math.round(d.t * 1000);
    if (b.length < MIN_PACKET_LENGTH && !isFragment(b)) continue;
    if (isFragment(b) || isFragmented(b)) {
      let r = frags.get(d.dst);
      if (!r) frags.set(d.dst, r = new Reassembler());
      const whole = isFragment(b) ? r.addFragment(now, b) : r.addHead(now, b);
      if (!whole) continue;
      b = whole;
    }
    const s = ids.get(getSource(b));
    const t = ids.get(getDest(b));
    if (!s || !t) continue;
    const packetId = getPacketId(b);
    const hops = getHops(b);
    if (!dearmor(b, b.length, new PeerKeys(s.agree(t)!))) continue;
    const p = uncompressPacket(b, b.length);
    if (!p) continue;
    const [ip, port] = d.src.split("/");
    out.push({
      t: now,
      source: s.address.value,
      dest: t.address.value,
      verb: getVerb(p),
      packetId,
      hops,
      payload: p.slice(IDX_PAYLOAD),
      remote: InetAddress.fromIp(ip, Number(port))!,
    });
  }
  return out;
}
