// NetStack against recorded Linux 6.18 TCP segments (tests/fixtures/linux/tcp_http_6.18.pcap: curl ↔ an HTTP server between two netns, options mss/sackOK/TS/wscale 10): as server and as client, the recorded peer's segments replayed.
import assert from "node:assert/strict";
import { fold, pseudoSum, sum16 } from "../../src/netstack/checksum.ts";
import { ARP_LEN, ARP_REQUEST, writeArp } from "../../src/netstack/arp.ts";
import { ETH_ARP, ETH_HLEN, newFrame, parseEth, readMac } from "../../src/netstack/ethernet.ts";
import { parseIp } from "../../src/netstack/ip_addr.ts";
import { parseIpv4 } from "../../src/netstack/ipv4.ts";
import { NetStack } from "../../src/netstack/stack.ts";
import { parseTcp, SYN } from "../../src/netstack/tcp_segment.ts";

const PCAP = new URL("../fixtures/linux/tcp_http_6.18.pcap", import.meta.url).pathname;
const CLIENT = parseIp("198.18.9.1")!, SERVER = parseIp("198.18.9.2")!;

/** Ethernet frames of a little-endian classic pcap. */
function frames(): Uint8Array[] {
  const b = Deno.readFileSync(PCAP);
  const v = new DataView(b.buffer, b.byteOffset);
  assert.equal(v.getUint32(0, true), 0xa1b2c3d4);
  const out: Uint8Array[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const len = v.getUint32(o + 8, true);
    out.push(b.slice(o + 16, o + 16 + len));
    o += 16 + len;
  }
  return out;
}

/** Completes the TCP checksum (a TSO super-frame is captured before the NIC would fill it). */
function fixChecksum(f: Uint8Array): Uint8Array {
  const ip = parseIpv4(f, ETH_HLEN)!;
  const s = ip.payloadStart, e = ip.payloadEnd;
  f[s + 16] = f[s + 17] = 0;
  const c = fold(sum16(f, s, e, pseudoSum(ip.src, ip.dst, 6, e - s)));
  f[s + 16] = c >> 8;
  f[s + 17] = c & 0xff;
  return f;
}

interface Rec {
  frame: Uint8Array;
  fromClient: boolean;
  seq: number;
  ack: number;
  flags: number;
  payload: Uint8Array;
  mss?: number;
  wscale?: number;
}

function records(): Rec[] {
  return frames().map((raw) => {
    const f = fixChecksum(raw);
    const ip = parseIpv4(f, ETH_HLEN)!;
    const t = parseTcp(f, ip.payloadStart, ip.payloadEnd, ip.src, ip.dst)!;
    assert.ok(t, "every recorded segment parses (options mss, sackOK, TS, nop, wscale)");
    return {
      frame: f,
      fromClient: ip.src[3] === 1,
      seq: t.seq,
      ack: t.ack,
      flags: t.flags,
      payload: f.slice(t.payloadStart, t.payloadEnd),
      ...(t.mss !== undefined ? { mss: t.mss } : {}),
      ...(t.wscale !== undefined ? { wscale: t.wscale } : {}),
    };
  });
}

/** Random source whose second 4-byte draw (the first is the stack's own, at construction) is `isn`. */
function isnRandom(isn: number): (n: number) => Uint8Array {
  let calls = 0;
  return (n) => {
    calls++;
    return calls === 2
      ? new Uint8Array([isn >>> 24, (isn >>> 16) & 0xff, (isn >>> 8) & 0xff, isn & 0xff])
      : new Uint8Array(n);
  };
}

function parsedOut(out: Uint8Array[]) {
  return out.filter((f) => parseEth(f)?.type === 0x0800).map((f) => {
    const ip = parseIpv4(f, ETH_HLEN)!;
    const t = parseTcp(f, ip.payloadStart, ip.payloadEnd, ip.src, ip.dst)!;
    return {
      ...t,
      len: t.payloadEnd - t.payloadStart,
      data: f.slice(t.payloadStart, t.payloadEnd),
    };
  });
}

Deno.test("linux replay: the recorded segments parse with Linux's options", () => {
  const r = records();
  assert.equal(r.length, 12);
  assert.equal(r[0].flags, SYN);
  assert.equal(r[0].mss, 1460);
  assert.equal(r[0].wscale, 10);
  assert.equal(r[1].wscale, 10);
});

