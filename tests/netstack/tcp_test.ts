// NetStack TCP over a simulated lossy link: transfers intact, handshake/close/RST/backlog/keepalive/window behaviour, recovery counters.
import assert from "node:assert/strict";
import { parseIp } from "../../src/netstack/ip_addr.ts";
import { parseIpv4 } from "../../src/netstack/ipv4.ts";
import { parseTcp } from "../../src/netstack/tcp_segment.ts";
import type { TcpConnection } from "../../src/netstack/tcp.ts";
import { type LinkOptions, payload, SimLink } from "./sim_link.ts";

const B4 = parseIp("10.0.0.2")!;
const B6 = parseIp("fd00::2")!;

/** Sends `data` a → b over one connection (b echoes nothing); returns what b received and both ends. */
function transfer(link: SimLink, data: Uint8Array, dst = B4, maxMs = 600_000) {
  const l = link.b.listen(80);
  const c = link.a.connect(link.now, dst, 80);
  let sent = 0;
  const pump = () => {
    while (sent < data.length) {
      const n = c.write(link.now, data.subarray(sent, Math.min(data.length, sent + 65536)));
      if (n === 0) break;
      sent += n;
    }
    if (sent === data.length) c.close(link.now);
  };
  c.events = { onConnected: pump, onWritable: pump };
  const got: Uint8Array[] = [];
  let gotLen = 0;
  let server: TcpConnection | undefined;
  let serverEnd = false;
  l.onAccept = () => {
    server = l.accept()!;
    const drain = () => {
      for (;;) {
        const b = server!.read(link.now);
        if (b.length === 0) break;
        got.push(b.slice());
        gotLen += b.length;
      }
    };
    drain();
    server.events = {
      onData: drain,
      onEnd: () => {
        drain();
        serverEnd = true;
        server!.close(link.now);
      },
    };
  };
  const ok = link.run(
    () =>
      serverEnd && (c.state === "TIME_WAIT" || c.state === "CLOSED") && server?.state === "CLOSED",
    maxMs,
  );
  const out = new Uint8Array(gotLen);
  let o = 0;
  for (const g of got) {
    out.set(g, o);
    o += g.length;
  }
  return { ok, received: out, client: c, server: server! };
}

function assertSame(a: Uint8Array, b: Uint8Array): void {
  assert.equal(a.length, b.length, "length");
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`byte ${i} differs`);
}

Deno.test("tcp: 1 MiB over a clean link arrives intact; orderly close ends in TIME_WAIT then CLOSED", () => {
  const link = new SimLink({ tcp: { msl: 1000 } });
  const data = payload(1 << 20);
  const r = transfer(link, data);
  assert.ok(r.ok, `finished (client ${r.client.state}, server ${r.server?.state})`);
  assertSame(r.received, data);
  assert.equal(r.client.counters.retransmits, 0);
  assert.equal(r.client.mss, 1460);
  link.run(() => link.a.connectionCount === 0, 10_000);
  assert.equal(link.a.connectionCount, 0, "TIME_WAIT expired after 2 MSL");
});

Deno.test("tcp: over IPv6 (NDP resolution) a transfer arrives intact with MSS from the MTU", () => {
  const link = new SimLink({ mtu: 1400 });
  const data = payload(200_000, 3);
  const r = transfer(link, data, B6);
  assert.ok(r.ok);
  assertSame(r.received, data);
  assert.equal(r.client.mss, 1400 - 60);
});

for (const seed of [1, 2, 3]) {
  Deno.test(`tcp: loss 5%, reordering and duplication (seed ${seed}): 512 KiB intact, retransmits counted`, () => {
    const link = new SimLink({ seed, loss: 0.05, jitter: 4, duplicate: 0.03, tcp: { msl: 100 } });
    const data = payload(512 * 1024, seed);
    const r = transfer(link, data);
    assert.ok(r.ok, `finished (client ${r.client.state}, server ${r.server?.state})`);
    assertSame(r.received, data);
    assert.ok(r.client.counters.retransmits > 0);
    assert.ok(r.client.counters.fastRetransmits + r.client.counters.rtoFires > 0);
    assert.ok(link.dropped > 0);
  });
}

/** Drops the first transmission of the a→b data segments numbered in `which` (1-based, by sequence). */
function dropFirstTx(which: number[]): LinkOptions["drop"] {
  const seen = new Set<number>();
  return (from, f) => {
    if (from !== "a" || f.length < 1000) return false;
    const seq = new DataView(f.buffer, f.byteOffset).getUint32(14 + 20 + 4);
    if (seen.has(seq)) return false;
    seen.add(seq);
    return which.includes(seen.size);
  };
}

