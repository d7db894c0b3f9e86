// Tests of the secondary/tertiary port choice: random start counting up past ports in use, fixed ports, re-picking the secondary port after two minutes offline.
import assert from "node:assert/strict";
import { Logger } from "../../src/service/logger.ts";
import { TransportMux } from "../../src/service/transport_mux.ts";
import {
  openExtraPort,
  PORT_INDEX,
  randomPortStart,
  SecondaryPortKeeper,
} from "../../src/service/udp_ports.ts";
import { PortInUseError, type UdpTransportApi } from "../../src/service/udp_transport.ts";
import { seededRandom } from "../helpers/seeded_random.ts";

const log = new Logger("error");

/** A fake transport on `port`. */
function fake(port: number, closed: number[]): UdpTransportApi {
  return {
    stats: { received: 0, sent: 0, sendErrors: 0, handlerErrors: 0 },
    send: () => true,
    boundAddresses: () => [],
    hasWildcard: () => false,
    close: () => {
      closed.push(port);
      return Promise.resolve();
    },
  };
}

Deno.test("random ports start in 20000..65499", () => {
  const r = seededRandom(3);
  for (let i = 0; i < 1000; i++) {
    const p = randomPortStart(r);
    assert.ok(p >= 20000 && p <= 65499, String(p));
  }
});

Deno.test("a random port counts up past ports in use and wraps to 20000", async () => {
  const mux = new TransportMux({ onPacket: () => {}, now: () => 0, log });
  const tried: number[] = [];
  // random start 65499 (the highest): 65499..65535 busy, then 20000 busy, 20001 free
  const random = () => {
    const v = 65499 - 20000;
    return new Uint8Array([0, 0, v >> 8, v & 0xff]);
  };
  const port = await openExtraPort({
    port: 0,
    mux,
    index: PORT_INDEX.secondary,
    random,
    bind: [],
    log,
    open: (p) => {
      tried.push(p);
      if (p !== 20001) return Promise.reject(new PortInUseError(p));
      return Promise.resolve(fake(p, []));
    },
  });
  assert.equal(port, 20001);
  const high = Array.from({ length: 37 }, (_, i) => 65499 + i);
  assert.deepEqual(tried, [...high, 20000, 20001]);
  assert.ok(mux.transport(PORT_INDEX.secondary));
});

Deno.test("a fixed port in use is not replaced by another", async () => {
  const mux = new TransportMux({ onPacket: () => {}, now: () => 0, log });
  const tried: number[] = [];
  const port = await openExtraPort({
    port: 29993,
    mux,
    index: PORT_INDEX.tertiary,
    random: seededRandom(1),
    bind: [],
    log,
    open: (p) => {
      tried.push(p);
      return Promise.reject(new PortInUseError(p));
    },
  });
  assert.equal(port, 0);
  assert.deepEqual(tried, [29993]);
  assert.equal(mux.transport(PORT_INDEX.tertiary), undefined);
});

Deno.test("a random secondary port is re-picked after 120 s offline, a fixed one never", async () => {
  const closed: number[] = [];
  let next = 30000;
  const mux = new TransportMux({ onPacket: () => {}, now: () => 0, log });
  const o = {
    port: 0,
    mux,
    index: PORT_INDEX.secondary,
    random: () => {
      const v = next++ - 20000;
      return new Uint8Array([0, 0, v >> 8, v & 0xff]);
    },
    bind: [],
    log,
    open: (p: number) => Promise.resolve(fake(p, closed)),
  };
  const k = new SecondaryPortKeeper(await openExtraPort(o), o, 0);
  assert.equal(k.port, 30000);
  assert.equal(await k.check(60_000, true), false);
  assert.equal(await k.check(170_000, false), false, "offline 110 s");
  assert.equal(await k.check(181_000, false), true, "offline 121 s");
  assert.equal(k.port, 30001);
  assert.deepEqual(closed, [30000]);
  assert.equal(await k.check(200_000, false), false, "not again right away");

  const fixed = { ...o, port: 29993 };
  const kf = new SecondaryPortKeeper(await openExtraPort(fixed), fixed, 0);
  assert.equal(await kf.check(500_000, false), false);
  assert.equal(kf.port, 29993);
});
