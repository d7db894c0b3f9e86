// Operator-side probes of issue 11 (kill -9 inside DELETE, slow/idle/oversized API clients, nesting, settings, reserved ids, second node on a home) against the zt at $ZT_CLI (default this checkout): prints what happened, asserts nothing, so it also measures older builds.
import {
  api,
  CLI,
  makeLabHome,
  rssKiB,
  sleep,
  spawnZt,
  TOKEN,
  waitUp,
} from "../tests/reliability/ops_lab.ts";
const enc = new TextEncoder();
const which = Deno.args[0] ?? "all";
console.log("CLI", CLI);
async function conn(port: number) {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  let closed = false;
  let text = "";
  const done = (async () => {
    const b = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await c.read(b);
        if (n === null) break;
        text += new TextDecoder().decode(b.subarray(0, n));
      }
    } catch { /* counted as closed, or gone */ }
    closed = true;
  })();
  return {
    c,
    done,
    isClosed: () => closed,
    text: () => text,
    send: async (s: string | Uint8Array) => {
      try {
        const d = typeof s === "string" ? enc.encode(s) : s;
        for (let o = 0; o < d.length;) o += await c.write(d.subarray(o));
        return true;
      } catch {
        return false;
      }
    },
    close: () => {
      try {
        c.close();
      } catch { /* counted as closed, or gone */ }
    },
  };
}
if (which === "all" || which === "delete") {
  const h = makeLabHome("zt-m-");
  const ctl = `${h.home}/controller.d`;
  const nwid = `${h.address}00c0de`;
  const p0 = spawnZt(h.home);
  await waitUp(p0, h.port);
  await api(h.port, "POST", `/controller/network/${nwid}`, { name: "crash" });
  await api(h.port, "POST", `/controller/network/${nwid}/member/0123456789`, { authorized: true });
  p0.kill9();
  await p0.done;
  const net = Deno.readTextFileSync(`${ctl}/network/${nwid}.json`);
  const tpl = JSON.parse(Deno.readTextFileSync(`${ctl}/network/${nwid}/member/0123456789.json`));
  const addrs: string[] = [];
  for (let i = 0; i < 2000; i++) {
    addrs.push((0x1000000000 + i * 7919).toString(16).padStart(10, "0"));
  }
  const restore = () => {
    for (const e of Deno.readDirSync(`${ctl}/network`)) {
      Deno.removeSync(`${ctl}/network/${e.name}`, { recursive: true });
    }
    Deno.writeTextFileSync(`${ctl}/network/${nwid}.json`, net);
    Deno.mkdirSync(`${ctl}/network/${nwid}/member`, { recursive: true });
    for (const a of addrs) {
      Deno.writeTextFileSync(
        `${ctl}/network/${nwid}/member/${a}.json`,
        JSON.stringify({ ...tpl, id: a, address: a }),
      );
    }
  };
  const count = (d: string) => {
    try {
      return [...Deno.readDirSync(d)].length;
    } catch {
      return 0;
    }
  };
  for (let round = 0; round < 6; round++) {
    restore();
    const p = spawnZt(h.home);
    await waitUp(p, h.port);
    const delay = 3 + round * 8;
    const req = api(h.port, "DELETE", `/controller/network/${nwid}`).catch(() => undefined);
    await sleep(delay);
    p.kill9();
    await p.done;
    await req;
    const netPresent = count(`${ctl}/network`) > 0 && (() => {
      try {
        Deno.statSync(`${ctl}/network/${nwid}.json`);
        return true;
      } catch {
        return false;
      }
    })();
    const left = count(`${ctl}/network/${nwid}/member`);
    const p2 = spawnZt(h.home);
    await waitUp(p2, h.port);
    const g = await api(h.port, "GET", `/controller/network/${nwid}/member`);
    if (g.status === 200) await api(h.port, "DELETE", `/controller/network/${nwid}`);
    await api(h.port, "POST", `/controller/network/${nwid}`, { name: "again" });
    p2.kill9();
    await p2.done;
    const p3 = spawnZt(h.home);
    await waitUp(p3, h.port);
    const after = await api(h.port, "GET", `/controller/network/${nwid}/member`);
    const res = Object.keys(after.json as object).length;

    p3.kill9();
    await p3.done;
    console.log(
      `delete round ${round}: kill at ${delay} ms: network file ${
        netPresent ? "present" : "gone"
      }, ${left} member files left; after re-create+restart: ${res} members back`,
    );
  }
  h.remove();
}
if (which === "all" || which === "api") {
  const h = makeLabHome("zt-m-");
  const p = spawnZt(h.home);
  await waitUp(p, h.port);
  const rss0 = rssKiB(p.pid);
  // idle / slow head / slow body, 20 each
  const idle = [], sh = [], sb = [];
  for (let i = 0; i < 20; i++) {
    idle.push(await conn(h.port));
    sh.push(await conn(h.port));
    sb.push(await conn(h.port));
  }
  for (const s of sb) {
    await s.send(
      `POST /config/settings HTTP/1.1\r\nHost: x\r\nX-ZT1-Auth: ${TOKEN}\r\nContent-Length: 100000\r\n\r\n{`,
    );
  }
  const head = `GET /status HTTP/1.1\r\nHost: x\r\nX-ZT1-Auth: ${TOKEN}\r\n\r\n`;
  for (let i = 0; i < 120; i++) {
    for (const s of sh) if (!s.isClosed()) await s.send(head[i % 20]);
    for (const s of sb) if (!s.isClosed()) await s.send(" ");
    await sleep(100);
  }
  console.log(
    `after 12 s: idle closed ${idle.filter((x) => x.isClosed()).length}/20, slow-head closed ${
      sh.filter((x) => x.isClosed()).length
    }/20, slow-body closed ${sb.filter((x) => x.isClosed()).length}/20`,
  );
  for (const x of [...idle, ...sh, ...sb]) x.close();
  // 10 MB content-length
  const big = await conn(h.port);
  await big.send(
    `POST /config/settings HTTP/1.1\r\nHost: x\r\nX-ZT1-Auth: ${TOKEN}\r\nContent-Length: 10485760\r\n\r\n`,
  );
  await Promise.race([big.done, sleep(3000)]);
  console.log(
    `10 MB Content-Length, no body sent: answer within 3 s: ${
      JSON.stringify(big.text().slice(0, 30))
    }`,
  );
  big.close();
  // 200 slow chunked bodies
  const before = rssKiB(p.pid);
  let peak = before;
  const cs = [];
  for (let i = 0; i < 200; i++) {
    try {
      cs.push(await conn(h.port));
    } catch { /* counted as closed, or gone */ }
  }
  for (const c of cs) {
    await c.send(
      `POST /config/settings HTTP/1.1\r\nHost: x\r\nX-ZT1-Auth: ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
  }
  const piece = enc.encode(`4000\r\n${"b".repeat(0x4000)}\r\n`);
  for (let r = 0; r < 160; r++) {
    const live = cs.filter((c) => !c.isClosed());
    if (!live.length) break;
    await Promise.all(live.map((c) => c.send(piece)));
    peak = Math.max(peak, rssKiB(p.pid));
    await sleep(50);
  }
  const stillOpen = cs.filter((c) => !c.isClosed()).length;
  for (const c of cs) c.close();
  await sleep(500);
  console.log(
    `200 slow chunked bodies (up to 2.5 MB each sent): RSS ${before} -> peak ${peak} -> ${
      rssKiB(p.pid)
    } KiB; still open at the end of sending: ${stillOpen}`,
  );
  const deep = "[".repeat(100000) + "]".repeat(100000);
  const d = await api(h.port, "POST", "/config/settings", `{"bind":${deep}}`);
  console.log(`nesting 100000: ${d.status} ${d.text.slice(0, 80)}`);
  // settings
  const bad = [
    '{"allowManagementFrom":"x"}',
    '{"allowManagementFrom":["300.0.0.0/8"]}',
    '{"allowManagementFrom":["10.0.0.1"]}',
    '{"bind":["nope"]}',
    '{"primaryPort":70000}',
    '{"portMappingEnabled":"yes"}',
    '{"__proto__":{"x":1}}',
    '{"noSuchSetting":true}',
    '{"softwareUpdate":"sometimes"}',
    '{"cipher":"rot13"}',
  ];
  const st: number[] = [];
  for (const b of bad) st.push((await api(h.port, "POST", "/config/settings", b)).status);
  console.log(`settings: ${bad.length} invalid patches -> statuses ${st.join(",")}`);
  const ids: [string, string, unknown][] = [
    ["POST", "/controller/network/ffffffffffffffff", {}],
    ["POST", "/moon/0000000000", { seed: "1234567890" }],
    ["POST", "/network/ffffffffffffffff", {}],
    ["POST", `/controller/network/${h.address}000001`, {}],
    ["POST", `/controller/network/${h.address}000001/member/ff00000001`, {}],
    ["POST", `/controller/network/${h.address}000001/member/0000000000`, {}],
  ];
  const is: string[] = [];
  for (const [m, path, b] of ids) is.push(`${path}=${(await api(h.port, m, path, b)).status}`);
  console.log(`ids: ${is.join(" ")}`);
  // second node
  const t0 = performance.now();
  const q = spawnZt(h.home, ["-p", "0"]);
  const r = await Promise.race([q.done, sleep(8000).then(() => undefined)]);
  if (!r) q.kill9();
  console.log(
    `second node on the home: ${
      r
        ? `exit ${r.code} after ${Math.round(performance.now() - t0)} ms: ${
          r.stderr.trim().split("\n").pop()
        }`
        : "still running after 8 s (killed)"
    }`,
  );
  console.log(`RSS at start ${rss0} KiB, at end ${rssKiB(p.pid)} KiB`);
  p.kill9();
  await p.done;
  h.remove();
}