Deno.test("tcp: one lost data segment → fast retransmit on 3 dup ACKs, cwnd halves, no RTO", () => {
  const link = new SimLink({ drop: dropFirstTx([40]) });
  const data = payload(400_000, 9);
  const r = transfer(link, data);
  assert.ok(r.ok);
  assertSame(r.received, data);
  const c = r.client.counters;
  assert.equal(c.fastRetransmits, 1);
  assert.equal(c.rtoFires, 0);
  assert.ok(c.dupAcksIn >= 3);
  const { flight, cwnd } = r.client.lastLoss;
  assert.ok(cwnd > 10 * r.client.mss, `cwnd at loss ${cwnd}`);
  // RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2 SMSS); the window is halved
  assert.equal(r.client.ssthresh, Math.max(Math.floor(flight / 2), 2 * r.client.mss));
  assert.ok(r.client.ssthresh <= cwnd / 2 + 1, `ssthresh ${r.client.ssthresh} <= cwnd ${cwnd} / 2`);
});

Deno.test("tcp: a burst loss in one window → one fast retransmit, NewReno partial ACKs fill each hole", () => {
  const link = new SimLink({ drop: dropFirstTx([60, 62, 64]) });
  const r = transfer(link, payload(600_000, 4));
  assert.ok(r.ok);
  assertSame(r.received, payload(600_000, 4));
  assert.equal(r.client.counters.fastRetransmits, 1);
  assert.equal(r.client.counters.partialAcks, 2);
  assert.equal(r.client.counters.rtoFires, 0);
});

Deno.test("tcp: a blackout fires the RTO with exponential backoff, cwnd = 1 MSS, then recovers", () => {
  let blackout = false;
  const link = new SimLink({ drop: (from) => blackout && from === "a" });
  const l = link.b.listen(80);
  const c = link.a.connect(link.now, B4, 80);
  assert.ok(link.run(() => c.state === "ESTABLISHED"));
  const rto0 = c.rto;
  blackout = true;
  c.write(link.now, payload(50_000));
  link.run(() => c.counters.rtoFires >= 3, 60_000);
  assert.ok(c.counters.rtoFires >= 3);
  assert.equal(c.cwnd, c.mss);
  assert.ok(c.rto >= rto0 * 8 - 1, `rto ${c.rto} backed off from ${rto0}`);
  blackout = false;
  const s = l.accept()!;
  let got = 0;
  s.events = { onData: () => (got += s.read(link.now).length) };
  got += s.read(link.now).length;
  assert.ok(link.run(() => got === 50_000, 120_000));
  assert.ok(link.run(() => c.inFlight === 0, 10_000));
});

Deno.test("tcp: SYN to a closed port is refused with RST; SYN retries give up with a timeout", () => {
  const link = new SimLink({ tcp: { synRetries: 2, initialRto: 100 } });
  const c = link.a.connect(link.now, B4, 81);
  let err: string | undefined;
  c.events = { onClose: (e) => (err = e) };
  assert.ok(link.run(() => c.state === "CLOSED"));
  assert.equal(err, "connection refused");
  assert.equal(link.b.counters.rstSent, 1);
  const dead = link.a.connect(link.now, parseIp("10.0.0.9")!, 80);
  let err2: string | undefined;
  dead.events = { onClose: (e) => (err2 = e) };
  assert.ok(link.run(() => dead.state === "CLOSED", 60_000));
  assert.equal(err2, "connection timed out");
  assert.equal(link.a.connectionCount, 0);
});

Deno.test("tcp: listen backlog bounds unaccepted connections; extra SYNs are dropped", () => {
  const link = new SimLink({ tcp: { synRetries: 1, initialRto: 100 } });
  const l = link.b.listen(80, 2);
  const cs = Array.from({ length: 5 }, () => link.a.connect(link.now, B4, 80));
  link.run(() => false, 2_000);
  assert.equal(l.queue.length, 2);
  assert.ok(link.b.counters.synDropped >= 3);
  assert.equal(cs.filter((c) => c.state === "ESTABLISHED").length, 2);
  link.run(() => cs.every((c) => c.state !== "SYN_SENT"), 10_000);
  assert.ok(link.b.connectionCount <= 2);
});

Deno.test("tcp: the peer resetting aborts the connection (reset by peer)", () => {
  const link = new SimLink();
  const l = link.b.listen(80);
  const c = link.a.connect(link.now, B4, 80);
  assert.ok(link.run(() => l.queue.length === 1));
  const s = l.accept()!;
  let err: string | undefined;
  c.events = { onClose: (e) => (err = e) };
  s.abort(link.now);
  assert.ok(link.run(() => c.state === "CLOSED"));
  assert.equal(err, "connection reset by peer");
});

Deno.test("tcp: keepalive probes a silent peer and closes after the probe count", () => {
  let cut = false;
  const link = new SimLink({
    drop: () => cut,
    tcp: { keepIdle: 1000, keepInterval: 200, keepCount: 3 },
  });
  const l = link.b.listen(80);
  const c = link.a.connect(link.now, B4, 80);
  assert.ok(link.run(() => l.queue.length === 1));
  link.run(() => false, 6000); // probes answered: stays up
  assert.equal(c.state, "ESTABLISHED");
  assert.ok(c.counters.keepaliveProbes >= 2);
  cut = true;
  let err: string | undefined;
  c.events = { onClose: (e) => (err = e) };
  assert.ok(link.run(() => c.state === "CLOSED", 10_000));
  assert.match(err ?? "", /keepalive/);
});

