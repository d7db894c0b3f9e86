// Local API bounds on a real zt process: idle, slow-head and slow-body connections closed by the 5 s deadlines, 413 before buffering, the connection cap, JSON nesting depth.
import assert from "node:assert/strict";
import { api, makeLabHome, rssKiB, sleep, spawnZt, TOKEN, waitUp } from "./ops_lab.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A raw client connection that records what it receives and when the server closes it. */
interface Probe {
  conn: Deno.TcpConn;
  /** Resolves when the server closes (or resets) the connection. */
  closed: Promise<void>;
  isClosed: () => boolean;
  received: () => string;
  /** Writes, ignoring errors (the server may have closed already). */
  send: (s: string | Uint8Array) => Promise<boolean>;
  close: () => void;
}

async function probe(port: number): Promise<Probe> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let text = "";
  let closed = false;
  const done = (async () => {
    const b = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(b);
        if (n === null) break;
        text += dec.decode(b.subarray(0, n));
      }
    } catch {
      // reset counts as closed
    }
    closed = true;
  })();
  return {
    conn,
    closed: done,
    isClosed: () => closed,
    received: () => text,
    send: async (s) => {
      try {
        const d = typeof s === "string" ? enc.encode(s) : s;
        for (let off = 0; off < d.length;) off += await conn.write(d.subarray(off));
        return true;
      } catch {
        return false;
      }
    },
    close: () => {
      try {
        conn.close();
      } catch {
        // closed
      }
    },
  };
}

/** Waits for all probes to be closed by the server, at most `boundMs`; returns how many were. */
async function closedWithin(ps: Probe[], boundMs: number): Promise<number> {
  await Promise.race([Promise.all(ps.map((p) => p.closed)), sleep(boundMs)]);
  return ps.filter((p) => p.isClosed()).length;
}

