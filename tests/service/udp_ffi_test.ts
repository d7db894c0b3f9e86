// Tests of the FFI UDP transport (ffi/udp_linux.ts, src/service/udp_transport_ffi.ts) over loopback.
import assert from "node:assert/strict";
import {
  asksModeration,
  bindUdpSocket,
  EADDRINUSE,
  EADDRNOTAVAIL,
  EAFNOSUPPORT,
  LinuxUdp,
  type LinuxUdpOptions,
  MODERATE_MAX_DATAGRAMS,
  MODERATE_MIN_AVG_BYTES,
  MODERATE_STREAM_GAP_MS,
  SEND_RING,
  SEND_SLOT,
} from "../../ffi/udp_linux.ts";
import { libc, LibcError } from "../../ffi/libc.ts";
import { Logger } from "../../src/service/logger.ts";
import { PortInUseError, UdpTransport } from "../../src/service/udp_transport.ts";
import {
  FfiUdpTransport,
  openUdpTransport,
  type OpenUdpTransportOptions,
} from "../../src/service/udp_transport_ffi.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";

const linux = Deno.build.os === "linux";
const ignore = !linux;
const quiet = new Logger("error", () => {});
const V4 = InetAddress.fromIp("127.0.0.1")!;
const V6 = InetAddress.fromIp("::1")!;

/** Whether ::1 can be bound here (IPv6 may be disabled in a container). */
function haveIpv6(): boolean {
  if (!linux) return false;
  try {
    LinuxUdp.closeSocket(bindUdpSocket(V6));
    return true;
  } catch (e) {
    if (e instanceof LibcError && (e.errno === EAFNOSUPPORT || e.errno === EADDRNOTAVAIL)) {
      return false;
    }
    throw e;
  }
}

/** A received datagram, copied. */
interface Got {
  sock: number;
  remote: InetAddress;
  data: Uint8Array;
}

/** Opens a transport on a random high port of `ip` (retrying taken ports). */
async function openOn(
  ip: InetAddress,
  got: Got[],
  extra: Partial<OpenUdpTransportOptions> = {},
) {
  for (let i = 0; i < 20; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    try {
      return await openUdpTransport({
        port,
        bind: [ip],
        log: quiet,
        onPacket: (sock, remote, data) => got.push({ sock, remote, data: data.slice() }),
        ...extra,
      });
    } catch (e) {
      if (!(e instanceof PortInUseError)) throw e;
    }
  }
  throw new Error("no free port");
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Deterministic pattern bytes for a datagram of `len` bytes tagged `tag`. */
function pattern(len: number, tag: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + tag * 7 + (i >> 8)) & 0xff;
  return b;
}

const SIZES = [1, 2, 13, 28, 64, 100, 576, 1280, 1400, 1432, 1500, 2800, 4096, 8192, 9000, 10000];

/** Sends every size both ways between two transports and checks contents and sources. */
async function exchange(ip: InetAddress): Promise<void> {
  const gotA: Got[] = [];
  const gotB: Got[] = [];
  const a = await openOn(ip, gotA);
  const b = await openOn(ip, gotB);
  try {
    assert.equal(a.kind, "ffi");
    const aAddr = a.boundAddresses()[0];
    const bAddr = b.boundAddresses()[0];
    for (let i = 0; i < SIZES.length; i++) {
      // a subarray with an offset checks that the view's own bytes are sent
      const big = new Uint8Array(SIZES[i] + 5);
      big.set(pattern(SIZES[i], i), 3);
      assert.ok(a.send(1, bAddr, big.subarray(3, 3 + SIZES[i])));
      assert.ok(b.send(-1, aAddr, pattern(SIZES[i], 100 + i)));
    }
    await until(() => gotA.length === SIZES.length && gotB.length === SIZES.length);
    for (let i = 0; i < SIZES.length; i++) {
      assert.deepEqual(gotB[i].data, pattern(SIZES[i], i), `a→b size ${SIZES[i]}`);
      assert.deepEqual(gotA[i].data, pattern(SIZES[i], 100 + i), `b→a size ${SIZES[i]}`);
      assert.equal(gotB[i].sock, 1);
      assert.ok(gotB[i].remote.equals(aAddr), `${gotB[i].remote} vs ${aAddr}`);
      assert.ok(gotA[i].remote.equals(bAddr));
    }
    // the remote cache hands back the same immutable object for a known sender
    assert.equal(gotB[0].remote, gotB[1].remote);
    assert.equal(a.stats.received, SIZES.length);
    assert.equal(a.stats.sent, SIZES.length);
    assert.equal(a.stats.sendErrors, 0);
  } finally {
    await a.close();
    await b.close();
  }
}

