// The packet switch: building, armoring, fragmenting and sending packets; relaying; RENDEZVOUS introductions; WHOIS (spec §3.5, §3.7, §9.4).
import { armor, helloCryptField } from "./armor.ts";
import { compressPacket } from "./compression.ts";
import {
  evenPieceSize,
  FRAG_IDX_HOPS,
  FRAGMENT_HEADER_LENGTH,
  incrementFragmentHops,
  MAX_PACKET_FRAGMENTS,
  pieceCount,
  writeFragment,
} from "./fragment.ts";
import type { InetAddress } from "./inet_address.ts";
import type { Node } from "./node.ts";
import { mtuFor, RELAY_MAX_HOPS, trustedPathIdFor } from "./node_settings.ts";
import {
  Cipher,
  getHops,
  getPacketId,
  IDX_MAC,
  IDX_PAYLOAD,
  incrementHops,
  MAX_PACKET_LENGTH,
  PROTO_VERSION,
  setCipher,
  setFragmented,
  Verb,
  writeHeader,
} from "./packet.ts";
import type { Path } from "./path.ts";
import type { Peer } from "./peer.ts";
import { encodeHello } from "./verbs/hello.ts";
import { encodeRendezvous } from "./verbs/rendezvous.ts";
import { encodeWhois } from "./verbs/whois.ts";
import { FRAME_HEADER_LENGTH, writeFrameHeader } from "./verbs/frame.ts";
import { Address } from "./address.ts";
import { SOFTWARE_VERSION } from "../version.ts";

/** The payload counted for a packet built in place (only ERROR payloads are read). */
const NO_PAYLOAD = new Uint8Array(0);
/** How {@link Switch.sendFrame} sends. */
const SEND_FRAME: SendOptions = { encrypt: true };

/** Returned as the "packet ID" of a sent packet when {@link SendOptions.packetId} is false. */
export const ID_NOT_COMPUTED = 0n;

/** Options for one send. */
export interface SendOptions {
  /** Encrypt (cipher 1 or 3); false = cipher 0 (MAC only). */
  encrypt: boolean;
  /**
   * false: the caller ignores the packet ID, so {@link Switch.sendVia} returns
   * {@link ID_NOT_COMPUTED} instead of building a bigint per packet (the frame path).
   */
  packetId?: boolean;
  /** Try LZ4 compression of the payload. */
  compress?: boolean;
  /** HELLO only: offset (in the payload) of the cryptField section. */
  cryptFieldStart?: number;
}

/** Sending and relaying for a Node. */
export class Switch {
  readonly #node: Node;
  /**
   * The packet being built and its fragments: reused for every send (the host's `send` copies
   * or consumes the datagram before returning; sending never re-enters `sendVia`).
   */
  readonly #pkt = new Uint8Array(MAX_PACKET_LENGTH);
  readonly #frag = new Uint8Array(MAX_PACKET_LENGTH + FRAGMENT_HEADER_LENGTH);
  /**
   * The next packet ID (big-endian): a counter started at a random value, so IDs (which are
   * also the cipher IVs) never repeat within a run and no per-packet randomness is needed.
   */
  #nextId: Uint8Array | undefined;

  /** The switch of `node`. */
  constructor(node: Node) {
    this.#node = node;
  }