Deno.test("linux replay: NetStack as the server answers a recorded Linux client (curl) to the end", () => {
  const r = records();
  const serverIsn = r[1].seq; // the recorded server's ISN, injected so the client's ACKs fit
  const out: Uint8Array[] = [];
  const serverMac = readMac(r[0].frame, 0), clientMac = readMac(r[0].frame, 6);
  const st = new NetStack({
    mac: serverMac,
    mtu: 1500,
    send: (f) => out.push(f),
    random: isnRandom(serverIsn),
  });
  st.setAddresses([{ ip: SERVER, bits: 24 }]);
  const arp = newFrame(serverMac, clientMac, ETH_ARP, ARP_LEN);
  writeArp(arp, ETH_HLEN, {
    op: ARP_REQUEST,
    senderMac: clientMac,
    senderIp: CLIENT,
    targetMac: 0,
    targetIp: SERVER,
  });
  let now = 1000;
  st.input(now, arp);
  out.length = 0;
  const l = st.listen(8080);
  const request = r.find((x) => x.fromClient && x.payload.length > 0)!.payload;
  const responses = r.filter((x) => !x.fromClient && x.payload.length > 0).map((x) => x.payload);
  let got: Uint8Array = new Uint8Array(0);
  for (const rec of r.filter((x) => x.fromClient)) {
    st.input(++now, rec.frame);
    st.tick(now);
    const c = l.queue[0];
    if (c && c.readable > 0) {
      got = c.read(now);
      for (const p of responses) assert.equal(c.write(now, p), p.length);
    }
  }
  const segs = parsedOut(out);
  const synAck = segs[0];
  assert.equal(synAck.flags, 0x12);
  assert.equal(synAck.ack, (r[0].seq + 1) >>> 0);
  assert.equal(synAck.seq, serverIsn);
  assert.equal(synAck.mss, 1460);
  assert.deepEqual(got, request);
  const c = l.queue[0];
  assert.equal(c.state, "CLOSE_WAIT", "the client's FIN was taken in order");
  assert.equal(c.unsent, 0, "the client's ACK 5119 acknowledged all 118 + 5000 response bytes");
  const sent = segs.filter((s) => s.len > 0).reduce((n, s) => n + s.len, 0);
  assert.equal(sent, 5118);
  assert.ok(segs.filter((s) => s.len > 0).every((s) => s.len <= 1460), "segments within the MSS");
  assert.equal(c.counters.retransmits, 0);
});

Deno.test("linux replay: NetStack as the client completes against the recorded Linux server", () => {
  const r = records();
  const clientIsn = r[0].seq;
  const out: Uint8Array[] = [];
  const serverMac = readMac(r[0].frame, 0), clientMac = readMac(r[0].frame, 6);
  const st = new NetStack({
    mac: clientMac,
    mtu: 1500,
    send: (f) => out.push(f),
    random: isnRandom(clientIsn),
  });
  st.setAddresses([{ ip: CLIENT, bits: 24 }]);
  const arp = newFrame(clientMac, serverMac, ETH_ARP, ARP_LEN);
  writeArp(arp, ETH_HLEN, {
    op: ARP_REQUEST,
    senderMac: serverMac,
    senderIp: SERVER,
    targetMac: 0,
    targetIp: CLIENT,
  });
  let now = 1000;
  st.input(now, arp);
  out.length = 0;
  const c = st.connect(now, SERVER, 8080, 60520);
  const syn = parsedOut(out)[0];
  assert.equal(syn.seq, clientIsn);
  assert.equal(syn.flags, SYN);
  const request = r.find((x) => x.fromClient && x.payload.length > 0)!.payload;
  let body = 0;
  for (const rec of r.filter((x) => !x.fromClient)) {
    st.input(++now, rec.frame);
    st.tick(now);
    if (c.state === "ESTABLISHED" && c.unsent === 0 && body === 0 && rec.flags === 0x12) {
      assert.equal(c.write(now, request.slice()), request.length);
    }
    body += c.read(now).length;
    // curl closed once it had the whole response (before the server's FIN)
    if (body === 118 + 5000 && c.state === "ESTABLISHED") c.close(now);
  }
  assert.equal(body, 118 + 5000);
  assert.equal(c.state, "TIME_WAIT", "our FIN acknowledged by the server's FIN-ACK");
  const sent = parsedOut(out);
  assert.ok(sent.some((s) => s.len === request.length && s.seq === ((clientIsn + 1) >>> 0)));
  assert.equal(c.counters.retransmits, 0);
});