Deno.test({
  name: "udp ffi: IPv4 loopback exchange of 1..10000-byte datagrams",
  ignore,
  fn: () => exchange(V4),
});

Deno.test({
  name: "udp ffi: IPv6 ::1 exchange (IPv6-only socket)",
  ignore: ignore || !haveIpv6(),
  fn: async () => {
    await exchange(V6);
    // an IPv6-only socket is not reachable through its port on IPv4
    const got: Got[] = [];
    const t = await openOn(V6, got);
    try {
      const s = bindUdpSocket(InetAddress.fromIp("127.0.0.1")!);
      const u = LinuxUdp.start([s], { onPacket: () => {} });
      try {
        assert.ok(u.send(1, V4.withPort(t.boundAddresses()[0].port), new Uint8Array([1, 2, 3])));
        assert.equal(t.send(1, V4.withPort(9), new Uint8Array(1)), false); // no v4 socket
      } finally {
        await u.close();
      }
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(got.length, 0);
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name: "udp ffi: a taken port fails with PortInUseError (FFI and node:dgram holders)",
  ignore,
  fn: async () => {
    const got: Got[] = [];
    const a = await openOn(V4, got);
    const port = a.boundAddresses()[0].port;
    try {
      await assert.rejects(
        FfiUdpTransport.open({ port, bind: [V4], log: quiet, onPacket: () => {} }),
        (e) => e instanceof PortInUseError && e.port === port,
      );
      // the wildcard bind overlaps 127.0.0.1:port too (SO_REUSEADDR is off)
      await assert.rejects(
        openUdpTransport({ port, log: quiet, onPacket: () => {} }),
        PortInUseError,
      );
      assert.throws(() => bindUdpSocket(V4.withPort(port)), (e) => {
        return e instanceof LibcError && e.errno === EADDRINUSE;
      });
    } finally {
      await a.close();
    }
    const d = await openOn(V4, got, { impl: "dgram" });
    try {
      assert.equal(d.kind, "dgram");
      const p = d.boundAddresses()[0].port;
      await assert.rejects(
        FfiUdpTransport.open({ port: p, bind: [V4], log: quiet, onPacket: () => {} }),
        PortInUseError,
      );
    } finally {
      await d.close();
    }
  },
});

Deno.test({
  name: "udp ffi: wildcard bind (0.0.0.0 + [::] v6-only) receives on 127.0.0.1",
  ignore,
  fn: async () => {
    const got: Got[] = [];
    let t: Awaited<ReturnType<typeof openUdpTransport>> | undefined;
    for (let i = 0; i < 20 && !t; i++) {
      try {
        t = await openUdpTransport({
          port: 20000 + Math.floor(Math.random() * 40000),
          log: quiet,
          onPacket: (sock, remote, data) => got.push({ sock, remote, data: data.slice() }),
        });
      } catch (e) {
        if (!(e instanceof PortInUseError)) throw e;
      }
    }
    assert.ok(t);
    try {
      assert.ok(t.hasWildcard(4));
      const port = t.boundAddresses()[0].port;
      const peer = await openOn(V4, []);
      try {
        assert.ok(peer.send(1, V4.withPort(port), pattern(300, 1)));
        await until(() => got.length === 1);
        assert.equal(got[0].sock, 1);
        assert.deepEqual(got[0].data, pattern(300, 1));
        if (haveIpv6()) {
          assert.ok(t.hasWildcard(6));
          const p6 = await openOn(V6, []);
          try {
            assert.ok(p6.send(1, V6.withPort(port), pattern(200, 2)));
            await until(() => got.length === 2);
            assert.equal(got[1].sock, 2);
            assert.equal(got[1].remote.family, 6);
          } finally {
            await p6.close();
          }
        }
      } finally {
        await peer.close();
      }
    } finally {
      await t.close();
    }
  },
});

/** Reads a sysctl integer. */
function sysctl(path: string): number {
  return parseInt(Deno.readTextFileSync(path).trim(), 10);
}

Deno.test({
  name: "udp ffi: per-datagram TTL (2 for the hole-punch probe, then the default again)",
  ignore,
  fn: async () => {
    const families: InetAddress[] = haveIpv6() ? [V4, V6] : [V4];
    for (const ip of families) {
      const ttls: number[] = [];
      const rx = LinuxUdp.start([bindUdpSocket(ip, undefined, true)], {
        receiveTtl: true,
        onPacket: () => ttls.push(rx.lastTtl),
      });
      const got: Got[] = [];
      const tx = await openOn(ip, got);
      try {
        const to = rx.sockets[0].local;
        assert.ok(tx.send(1, to, new Uint8Array(4), 2));
        await until(() => ttls.length === 1);
        assert.ok(tx.send(1, to, new Uint8Array(4)));
        await until(() => ttls.length === 2);
        assert.ok(tx.send(1, to, new Uint8Array(4), 7));
        await until(() => ttls.length === 3);
        const def = ip.family === 4
          ? sysctl("/proc/sys/net/ipv4/ip_default_ttl")
          : sysctl("/proc/sys/net/ipv6/conf/lo/hop_limit");
        assert.deepEqual(ttls, [2, def, 7], `family ${ip.family}`);
      } finally {
        await tx.close();
        await rx.close();
      }
    }
  },
});

Deno.test({
  name: "udp ffi: close stops the receive loop promptly and leaks no descriptors",
  ignore,
  fn: async () => {
    const got: Got[] = [];
    const a = await openOn(V4, got);
    const b = await openOn(V4, []);
    // Other test files run in this process at the same time (--parallel), so count only the
    // descriptors these transports own: each socket fd and the kernel object it refers to.
    const owned = [...(a as FfiUdpTransport).udp.sockets, ...(b as FfiUdpTransport).udp.sockets]
      .map((s) => ({
        fd: s.fd,
        target: Deno.readLinkSync(`/proc/self/fd/${s.fd}`),
      }));
    assert.equal(owned.length, 2);
    for (const o of owned) assert.match(o.target, /^socket:\[\d+\]$/);
    assert.ok(b.send(1, a.boundAddresses()[0], pattern(10, 1)));
    await until(() => got.length === 1);
    const t0 = performance.now();
    await a.close();
    const ms = performance.now() - t0;
    assert.ok(ms < 250, `close took ${ms} ms`);
    await a.close(); // idempotent
    assert.equal(a.send(1, b.boundAddresses()[0], pattern(10, 2)), false);
    // nothing is delivered after close
    b.send(1, a.boundAddresses()[0], pattern(10, 3));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(got.length, 1);
    await b.close();
    for (const o of owned) {
      let now: string | undefined;
      try {
        now = Deno.readLinkSync(`/proc/self/fd/${o.fd}`);
      } catch {
        now = undefined; // closed and not reused
      }
      assert.notEqual(now, o.target, `fd ${o.fd} (${o.target}) still open after close`);
    }
  },
});

Deno.test({
  name: "udp ffi: handler exceptions are counted and do not stop the loop; close from a handler",
  ignore,
  fn: async () => {
    let n = 0;
    const errors: unknown[] = [];
    const rx = LinuxUdp.start([bindUdpSocket(V4)], {
      onPacket: () => {
        n++;
        if (n === 1) throw new Error("boom");
        if (n === 3) void rx.close();
      },
      onError: (e) => errors.push(e),
    });
    const tx = LinuxUdp.start([bindUdpSocket(V4)], { onPacket: () => {} });
    try {
      const to = rx.sockets[0].local;
      for (let i = 0; i < 2; i++) assert.ok(tx.send(1, to, new Uint8Array([i])));
      await until(() => n === 2);
      assert.equal(rx.counters.callbackErrors, 1);
      assert.equal((errors[0] as Error).message, "boom");
      for (let i = 0; i < 5; i++) tx.send(1, to, new Uint8Array([i]));
      await until(() => n >= 3);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(n, 3); // closed inside the third callback: the rest of the batch is not delivered
      assert.equal(rx.sockets[0].fd, -1);
    } finally {
      await rx.close();
      await tx.close();
    }
  },
});

Deno.test({
  name: "udp ffi: sendMany batches through sendmmsg; oversized datagrams are counted",
  ignore,
  fn: async () => {
    const got: Uint8Array[] = [];
    const rx = LinuxUdp.start([bindUdpSocket(V4)], {
      slotBytes: 2048,
      batch: 16,
      onPacket: (_s, _r, d) => got.push(d.slice()),
    });
    const tx = LinuxUdp.start([bindUdpSocket(V4)], { onPacket: () => {}, batch: 32 });
    try {
      const to = rx.sockets[0].local;
      const datas = Array.from({ length: 150 }, (_, i) => pattern(1 + i * 9, i));
      assert.equal(tx.sendMany(1, to, datas), 150);
      await until(() => got.length === 150);
      for (let i = 0; i < 150; i++) assert.deepEqual(got[i], datas[i]);
      assert.ok(rx.counters.batches < 150, `batches ${rx.counters.batches}`);
      // per-datagram remotes, one of a family without a socket
      const remotes = [to, V6.withPort(9), to];
      assert.equal(tx.sendMany(1, remotes, [pattern(5, 1), pattern(5, 2), pattern(5, 3)]), 2);
      await until(() => got.length === 152);
      assert.deepEqual(got[151], pattern(5, 3));
      // larger than the receiver's 2048-byte slot: dropped and counted
      assert.ok(tx.send(1, to, pattern(3000, 1)));
      assert.ok(tx.send(1, to, pattern(20, 9)));
      await until(() => got.length === 153);
      assert.deepEqual(got[152], pattern(20, 9));
      assert.equal(rx.counters.truncated, 1);
    } finally {
      await rx.close();
      await tx.close();
    }
  },
});

Deno.test({
  name: "udp ffi: queued sends — one sendmmsg per flush, buffer copied, order kept, ring limits",
  ignore,
  fn: async () => {
    const got: Uint8Array[] = [];
    const ttls: number[] = [];
    const rx = LinuxUdp.start([bindUdpSocket(V4, undefined, true)], {
      receiveTtl: true,
      onPacket: (_s, _r, d) => {
        got.push(d.slice());
        ttls.push(rx.lastTtl);
      },
    });
    const tx = LinuxUdp.start([bindUdpSocket(V4)], { onPacket: () => {} });
    try {
      const to = rx.sockets[0].local;
      const c = tx.counters;
      // one reused buffer, as the node's Switch does: the queue must copy
      const buf = new Uint8Array(64);
      for (let i = 0; i < 10; i++) {
        buf.set(pattern(40 + i, i));
        assert.ok(tx.queue(1, to, buf.subarray(0, 40 + i)));
      }
      assert.equal(c.queued, 10);
      assert.equal(c.sent, 0); // nothing left yet: queued until the flush
      tx.flush();
      assert.equal(c.sent, 10);
      assert.equal(c.sendCalls, 1); // one sendmmsg for the ten
      tx.flush(); // nothing queued: no call
      assert.equal(c.sendCalls, 1);
      await until(() => got.length === 10);
      for (let i = 0; i < 10; i++) assert.deepEqual(got[i], pattern(40 + i, i));

      // order around a TTL probe and an oversized datagram (both bypass the ring)
      assert.ok(tx.queue(1, to, pattern(10, 1)));
      assert.ok(tx.queue(1, to, pattern(11, 2), 2));
      assert.ok(tx.queue(1, to, pattern(12, 3)));
      assert.ok(tx.queue(1, to, pattern(SEND_SLOT + 1, 4)));
      assert.ok(tx.queue(1, to, pattern(13, 5)));
      // no explicit flush: the microtask safety net sends the last one
      await until(() => got.length === 15);
      assert.deepEqual(
        got.slice(10).map((d) => d.length),
        [10, 11, 12, SEND_SLOT + 1, 13],
      );
      assert.deepEqual(got[14], pattern(13, 5));
      assert.equal(ttls[11], 2);
      assert.notEqual(ttls[12], 2); // the TTL applied to the probe alone

      // a full ring goes out at once, without waiting for a flush
      const before = c.sendCalls;
      for (let i = 0; i < SEND_RING; i++) assert.ok(tx.queue(1, to, pattern(20, i)));
      assert.equal(c.sendCalls, before + 1);
      assert.equal(c.sent, 15 + SEND_RING);
      await until(() => got.length === 15 + SEND_RING);
      for (let i = 0; i < SEND_RING; i++) assert.deepEqual(got[15 + i], pattern(20, i));

      // no socket of that family: refused at once; after close: refused
      assert.equal(tx.queue(1, V6.withPort(9), pattern(5, 0)), false);
      await tx.close();
      assert.equal(tx.queue(1, to, pattern(5, 0)), false);
    } finally {
      await rx.close();
      await tx.close();
    }
  },
});

Deno.test({
  name: "udp ffi: the transport queues sends and flushes after a receive drain round",
  ignore,
  fn: async () => {
    const gotA: Got[] = [];
    const a = await openOn(V4, gotA);
    // b answers every datagram from inside its receive handler (as the node does)
    const gotB: Got[] = [];
    const b: Awaited<ReturnType<typeof openOn>> = await openOn(V4, gotB, {
      onPacket: (sock, remote, data) => {
        gotB.push({ sock, remote, data: data.slice() });
        b.send(sock, remote, data);
        b.send(sock, remote, data);
      },
    });
    try {
      const to = b.boundAddresses()[0];
      for (let i = 0; i < 20; i++) assert.ok(a.send(1, to, pattern(30, i)));
      a.flush!();
      await until(() => gotA.length === 40);
      for (let i = 0; i < 20; i++) {
        assert.deepEqual(gotA[2 * i].data, pattern(30, i));
        assert.deepEqual(gotA[2 * i + 1].data, pattern(30, i));
      }
      const s = (b as FfiUdpTransport).stats;
      assert.equal(s.sent, 40);
      // the replies went out in batches: fewer send calls than datagrams
      assert.ok(s.sendCalls < 40, `sendCalls ${s.sendCalls}`);
      assert.ok(s.queued === 40);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "udp ffi: socket buffers are grown, node:dgram and FFI transports interoperate",
  ignore,
  fn: async () => {
    const s = bindUdpSocket(V4);
    LinuxUdp.closeSocket(s);
    // the kernel reports twice the size granted; at least the default must be exceeded when
    // allowed (root or a large rmem_max)
    const rmemMax = sysctl("/proc/sys/net/core/rmem_max");
    if (Deno.uid() === 0 || rmemMax >= 1 << 22) assert.ok(s.rcvbuf >= 1 << 22, `${s.rcvbuf}`);
    assert.ok(s.sndbuf > 0);
    const gotF: Got[] = [];
    const gotD: Got[] = [];
    const f = await openOn(V4, gotF);
    const d = await openOn(V4, gotD, { impl: "dgram" });
    try {
      assert.ok(f instanceof FfiUdpTransport);
      assert.ok(d instanceof UdpTransport);
      assert.ok(f.send(1, d.boundAddresses()[0], pattern(1400, 1)));
      assert.ok(d.send(1, f.boundAddresses()[0], pattern(1400, 2)));
      await until(() => gotF.length === 1 && gotD.length === 1);
      assert.deepEqual(gotD[0].data, pattern(1400, 1));
      assert.deepEqual(gotF[0].data, pattern(1400, 2));
      assert.ok(gotF[0].remote.equals(d.boundAddresses()[0]));
    } finally {
      await f.close();
      await d.close();
    }
  },
});

/** Starts a LinuxUdp on 127.0.0.1 that copies what it receives into `got`. */
function receiver(
  got: Uint8Array[],
  opts: Partial<LinuxUdpOptions> = {},
  ip: InetAddress = V4,
): LinuxUdp {
  return LinuxUdp.start([bindUdpSocket(ip)], {
    onPacket: (_s, _r, d) => got.push(d.slice()),
    ...opts,
  });
}

Deno.test({
  name: "udp ffi: equal-sized runs go out as GSO messages and arrive whole, in order (GRO or not)",
  ignore,
  fn: async () => {
    const gro: Uint8Array[] = [];
    const plain: Uint8Array[] = [];
    const rxGro = receiver(gro);
    const rxPlain = receiver(plain, { offload: false });
    const tx = LinuxUdp.start([bindUdpSocket(V4)], { onPacket: () => {} });
    try {
      const a = rxGro.sockets[0].local, b = rxPlain.sockets[0].local;
      // runs: 40 × 1427 + a shorter tail; mixed sizes; destinations interleaved; a single one
      const plan: [InetAddress, number][] = [];
      for (let i = 0; i < 40; i++) plan.push([a, 1427]);
      plan.push([a, 1000]);
      for (const n of [1427, 1427, 1427, 1000, 1427, 500, 500, 64]) plan.push([b, n]);
      for (let i = 0; i < 10; i++) plan.push([i % 2 ? a : b, 1200]);
      for (let i = 0; i < 100; i++) plan.push([b, 700]); // more than GSO_MAX_SEGMENTS in a row
      const sent = plan.map(([to, n], i) => ({ to, d: pattern(n, i) }));
      for (const x of sent) assert.ok(tx.queue(1, x.to, x.d));
      tx.flush();
      const wantA = sent.filter((x) => x.to === a).map((x) => x.d);
      const wantB = sent.filter((x) => x.to === b).map((x) => x.d);
      await until(() => gro.length === wantA.length && plain.length === wantB.length);
      assert.deepEqual(gro, wantA);
      assert.deepEqual(plain, wantB);
      const c = tx.counters;
      assert.equal(c.sent, sent.length);
      assert.ok(c.gsoMessages >= 4, `gso messages ${c.gsoMessages}`);
      assert.ok(c.gsoDatagrams >= 41 + 3 + 100, `gso datagrams ${c.gsoDatagrams}`);
      assert.ok(c.sendCalls < 10, `send calls ${c.sendCalls}`);
      assert.equal(c.gsoFallbacks, 0);
      // loopback hands a GSO message to a UDP_GRO socket in one piece
      assert.ok(rxGro.counters.groBuffers >= 1, `gro buffers ${rxGro.counters.groBuffers}`);
      assert.ok(rxGro.counters.groDatagrams >= 41);
      assert.equal(rxPlain.counters.groBuffers, 0);
    } finally {
      await Promise.all([rxGro.close(), rxPlain.close(), tx.close()]);
    }
  },
});

Deno.test({
  name: "udp ffi: a GSO message the kernel refuses is resent datagram by datagram",
  ignore,
  fn: async () => {
    const got: Uint8Array[] = [];
    const rx = receiver(got);
    const sock = bindUdpSocket(V4);
    // SO_NO_CHECK (no UDP checksums) makes the kernel refuse UDP_SEGMENT with EINVAL
    const one = new Uint8Array([1, 0, 0, 0]);
    assert.equal(libc().setsockopt(sock.fd, 1, 11, one, 4), 0);
    const tx = LinuxUdp.start([sock], { onPacket: () => {} });
    try {
      const to = rx.sockets[0].local;
      const datas = Array.from({ length: 30 }, (_, i) => pattern(1300, i));
      for (const d of datas) tx.queue(1, to, d);
      tx.flush();
      await until(() => got.length === 30);
      assert.deepEqual(got, datas);
      assert.equal(tx.counters.gsoFallbacks, 1);
      assert.equal(tx.counters.gsoMessages, 0);
      // that destination is no longer batched: no further refusals
      for (const d of datas) tx.queue(1, to, d);
      tx.flush();
      await until(() => got.length === 60);
      assert.equal(tx.counters.gsoFallbacks, 1);
      assert.equal(tx.counters.sent, 60);
    } finally {
      await Promise.all([rx.close(), tx.close()]);
    }
  },
});

Deno.test({
  name: "udp ffi: GSO and GRO over IPv6 (::1)",
  ignore: ignore || !haveIpv6(),
  fn: async () => {
    const got: Uint8Array[] = [];
    const rx = receiver(got, {}, V6);
    const tx = LinuxUdp.start([bindUdpSocket(V6)], { onPacket: () => {} });
    try {
      const to = rx.sockets[0].local;
      const datas = Array.from({ length: 40 }, (_, i) => pattern(i < 39 ? 1411 : 900, i));
      for (const d of datas) assert.ok(tx.queue(1, to, d));
      tx.flush();
      await until(() => got.length === datas.length);
      assert.deepEqual(got, datas);
      assert.equal(tx.counters.gsoMessages, 1);
      assert.equal(tx.counters.gsoDatagrams, 40);
      assert.ok(rx.counters.groBuffers >= 1);
    } finally {
      await Promise.all([rx.close(), tx.close()]);
    }
  },
});

Deno.test("udp ffi: receive moderation is asked by a bulk stream of large datagrams only", () => {
  const soon = MODERATE_STREAM_GAP_MS / 2;
  // ZeroTier One sending bulk: one or two ~1.4 KB fragments per drain, back to back
  assert.equal(asksModeration(1, 1432, soon), true);
  assert.equal(asksModeration(2, 1432 + 1398, soon), true);
  assert.equal(asksModeration(MODERATE_MAX_DATAGRAMS, MODERATE_MAX_DATAGRAMS * 1400, soon), true);
  // an exchange of small datagrams (ping flood, RPC): each waits for the answer, never a nap
  assert.equal(asksModeration(1, 122, soon), false);
  assert.equal(asksModeration(2, 2 * MODERATE_MIN_AVG_BYTES - 1, soon), false);
  assert.equal(asksModeration(3, 3 * 300, soon), false);
  // a lone datagram after a pause, a drain that already took many, or nothing: no nap
  assert.equal(asksModeration(1, 1432, MODERATE_STREAM_GAP_MS), false);
  assert.equal(asksModeration(1, 1432, Infinity), false);
  assert.equal(asksModeration(MODERATE_MAX_DATAGRAMS + 1, 64 * 1432, soon), false);
  assert.equal(asksModeration(0, 0, soon), false);
});

Deno.test({
  name: "udp ffi: a rehearsed send sends nothing and counts nothing; the ring stays intact",
  ignore,
  fn: async () => {
    const gotA: Got[] = [];
    const gotB: Got[] = [];
    const a = await openOn(V4, gotA);
    const b = await openOn(V4, gotB);
    try {
      assert.ok(a instanceof FfiUdpTransport);
      const bAddr = b.boundAddresses()[0];
      const before = JSON.stringify(a.stats);
      for (let i = 0; i < 5; i++) a.rehearseSend(1, bAddr, pattern(120, i));
      a.flush();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(gotB.length, 0, "nothing reached the other socket");
      assert.equal(JSON.stringify(a.stats), before, "no counter moved");
      // queued datagrams around a rehearsal leave as they were queued, the rehearsal's not at all
      assert.ok(a.send(1, bAddr, pattern(100, 1)));
      a.rehearseSend(1, bAddr, pattern(130, 9));
      assert.ok(a.send(1, bAddr, pattern(110, 2)));
      a.flush();
      await until(() => gotB.length === 2);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(gotB.length, 2);
      assert.deepEqual(gotB[0].data, pattern(100, 1));
      assert.deepEqual(gotB[1].data, pattern(110, 2));
      assert.equal(a.stats.sent, 2);
    } finally {
      await a.close();
      await b.close();
    }
  },
});
