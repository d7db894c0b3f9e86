// Handling of one authenticated-or-not inbound packet addressed to us: authentication, WHOIS queueing and the VL1 verb handlers (spec §3.3, §4).
import { SOFTWARE_VERSION } from "../version.ts";
import { concatBytes } from "../util/bytes.ts";
import { dearmor, helloCryptField } from "./armor.ts";
import { uncompressPacket } from "./compression.ts";
import { Identity } from "./identity.ts";
import { identityKey } from "./identity_checks.ts";
import type { InetAddress } from "./inet_address.ts";
import type { Node } from "./node.ts";
import { PUSH_DIRECT_PATHS_MAX_PER_SCOPE_AND_FAMILY, trustedPathIdFor } from "./node_settings.ts";
import {
  Cipher,
  ErrorCode,
  FLAGS_HOPS_MASK,
  getCipher,
  getHops,
  getPacketId,
  getSource,
  getVerb,
  IDX_FLAGS,
  IDX_MAC,
  IDX_PAYLOAD,
  IDX_VERB,
  MIN_PROTO_VERSION,
  PROTO_VERSION,
  Verb,
  VERB_MASK,
} from "./packet.ts";
import type { Path } from "./path.ts";
import { Peer } from "./peer.ts";
import { PeerKeys } from "./peer_keys.ts";
import { decodeError, encodeError } from "./verbs/error.ts";
import { decodeHello, decodeOkHello, encodeOkHello, helloCryptFieldStart } from "./verbs/hello.ts";
import { decodeOk } from "./verbs/ok.ts";
import { encodeOkEcho } from "./verbs/echo.ts";
import { decodeOkWhois, decodeWhois, encodeOkWhois } from "./verbs/whois.ts";
import { decodeRendezvous } from "./verbs/rendezvous.ts";
import {
  decodePushDirectPaths,
  PUSH_PATH_FLAG_CLUSTER_REDIRECT,
  PUSH_PATH_FLAG_FORGET,
} from "./verbs/push_direct_paths.ts";
import { deserializeWorld } from "./world.ts";

/** Verbs handed to the upper layer (VL2). */
const VL2_VERBS = new Set<number>([
  Verb.FRAME,
  Verb.EXT_FRAME,
  Verb.MULTICAST_LIKE,
  Verb.NETWORK_CREDENTIALS,
  Verb.NETWORK_CONFIG_REQUEST,
  Verb.NETWORK_CONFIG,
  Verb.MULTICAST_GATHER,
  Verb.MULTICAST_FRAME,
]);

/** Verbs that keep a peer "active" (non-trivial traffic). */
const NONTRIVIAL = new Set<number>([
  Verb.FRAME,
  Verb.EXT_FRAME,
  Verb.NETWORK_CONFIG_REQUEST,
  Verb.NETWORK_CONFIG,
  Verb.MULTICAST_FRAME,
]);

/** Inbound packet handling for a Node. */
export class Incoming {
  readonly #node: Node;

  /** The handler set of `node`. */
  constructor(node: Node) {
    this.#node = node;
  }

  /**
   * Handles a whole (reassembled) packet addressed to us. `pkt` is modified in place. Unknown
   * sources are queued for WHOIS.
   */
  handle(now: number, localSocket: number, remote: InetAddress, pkt: Uint8Array): void {
    const node = this.#node;
    const len = pkt.length;
    if (len < IDX_PAYLOAD) return;
    const source = getSource(pkt);
    if (source === node.address.value || source === 0 || source >= 0xff_0000_0000) return;
    const cipher = getCipher(pkt);
    const rehearsal = node.rehearsing; // work without effects (Node.rehearse)
    if (cipher === Cipher.C25519_POLY1305_NONE && (pkt[IDX_VERB] & VERB_MASK) === Verb.HELLO) {
      if (rehearsal) return;
      node.counters.received(Verb.HELLO, source, undefined, len);
      this.#hello(now, localSocket, remote, pkt, false);
      return;
    }
    const peer = node.topology.getPeer(source);
    if (!peer) {
      if (rehearsal) return;
      node.whois.queueRx({ source, packet: pkt.slice(), localSocket, remote, created: now });
      node.switch.requestWhois(now, source);
      return;
    }
    let trusted = false;
    if (cipher === Cipher.NO_CRYPTO_TRUSTED_PATH) {
      if (rehearsal) return;
      const id = new DataView(pkt.buffer, pkt.byteOffset, len).getBigUint64(IDX_MAC);
      if (trustedPathIdFor(node.settings, remote) !== id) return;
      trusted = true;
    } else if (!dearmor(pkt, len, peer.keys)) {
      if (!rehearsal) node.counters.peerError(source);
      return;
    }
    if (!rehearsal && peer.isDuplicate(pkt)) return;
    // a direct, uncompressed FRAME: straight to the upper layer's fast path when it takes it
    if (
      pkt[IDX_VERB] === Verb.FRAME && (pkt[IDX_FLAGS] & FLAGS_HOPS_MASK) === 0 && !trusted &&
      node.fastFrame(now, peer, localSocket, remote, pkt)
    ) return;
    if (rehearsal) return;
    const p = uncompressPacket(pkt, len);
    if (!p) return;
    this.dispatch(now, localSocket, remote, peer, p, trusted);
  }