Deno.test("tcp: window scaling lets more than 64 KiB fly; a zero window stalls and resumes (bounded buffers)", () => {
  const link = new SimLink({ delay: 20, tcp: { recvBuffer: 1 << 20, sendBuffer: 1 << 20 } });
  const l = link.b.listen(80);
  const c = link.a.connect(link.now, B4, 80);
  assert.ok(link.run(() => l.queue.length === 1));
  const s = l.accept()!;
  let maxFlight = 0;
  const total = 4 << 20;
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const n = c.write(link.now, payload(Math.min(65536, total - sent), sent));
      if (n === 0) break;
      sent += n;
    }
    maxFlight = Math.max(maxFlight, c.inFlight);
  };
  c.events = { onWritable: pump };
  pump();
  // receiver does not read: the window closes, buffers stay bounded
  link.run(() => false, 5_000);
  assert.ok(s.readable <= 1 << 20);
  assert.ok(c.unsent <= 1 << 20);
  assert.ok(maxFlight > 65535, `max flight ${maxFlight}`);
  let got = 0;
  const drain = () => {
    for (;;) {
      const b = s.read(link.now);
      if (!b.length) break;
      got += b.length;
    }
  };
  s.events = { onData: () => drain() };
  drain();
  assert.ok(link.run(() => got === total, 120_000), `got ${got}`);
});

Deno.test("tcp: a connection outliving its neighbor entry re-resolves ARP and keeps working", () => {
  const link = new SimLink({ limits: { neighborTtl: 1000 } });
  const l = link.b.listen(80);
  const c = link.a.connect(link.now, B4, 80);
  assert.ok(link.run(() => l.queue.length === 1));
  const s = l.accept()!;
  let got = 0;
  s.events = { onData: () => (got += s.read(link.now).length) };
  link.run(() => false, 5_000); // both neighbor entries expire
  assert.equal(link.a.neighborCount, 0);
  c.write(link.now, payload(20_000));
  assert.ok(link.run(() => got === 20_000, 10_000), `got ${got}`);
  assert.equal(c.counters.rtoFires, 0, "no loss while resolving: the segments waited for ARP");
});

Deno.test("tcp: a receiver that stops reading for 30 minutes: persist probes keep the connection, no congestion collapse", () => {
  const link = new SimLink({ tcp: { recvBuffer: 64 * 1024 } });
  const l = link.b.listen(80);
  const c = link.a.connect(link.now, B4, 80);
  assert.ok(link.run(() => l.queue.length === 1));
  const s = l.accept()!;
  const total = 1 << 20;
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const n = c.write(link.now, payload(Math.min(65536, total - sent), sent));
      if (n === 0) break;
      sent += n;
    }
  };
  c.events = { onWritable: pump };
  pump();
  link.run(() => false, 30 * 60_000); // the window stays closed
  assert.equal(c.state, "ESTABLISHED");
  assert.ok(c.counters.windowProbes >= 10, `window probes ${c.counters.windowProbes}`);
  assert.equal(c.counters.rtoFires, 0, "probes are not loss");
  assert.equal(s.readable, 64 * 1024);
  let got = 0;
  const drain = () => {
    for (let b = s.read(link.now); b.length > 0; b = s.read(link.now)) got += b.length;
  };
  s.events = { onData: drain };
  drain();
  assert.ok(link.run(() => got === total, 300_000), `got ${got}`);
});

Deno.test("tcp: out-of-order data is reported in SACK blocks (latest first) to a SACK-permitted peer", () => {
  const sacks: [number, number][][] = [];
  const drop = dropFirstTx([30, 33]);
  const link = new SimLink({
    drop: (from, f) => {
      if (from === "b") {
        const ip = parseIpv4(f, 14);
        const t = ip && parseTcp(f, ip.payloadStart, ip.payloadEnd, ip.src, ip.dst);
        if (t?.sack) sacks.push(t.sack);
      }
      return drop!(from, f);
    },
  });
  const r = transfer(link, payload(300_000, 5));
  assert.ok(r.ok);
  assertSame(r.received, payload(300_000, 5));
  assert.ok(sacks.length >= 3, `ACKs with SACK blocks: ${sacks.length}`);
  for (const blocks of sacks) {
    assert.ok(blocks.length >= 1 && blocks.length <= 4);
    for (const [l, rr] of blocks) assert.ok(((rr - l) >>> 0) > 0 && ((rr - l) >>> 0) < 300_000);
  }
  const two = sacks.filter((b) => b.length === 2);
  assert.ok(two.length > 0, "two holes: two blocks");
  // data keeps arriving above the second hole: that block holds the latest segment, so it leads
  assert.ok(two.every((b) => ((b[0][0] - b[1][0]) | 0) > 0), JSON.stringify(two));
});