  /** A fresh packet ID (valid until the next call). */
  #packetId(): Uint8Array {
    let id = this.#nextId;
    if (id === undefined) id = this.#nextId = this.#node.host.random(8).slice(0, 8);
    for (let i = 7; i >= 0; i--) {
      id[i] = (id[i] + 1) & 0xff;
      if (id[i] !== 0) break;
    }
    return id;
  }

  /**
   * Sends raw bytes on a physical path; updates the path's send time (`path`: that path's object,
   * when the caller has it, saves looking it up).
   */
  sendRaw(
    now: number,
    localSocket: number,
    remote: InetAddress,
    data: Uint8Array,
    ttl?: number,
    path?: Path,
  ) {
    const ok = this.#node.host.send(localSocket, remote, data, ttl);
    this.#node.counters.sentBytes(data.length);
    (path ?? this.#node.topology.findPath(localSocket, remote))?.sent(now);
    return ok;
  }

  /**
   * Builds a packet for `peer` (header, verb, payload), compresses, armors for `peer` (cipher 0,
   * 1 or 3 per §3.3 - 3 only with the `cipher: "aes"` setting -, or 2 on a trusted physical
   * network), fragments for the MTU of `remote` and
   * sends it there. Records the post-armor packet ID as expecting a reply. Returns that ID, or
   * undefined if the packet is too large.
   */
  sendVia(
    now: number,
    peer: Peer,
    localSocket: number,
    remote: InetAddress,
    verb: Verb,
    payload: Uint8Array,
    opts: SendOptions,
  ): bigint | undefined {
    const node = this.#node;
    let len = IDX_PAYLOAD + payload.length;
    if (len > MAX_PACKET_LENGTH) return undefined;
    const pkt = this.#pkt;
    writeHeader(pkt, this.#packetId(), peer.identity.address.value, node.address.value, verb);
    pkt.set(payload, IDX_PAYLOAD);
    if (opts.compress) len = compressPacket(pkt, len);
    if (opts.cryptFieldStart !== undefined) {
      helloCryptField(pkt, IDX_PAYLOAD + opts.cryptFieldStart, len, peer.keys);
    }
    if (!this.#finish(now, peer, localSocket, remote, verb, payload, len, opts)) return undefined;
    return opts.packetId === false ? ID_NOT_COMPUTED : getPacketId(pkt);
  }

  /**
   * FRAME fast path: sends FRAME(`nwid`, `etherType`, `frame[start..end)`) to peer `dest` over
   * its best direct path, built in place (the frame copied once, no payload buffer). Returns
   * false, with nothing sent, when the peer is unknown or has no direct path (use {@link send}).
   */
  sendFrame(
    now: number,
    dest: number,
    nwid: bigint,
    etherType: number,
    frame: Uint8Array,
    start: number,
    end: number,
  ): boolean {
    const node = this.#node;
    const peer = node.topology.peers.get(dest);
    if (peer === undefined) return false;
    const path = peer.bestPath(now);
    if (path === undefined) return false;
    const len = IDX_PAYLOAD + FRAME_HEADER_LENGTH + end - start;
    if (len > MAX_PACKET_LENGTH || start > end) return false;
    const pkt = this.#pkt;
    writeHeader(pkt, this.#packetId(), dest, node.address.value, Verb.FRAME);
    writeFrameHeader(pkt, IDX_PAYLOAD, nwid, etherType);
    pkt.set(frame.subarray(start, end), IDX_PAYLOAD + FRAME_HEADER_LENGTH);
    return this.#finish(
      now,
      peer,
      path.localSocket,
      path.address,
      Verb.FRAME,
      NO_PAYLOAD,
      len,
      SEND_FRAME,
      path,
    );
  }

  /**
   * The packet in {@link #pkt} (header, verb and payload written, `len` bytes): armors it for
   * `peer`, fragments it for the MTU of `remote`, sends it there and counts it. False if it needs
   * more fragments than allowed.
   */
  #finish(
    now: number,
    peer: Peer,
    localSocket: number,
    remote: InetAddress,
    verb: Verb,
    payload: Uint8Array,
    len: number,
    opts: SendOptions,
    path?: Path,
  ): boolean {
    const node = this.#node;
    const pkt = this.#pkt;
    const mtu = mtuFor(node.settings, remote);
    const tpid = trustedPathIdFor(node.settings, remote);
    const pieces = pieceCount(len, mtu);
    if (pieces > MAX_PACKET_FRAGMENTS) return false;
    if (len > mtu) setFragmented(pkt, true);
    if (tpid !== undefined) {
      setCipher(pkt, Cipher.NO_CRYPTO_TRUSTED_PATH);
      new DataView(pkt.buffer).setBigUint64(IDX_MAC, tpid);
    } else {
      const aes = peer.aesSupported && node.settings.cipher === "aes";
      armor(pkt, len, peer.keys, opts.encrypt ? (aes ? 3 : 1) : 0);
      if (!node.rehearsing) node.expecting.expect(pkt);
    }
    const piece = evenPieceSize(len, mtu); // equal datagrams: the transport can batch them (GSO)
    if (node.rehearsing) {
      // Node.rehearse: built, armored and through the transport's code, never sent or counted
      node.host.rehearseSend?.(localSocket, remote, pkt.subarray(0, Math.min(len, piece)));
      return true;
    }
    this.sendRaw(now, localSocket, remote, pkt.subarray(0, Math.min(len, piece)), undefined, path);
    for (let no = 1; no < pieces; no++) {
      const n = writeFragment(pkt, len, piece, no, this.#frag);
      if (n > 0) this.sendRaw(now, localSocket, remote, this.#frag.subarray(0, n), undefined, path);
    }
    node.counters.sent(verb, peer.identity.address.value, payload, len);
    peer.lastSend = now;
    return true;
  }

  /**
   * Sends to `peer` over its best direct path, else through the best upstream, else over an
   * expired path, else (for upstreams) to a stable endpoint. Returns the wire packet ID.
   */
  sendToPeer(now: number, peer: Peer, verb: Verb, payload: Uint8Array, opts: SendOptions) {
    const direct = peer.bestPath(now);
    if (direct) {
      return this.sendVia(now, peer, direct.localSocket, direct.address, verb, payload, opts);
    }
    const via = this.#route(now, peer);
    if (!via) return undefined;
    return this.sendVia(now, peer, via.localSocket, via.remote, verb, payload, opts);
  }

  /**
   * Sends to an address: resolves the peer (queueing the packet and sending WHOIS if unknown).
   * Returns the wire packet ID, or undefined if queued or failed.
   */
  send(now: number, dest: number, verb: Verb, payload: Uint8Array, opts: SendOptions) {
    const node = this.#node;
    if (dest === node.address.value) return undefined;
    const peer = node.topology.getPeer(dest);
    if (!peer) {
      node.whois.queueTx({
        dest,
        verb,
        payload: payload.slice(),
        encrypt: opts.encrypt,
        compress: opts.compress ?? false,
        created: now,
      });
      this.requestWhois(now, dest);
      return undefined;
    }
    return this.sendToPeer(now, peer, verb, payload, opts);
  }

  /** Sends WHOIS for `addr` to the best upstream (at most once per 500 ms per address). */
  requestWhois(now: number, addr: number): void {
    const node = this.#node;
    if (addr === node.address.value || !node.whois.shouldSendWhois(now, addr)) return;
    const up = node.topology.bestUpstream(now, addr);
    if (!up) return;
    const payload = encodeWhois({ addresses: [new Address(addr)] });
    this.sendToPeer(now, up, Verb.WHOIS, payload, { encrypt: true });
  }

  /** Sends a HELLO to `peer` at (socket, remote), or through normal routing if `remote` is undefined. */
  sendHello(now: number, peer: Peer, localSocket: number, remote: InetAddress | undefined) {
    const node = this.#node;
    const t = node.topology;
    const h = encodeHello({
      protocolVersion: PROTO_VERSION,
      versionMajor: SOFTWARE_VERSION.major,
      versionMinor: SOFTWARE_VERSION.minor,
      versionRevision: SOFTWARE_VERSION.revision,
      timestamp: BigInt(Math.max(0, Math.floor(now))),
      identity: node.identity,
      destination: remote,
      planetWorldId: t.planet.id,
      planetWorldTimestamp: t.planet.timestamp,
      moons: [
        ...t.moons.map((m) => ({ type: m.type, worldId: m.id, timestamp: m.timestamp })),
        ...t.moonsWanted.map((id) => ({ type: 127, worldId: id, timestamp: 0n })),
      ],
    });
    const opts = { encrypt: false, cryptFieldStart: h.cryptFieldStart };
    if (remote) return this.sendVia(now, peer, localSocket, remote, Verb.HELLO, h.payload, opts);
    return this.sendToPeer(now, peer, Verb.HELLO, h.payload, opts);
  }

  /**
   * Contacts `peer` at an address: ECHO if its version is known (>= proto 5, not 1.1.0) and no
   * full HELLO is asked for, else HELLO (spec §4.5).
   */
  attemptToContactAt(
    now: number,
    peer: Peer,
    localSocket: number,
    remote: InetAddress,
    fullHello: boolean,
  ): void {
    const oldBuggy = peer.vMajor === 1 && peer.vMinor === 1 && peer.vRevision === 0;
    if (!fullHello && peer.vProto >= 5 && !oldBuggy) {
      this.sendVia(now, peer, localSocket, remote, Verb.ECHO, new Uint8Array(0), {
        encrypt: true,
      });
    } else {
      this.sendHello(now, peer, localSocket, remote);
    }
  }

  /**
   * Acts on an introduction (RENDEZVOUS): if `endpoint` may carry traffic for `peer`, sends 4
   * junk bytes with TTL 2 (opens our NAT toward it) and contacts the peer there.
   */
  punchAndContact(now: number, peer: Peer, endpoint: InetAddress): void {
    const node = this.#node;
    if (!node.shouldUsePath(peer.identity.address.value, -1, endpoint)) return;
    this.sendRaw(now, -1, endpoint, node.host.random(4), 2);
    this.attemptToContactAt(now, peer, -1, endpoint, false);
  }

  /**
   * Relays a packet or fragment `d` that is not for us (spec §3.7): only if we are a root or the
   * arrival path has trust established, and hops < 3; increments hops; forwards to the
   * destination's direct path (introducing source and destination at most every 30 s), else to
   * our best upstream unless it is the source.
   */
  relay(now: number, localSocket: number, remote: InetAddress, d: Uint8Array, fragment: boolean) {
    const node = this.#node;
    const t = node.topology;
    const hops = fragment ? d[FRAG_IDX_HOPS] & 7 : getHops(d);
    if (hops >= RELAY_MAX_HOPS) return;
    if (!t.amUpstream) {
      const p = t.findPath(localSocket, remote);
      if (!p || !p.trustEstablished(now)) return;
    }
    const dest = readAddr(d, 8);
    const source = fragment ? undefined : readAddr(d, 13);
    if (fragment) incrementFragmentHops(d);
    else incrementHops(d);
    const destPeer = t.getPeer(dest);
    const direct = destPeer?.bestPath(now);
    if (destPeer && direct) {
      this.sendRaw(now, direct.localSocket, direct.address, d);
      if (source !== undefined && source !== node.address.value && t.amUpstream) {
        const srcPeer = t.getPeer(source);
        if (srcPeer && node.uniteGate.allow(now, uniteKey(source, dest))) {
          this.introduce(now, srcPeer, destPeer);
        }
      }
      return;
    }
    const up = t.bestUpstream(now, source);
    const upPath = up?.bestPath(now, true);
    if (up && upPath && up.identity.address.value !== dest) {
      this.sendRaw(now, upPath.localSocket, upPath.address, d);
      if (source !== undefined) {
        const srcPeer = t.getPeer(source);
        const k = uniteKey(source, up.identity.address.value);
        if (srcPeer && node.uniteGate.allow(now, k)) this.introduce(now, up, srcPeer);
      }
    } else if (up && upPath) {
      this.sendRaw(now, upPath.localSocket, upPath.address, d);
    }
  }

  /**
   * Sends each of `a` and `b` a RENDEZVOUS describing the other's best path in the highest scope
   * where both have one of the same family (IPv6 preferred), in random order (spec §9.4).
   */
  introduce(now: number, a: Peer, b: Peer): void {
    const ma = a.bestByScope(now);
    const mb = b.bestByScope(now);
    let mine: Path | undefined;
    let theirs: Path | undefined;
    for (let s = 7; s >= 0 && !mine; s--) {
      for (const fam of [6, 4]) {
        const k = `${fam}/${s}`;
        if (ma.has(k) && mb.has(k)) {
          mine = ma.get(k);
          theirs = mb.get(k);
          break;
        }
      }
    }
    if (!mine || !theirs) return;
    const toA = () =>
      this.sendVia(
        now,
        a,
        mine.localSocket,
        mine.address,
        Verb.RENDEZVOUS,
        encodeRendezvous({ flags: 0, peer: b.identity.address, endpoint: theirs.address }),
        { encrypt: true },
      );
    const toB = () =>
      this.sendVia(
        now,
        b,
        theirs.localSocket,
        theirs.address,
        Verb.RENDEZVOUS,
        encodeRendezvous({ flags: 0, peer: a.identity.address, endpoint: mine.address }),
        { encrypt: true },
      );
    if ((this.#node.host.random(1)[0] & 1) === 0) {
      toA();
      toB();
    } else {
      toB();
      toA();
    }
  }

  #route(now: number, peer: Peer): { localSocket: number; remote: InetAddress } | undefined {
    const t = this.#node.topology;
    const up = t.bestUpstream(now, peer.identity.address.value);
    const upPath = up?.bestPath(now, true);
    if (upPath) return { localSocket: upPath.localSocket, remote: upPath.address };
    const old = peer.bestPath(now, true);
    if (old) return { localSocket: old.localSocket, remote: old.address };
    const eps = t.upstreamsToContact().get(peer.identity.address.value);
    if (eps && eps.length > 0) return { localSocket: -1, remote: eps[0] };
    return undefined;
  }
}

/** Reads a 40-bit address at `off` (caller checked bounds). */
function readAddr(d: Uint8Array, off: number): number {
  return d[off] * 0x1_0000_0000 +
    (((d[off + 1] << 24) | (d[off + 2] << 16) | (d[off + 3] << 8) | d[off + 4]) >>> 0);
}

/** Order-independent key of an address pair. */
function uniteKey(a: number, b: number): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