  /** Runs the verb handler for an authenticated, decompressed packet. */
  dispatch(
    now: number,
    localSocket: number,
    remote: InetAddress,
    peer: Peer,
    p: Uint8Array,
    trustedPath: boolean,
  ): void {
    const node = this.#node;
    const verb = getVerb(p);
    const hops = getHops(p);
    node.counters.received(
      verb,
      peer.identity.address.value,
      verb === Verb.ERROR ? p.subarray(IDX_PAYLOAD) : undefined,
      p.length,
    );
    const path = node.topology.getPath(localSocket, remote);
    let inReVerb = -1;
    switch (verb) {
      case Verb.HELLO:
        this.#hello(now, localSocket, remote, p, true, peer);
        return;
      case Verb.OK: {
        const r = this.#ok(now, path, peer, p, hops);
        if (r === undefined) return;
        inReVerb = r;
        break;
      }
      case Verb.ERROR:
        this.#error(now, peer, p, hops, remote, localSocket);
        break;
      case Verb.WHOIS:
        this.#whois(now, path, peer, p);
        break;
      case Verb.RENDEZVOUS:
        this.#rendezvous(now, peer, p);
        break;
      case Verb.ECHO:
        if (path.allowEcho(now)) {
          const data = p.subarray(IDX_PAYLOAD);
          const reply = encodeOkEcho({ inRePacketId: getPacketId(p), data });
          node.switch.sendVia(now, peer, localSocket, remote, Verb.OK, reply, { encrypt: true });
        }
        break;
      case Verb.PUSH_DIRECT_PATHS:
        this.#pushDirectPaths(now, path, peer, p);
        break;
      case Verb.USER_MESSAGE:
        if (p.length >= IDX_PAYLOAD + 8) {
          const typeId = new DataView(p.buffer, p.byteOffset, p.length).getBigUint64(IDX_PAYLOAD);
          node.host.event({
            type: "userMessage",
            source: peer.identity.address.toString(),
            typeId,
            payload: p.slice(IDX_PAYLOAD + 8),
          });
        }
        break;
      case Verb.REMOTE_TRACE:
        node.host.event({
          type: "remoteTrace",
          source: peer.identity.address.toString(),
          data: p.slice(IDX_PAYLOAD),
        });
        break;
      default:
        if (VL2_VERBS.has(verb)) node.toUpper(now, peer, verb, p, hops, localSocket, remote);
        break;
    }
    node.peerReceived(now, peer, path, hops, verb, inReVerb, trustedPath);
  }