Deno.test("local API bounds on a real zt process", async (t) => {
  const h = makeLabHome("zt-rel-api-");
  const p = spawnZt(h.home);
  const open: Probe[] = [];
  try {
    await waitUp(p, h.port);
    const rss0 = rssKiB(p.pid);
    const report: string[] = [];

    await t.step(
      "idle, slow-head, slow-body and idle keep-alive connections are closed",
      async () => {
        const idle: Probe[] = [];
        const slowHead: Probe[] = [];
        const slowBody: Probe[] = [];
        const keepAlive: Probe[] = [];
        for (let i = 0; i < 15; i++) {
          idle.push(await probe(h.port));
          slowHead.push(await probe(h.port));
          slowBody.push(await probe(h.port));
          keepAlive.push(await probe(h.port));
        }
        open.push(...idle, ...slowHead, ...slowBody, ...keepAlive);
        const head = `GET /status HTTP/1.1\r\nHost: x\r\nX-ZT1-Auth: ${TOKEN}\r\n\r\n`;
        for (const k of keepAlive) await k.send(head);
        for (const s of slowBody) {
          await s.send(
            `POST /config/settings HTTP/1.1\r\nHost: x\r\nX-ZT1-Auth: ${TOKEN}\r\n` +
              `Content-Length: 100000\r\n\r\n{`,
          );
        }
        let stop = false;
        const dribble = (async () => {
          for (let i = 0; i < 200 && !stop; i++) {
            for (const s of slowHead) if (!s.isClosed()) await s.send(head[i % head.length]);
            for (const s of slowBody) if (!s.isClosed()) await s.send(" ");
            await sleep(100);
          }
        })();
        const n = await closedWithin([...idle, ...slowHead, ...slowBody, ...keepAlive], 12000);
        stop = true;
        await dribble;
        assert.equal(n, 60, "every slow or idle connection is closed by the server");
        for (const k of keepAlive) assert.match(k.received(), /^HTTP\/1\.1 200 /, "answered first");
        for (const s of [...idle, ...slowHead, ...slowBody]) assert.equal(s.received(), "");
        report.push(`60 idle/slow connections: ${n} closed by the server`);
      },
    );

    await t.step(
      "oversized bodies get 413 before being buffered (Content-Length and chunked)",
      async () => {
        const a = await probe(h.port);
        open.push(a);
        await a.send(
          `POST /config/settings HTTP/1.1\r\nHost: x\r\nX-ZT1-Auth: ${TOKEN}\r\n` +
            `Content-Length: 10485760\r\n\r\n`,
        );
        await Promise.race([a.closed, sleep(10000)]);
        assert.match(a.received(), /^HTTP\/1\.1 413 /);

        const b = await probe(h.port);
        open.push(b);
        await b.send(
          `POST /config/settings HTTP/1.1\r\nHost: x\r\nX-ZT1-Auth: ${TOKEN}\r\n` +
            `Transfer-Encoding: chunked\r\n\r\n`,
        );
        const chunk = enc.encode(`10000\r\n${"a".repeat(0x10000)}\r\n`);
        for (let i = 0; i < 40 && !b.isClosed(); i++) if (!(await b.send(chunk))) break;
        await Promise.race([b.closed, sleep(10000)]);
        assert.match(b.received(), /^HTTP\/1\.1 413 /);
        assert.equal(
          (await api(h.port, "POST", "/config/settings", "x".repeat(2 << 20))).status,
          413,
        );
      },
    );

    await t.step("200 slow 10 MB bodies keep memory bounded; the node still answers", async () => {
      const before = rssKiB(p.pid);
      let peak = before;
      const conns: Probe[] = [];
      for (let i = 0; i < 200; i++) {
        try {
          conns.push(await probe(h.port));
        } catch {
          // refused under load: counts as bounded
        }
      }
      open.push(...conns);
      for (const c of conns) {
        await c.send(
          `POST /config/settings HTTP/1.1\r\nHost: x\r\nX-ZT1-Auth: ${TOKEN}\r\n` +
            `Transfer-Encoding: chunked\r\n\r\n`,
        );
      }
      const piece = enc.encode(`4000\r\n${"b".repeat(0x4000)}\r\n`);
      for (let round = 0; round < 160; round++) {
        const live = conns.filter((c) => !c.isClosed());
        if (live.length === 0) break;
        await Promise.all(live.map((c) => c.send(piece)));
        peak = Math.max(peak, rssKiB(p.pid));
        await sleep(50);
      }
      const n = await closedWithin(conns, 12000);
      assert.equal(n, conns.length, "every slow-body connection ends");
      const after = rssKiB(p.pid);
      report.push(
        `200 slow 10 MB chunked bodies: RSS ${before} → peak ${peak} → ${after} KiB`,
      );
      assert.ok(peak - before < 200 * 1024, `RSS grew by ${peak - before} KiB`);
      assert.equal((await api(h.port, "GET", "/status")).status, 200);
    });

    await t.step(
      "the connection cap closes extra connections at once; loopback gets its slots back",
      async () => {
        // the last step's connections are answered 413 and then drained for up to 1 s
        await sleep(1500);
        const many: Probe[] = [];
        for (let i = 0; i < 100; i++) many.push(await probe(h.port));
        open.push(...many);
        await sleep(500);
        const early = many.filter((m) => m.isClosed()).length;
        assert.ok(early >= 36 && early < 50, `${early} of 100 closed at once (cap 64)`);
        assert.equal(await closedWithin(many, 12000), 100);
        assert.equal((await api(h.port, "GET", "/status")).status, 200);
        report.push(`100 idle connections: ${early} closed at accept (cap 64), rest by deadline`);
      },
    );

    await t.step("JSON nested deeper than 64 levels is a 400, not a stack overflow", async () => {
      const deep = "[".repeat(100000) + "]".repeat(100000);
      const r1 = await api(h.port, "POST", "/config/settings", `{"bind":${deep}}`);
      assert.equal(r1.status, 400);
      assert.match(r1.text, /nested deeper than 64/);
      const r2 = await api(
        h.port,
        "POST",
        `/controller/network/${h.address}000001`,
        `{"name":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`,
      );
      assert.equal(r2.status, 400);
      const ok = await api(h.port, "POST", "/config/settings", { portMappingEnabled: false });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await api(h.port, "GET", "/status")).status, 200);
    });

    await t.step("the bounds are counted in /metrics", async () => {
      const m = (await api(h.port, "GET", "/metrics")).text;
      const value = (name: string) => {
        const r = new RegExp(`^${name} (\\d+)$`, "m").exec(m);
        return r ? Number(r[1]) : -1;
      };
      assert.ok(value("zt_api_timeouts") >= 60, m);
      assert.ok(value("zt_api_too_large") >= 60, m);
      assert.ok(value("zt_api_connections_rejected") >= 36 + 136, m);
      assert.ok(value("zt_api_connections_entries") >= 1, m);
      report.push(
        `metrics: timeouts ${value("zt_api_timeouts")}, 413s ${value("zt_api_too_large")}, ` +
          `rejected at accept ${value("zt_api_connections_rejected")}`,
      );
    });

    const rss1 = rssKiB(p.pid);
    report.push(`RSS at start ${rss0} KiB, at end ${rss1} KiB`);
    for (const r of report) console.log(r);
  } finally {
    for (const o of open) o.close();
    p.kill9();
    await p.done;
    h.remove();
  }
});