  /** HELLO (spec §4.1): authenticate/learn the sender, answer OK(HELLO). */
  #hello(
    now: number,
    localSocket: number,
    remote: InetAddress,
    pkt: Uint8Array,
    authenticated: boolean,
    known?: Peer,
  ): void {
    const node = this.#node;
    const t = node.topology;
    const len = pkt.length;
    if (len < IDX_PAYLOAD + 13 + 71) return;
    if (pkt[IDX_PAYLOAD] < MIN_PROTO_VERSION) return;
    const cfStart = helloCryptFieldStart(pkt, IDX_PAYLOAD, len);
    if (cfStart === undefined) return;
    const idr = Identity.deserialize(pkt.subarray(0, len), IDX_PAYLOAD + 13);
    if (!idr) return;
    const identity = idr.identity;
    const source = getSource(pkt);
    if (identity.address.value !== source) return;
    let peer = known ?? t.getPeer(source);
    let isNew = false;
    if (peer && !peer.identity.equals(identity)) {
      // Address collision: answer only if the packet authenticates under the claimed identity.
      if (!node.identityGate.allow(now, remote)) return;
      if (!node.identityChecks.payAgreement(now)) return;
      const key = node.identity.agree(identity);
      if (!key) return;
      const keys = new PeerKeys(key);
      if (authenticated || !dearmor(pkt, len, keys)) return;
      const err = encodeError({
        inReVerb: Verb.HELLO,
        inRePacketId: getPacketId(pkt),
        code: ErrorCode.IDENTITY_COLLISION,
      });
      node.switch.sendVia(now, new Peer(identity, keys), localSocket, remote, Verb.ERROR, err, {
        encrypt: true,
      });
      return;
    }
    if (peer) {
      if (!authenticated) {
        if (!dearmor(pkt, len, peer.keys)) return;
        if (peer.isDuplicate(pkt)) return;
      }
    } else {
      if (authenticated) return;
      // Unknown sender: the costly checks run once per identity (results remembered, a failed
      // one is refused at once when replayed), per source /24 gate, within the CPU budget.
      const checks = node.identityChecks;
      const vk = identityKey(identity);
      const known = checks.known(vk);
      if (known === "invalid") return;
      if (known === undefined && !node.identityGate.allow(now, remote)) return;
      if (!checks.payAgreement(now)) return;
      const key = node.identity.agree(identity);
      if (!key) return;
      const keys = new PeerKeys(key);
      if (!dearmor(pkt, len, keys)) return;
      if (known === undefined && checks.validate(now, identity, vk) !== true) return;
      peer = t.addPeer(identity, keys);
      if (!peer) return;
      isNew = true;
      peer.isDuplicate(pkt);
    }
    if (cfStart < len) helloCryptField(pkt, cfStart, len, peer.keys);
    const h = decodeHello(pkt, IDX_PAYLOAD, len);
    if (!h) return;
    const hops = getHops(pkt);
    if (hops === 0 && h.destination) {
      node.iam(now, peer, localSocket, remote, h.destination);
    }
    const worlds: Uint8Array[] = [];
    const planet = t.planet;
    if (h.planetWorldId === planet.id && (h.planetWorldTimestamp ?? 0n) < planet.timestamp) {
      worlds.push(node.serializedWorld(planet));
    }
    for (const m of h.moons) {
      if (m.type !== 127) continue;
      const ours = t.moons.find((w) => w.id === m.worldId);
      if (ours && ours.timestamp > m.timestamp) worlds.push(node.serializedWorld(ours));
    }
    const wb = concatBytes(worlds);
    const reply = encodeOkHello({
      inRePacketId: getPacketId(pkt),
      timestamp: h.timestamp,
      protocolVersion: PROTO_VERSION,
      versionMajor: SOFTWARE_VERSION.major,
      versionMinor: SOFTWARE_VERSION.minor,
      versionRevision: SOFTWARE_VERSION.revision,
      physicalAddress: h.protocolVersion < 5 ? remote.withPort(0) : remote,
      worlds: wb,
    });
    // Quirk (§3.3): armored before the remote version is recorded, so a new peer gets cipher 1.
    node.switch.sendVia(now, peer, localSocket, remote, Verb.OK, reply, { encrypt: true });
    peer.setRemoteVersion(h.protocolVersion, h.versionMajor, h.versionMinor, h.versionRevision);
    node.peerReceived(now, peer, t.getPath(localSocket, remote), hops, Verb.HELLO, -1, false);
    if (isNew) node.peerLearned(now, peer);
  }

  /** OK: processed only when it answers something we sent. Returns the in-re verb or undefined. */
  #ok(now: number, path: Path, peer: Peer, p: Uint8Array, hops: number): number | undefined {
    const node = this.#node;
    const t = node.topology;
    const ok = decodeOk(p, IDX_PAYLOAD, p.length);
    if (!ok || !node.expecting.isExpected(ok.inRePacketId)) return undefined;
    const inRe = ok.inReVerb & VERB_MASK;
    const src = peer.identity.address.value;
    switch (inRe) {
      case Verb.HELLO: {
        const o = decodeOkHello(p, IDX_PAYLOAD, p.length);
        if (!o) return undefined;
        if (hops === 0) {
          const rtt = now - Number(o.timestamp);
          if (rtt >= 0 && rtt < 0xfffe) {
            peer.addLatency(rtt);
            path.updateLatency(rtt);
          }
        }
        peer.setRemoteVersion(o.protocolVersion, o.versionMajor, o.versionMinor, o.versionRevision);
        if (o.worlds.length > 0 && t.shouldAcceptWorldUpdateFrom(src)) {
          let off = 0;
          for (let i = 0; i < 8 && off < o.worlds.length; i++) {
            const d = deserializeWorld(o.worlds, off);
            if (!d) break;
            off += d.length;
            t.addWorld(d.world, false);
          }
        }
        if (hops === 0 && o.physicalAddress) {
          node.iam(now, peer, path.localSocket, path.address, o.physicalAddress);
        }
        break;
      }
      case Verb.WHOIS: {
        if (!t.isUpstream(src)) break;
        const w = decodeOkWhois(p, IDX_PAYLOAD, p.length);
        const id = w?.identities[0];
        if (id && id.address.value !== node.address.value) {
          const have = t.peers.get(id.address.value);
          if (have) node.peerLearned(now, have);
          else if (node.identityChecks.check(now, id) === true) {
            const np = t.addPeer(id);
            if (np) node.peerLearned(now, np);
          }
        }
        break;
      }
      case Verb.ECHO:
        if (!node.pingReply(now, ok.inRePacketId)) {
          node.toUpper(now, peer, Verb.OK, p, hops, path.localSocket, path.address);
        }
        break;
      default:
        node.toUpper(now, peer, Verb.OK, p, hops, path.localSocket, path.address);
        break;
    }
    return inRe;
  }

  /** ERROR: identity collision from an upstream is fatal; the rest go to VL2. */
  #error(
    now: number,
    peer: Peer,
    p: Uint8Array,
    hops: number,
    remote: InetAddress,
    localSocket: number,
  ): void {
    const node = this.#node;
    const e = decodeError(p, IDX_PAYLOAD, p.length);
    if (!e) return;
    if (e.code === ErrorCode.IDENTITY_COLLISION) {
      if (node.topology.isUpstream(peer.identity.address.value)) {
        node.host.event({ type: "fatalIdentityCollision" });
      }
      return;
    }
    node.toUpper(now, peer, Verb.ERROR, p, hops, localSocket, remote);
  }

  /** WHOIS: answer with the identities we know (roots without rate limit). */
  #whois(now: number, path: Path, peer: Peer, p: Uint8Array): void {
    const node = this.#node;
    const t = node.topology;
    if (!t.amUpstream && !peer.allowWhois(now)) return;
    const q = decodeWhois(p, IDX_PAYLOAD, p.length);
    if (!q) return;
    const ids: Identity[] = [];
    for (const a of q.addresses.slice(0, 64)) {
      if (a.value === node.address.value) {
        ids.push(node.identity);
        continue;
      }
      const k = t.getPeer(a.value);
      if (k) ids.push(k.identity);
      else if (!t.amUpstream) node.switch.requestWhois(now, a.value);
    }
    if (ids.length === 0) return;
    const reply = encodeOkWhois({ inRePacketId: getPacketId(p), identities: ids });
    node.switch.sendVia(now, peer, path.localSocket, path.address, Verb.OK, reply, {
      encrypt: true,
    });
  }

  /**
   * RENDEZVOUS from an upstream: punch (TTL-2 junk) and contact the peer there. If the peer is
   * not known yet, WHOIS it and act when its identity arrives (see `Node.peerLearned`).
   */
  #rendezvous(now: number, peer: Peer, p: Uint8Array): void {
    const node = this.#node;
    if (!node.topology.isUpstream(peer.identity.address.value)) return;
    const r = decodeRendezvous(p, IDX_PAYLOAD, p.length);
    if (!r || r.endpoint.port === 0) return;
    const a = r.peer.value;
    if (a === node.address.value || a === 0 || a >= 0xff_0000_0000) return;
    const other = node.topology.getPeer(a);
    if (!other) {
      node.rendezvous.add({ peer: a, endpoint: r.endpoint, created: now });
      node.switch.requestWhois(now, a);
      return;
    }
    node.switch.punchAndContact(now, other, r.endpoint);
  }

  /** PUSH_DIRECT_PATHS: rate-limited; contact each new usable address (<= 8 per scope/family). */
  #pushDirectPaths(now: number, path: Path, peer: Peer, p: Uint8Array): void {
    const node = this.#node;
    if (!peer.allowDirectPathPush(now)) return;
    const d = decodePushDirectPaths(p, IDX_PAYLOAD, p.length);
    if (!d) return;
    const counts = new Map<string, number>();
    for (const e of d.paths.slice(0, 256)) {
      if ((e.flags & PUSH_PATH_FLAG_FORGET) !== 0) continue;
      const redirect = (e.flags & PUSH_PATH_FLAG_CLUSTER_REDIRECT) !== 0;
      if (!redirect && peer.hasActivePathTo(now, e.address.key())) continue;
      if (!node.shouldUsePath(peer.identity.address.value, path.localSocket, e.address)) continue;
      const k = `${e.address.family}/${e.address.scope()}`;
      const c = (counts.get(k) ?? 0) + 1;
      counts.set(k, c);
      if (c > PUSH_DIRECT_PATHS_MAX_PER_SCOPE_AND_FAMILY) continue;
      node.switch.attemptToContactAt(now, peer, path.localSocket, e.address, redirect);
    }
  }
}

/** Whether a verb counts as non-trivial traffic (keeps the peer active). */
export function isNontrivialVerb(verb: number): boolean {
  return NONTRIVIAL.has(verb);
}
