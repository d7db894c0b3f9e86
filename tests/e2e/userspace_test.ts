// netns e2e: a userspace member (root without CAP_NET_ADMIN, /dev/net/tun bound to /dev/null, no --allow-ffi) and a kernel-TAP member: SOCKS5 curl of 64 MiB, --expose, ping, 200 parallel connections.
import assert from "node:assert/strict";
import { announceSkip, exec, type NsProcess, waitFor, withLab } from "./netns.ts";
import {
  apiCall,
  authorize,
  CONTROLLER_IP,
  createNetwork,
  MEMBER_IPS,
  ONLINE_MS,
  overlayIps,
  pingUntil,
  vl2World,
  waitStatus,
} from "./vl2_lab.ts";
import {
  describeAll,
  explainFailure,
  prepareHome,
  ROOT_IP,
  startNode,
  type ZtNode,
} from "./zt_lab.ts";
import { USERSPACE_LAUNCHER } from "./userspace_lab.ts";

const LIB_MEMBER = new URL("./userspace_lib_member.ts", import.meta.url).pathname;

const SKIP = announceSkip("userspace_test.ts");

const BIG = 64 << 20;

/** The HTTP server run in the TAP member's namespace: /big is 64 MiB, /small is "ok". */
const SERVER = `
const block = new Uint8Array(1 << 20);
let x = 12345;
for (let i = 0; i < block.length; i++) { x = (x * 1103515245 + 12345) >>> 0; block[i] = x >>> 24; }
const [host, port] = Deno.args;
Deno.serve({ hostname: host, port: Number(port), onListen: () => console.log("listening") }, (req) => {
  const u = new URL(req.url);
  if (u.pathname === "/small") return new Response("ok");
  if (u.pathname !== "/big") return new Response("no", { status: 404 });
  let sent = 0;
  return new Response(new ReadableStream({
    pull(c) { if (sent >= ${BIG}) return c.close(); c.enqueue(block.slice()); sent += block.length; },
  }), { headers: { "content-length": "${BIG}" } });
});
`;

async function expectedSha(): Promise<string> {
  const block = new Uint8Array(1 << 20);
  let x = 12345;
  for (let i = 0; i < block.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    block[i] = x >>> 24;
  }
  const all = new Uint8Array(BIG);
  for (let o = 0; o < BIG; o += block.length) all.set(block, o);
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(d).map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test({
  name:
    "e2e userspace: no-TAP member (no CAP_NET_ADMIN, no tun, no FFI) ↔ TAP member: SOCKS 64 MiB, --expose, ping, 200 parallel",
  ignore: SKIP !== undefined,
  fn: async () => {
    const started = Date.now();
    await withLab(async (lab) => {
      const w = await vl2World();
      const r = await lab.addHost("r", ROOT_IP);
      const c = await lab.addHost("ctl", CONTROLLER_IP);
      const ha = await lab.addHost("a", MEMBER_IPS.a);
      const hb = await lab.addHost("b", MEMBER_IPS.b);
      const root = startNode(lab, { name: "root", ns: r.ns, id: w.ids.root, planet: w.planet });
      const all: ZtNode[] = [root];
      await root.waitOnline(15_000);
      const ctl = startNode(lab, { name: "ctl", ns: c.ns, id: w.ids.ctl, planet: w.planet });
      all.push(ctl);
      await new Promise((res) => setTimeout(res, 2_200));
      const a = startNode(lab, { name: "a", ns: ha.ns, id: w.ids.a, planet: w.planet });
      all.push(a);
      await new Promise((res) => setTimeout(res, 2_200));
      // b serves 127.0.0.1:8001 and exposes it on overlay port 2222
      const local = lab.spawn(hb.ns, [
        Deno.execPath(),
        "eval",
        `Deno.serve({ hostname: "127.0.0.1", port: 8001 }, () => new Response("exposed-ok"))`,
      ], { logFile: lab.path("b-local.log") });
      const b = startNode(lab, {
        name: "b",
        ns: hb.ns,
        id: w.ids.b,
        planet: w.planet,
        wrap: USERSPACE_LAUNCHER,
        args: ["--userspace", "--expose", "tcp:2222=127.0.0.1:8001"],
      });
      all.push(b);
      const hostC = await lab.addHost("c", MEMBER_IPS.c);
      await new Promise((res) => setTimeout(res, 2_200));
      const cHome = lab.path("c");
      prepareHome(cHome, w.ids.c, w.planet, "tok-c");
      let lib: NsProcess | undefined;
      try {
        await explainFailure(all, async () => {
          await Promise.all(all.map((n) => n.waitOnline(ONLINE_MS)));
          const nwid = await createNetwork(ctl);
          for (const n of [a, b]) {
            await authorize(ctl, nwid, n, true);
            assert.equal((await apiCall(n, "POST", `/network/${nwid}`, {})).status, 200);
          }
          const cId = { address: w.ids.c.address } as ZtNode;
          await authorize(ctl, nwid, cId, true);
          const na = await waitStatus(a, nwid, "OK", 20_000, (x) => x.portDeviceName !== "");
          const nb = await waitStatus(b, nwid, "OK", 20_000, (x) => {
            try {
              return String(x.portDeviceName).startsWith("userspace-") && !!overlayIps(x).v4;
            } catch {
              return false;
            }
          });
          const ipA = overlayIps(na).v4!;
          const ipB = overlayIps(nb).v4!;
          // b has no tun/tap device and never had the capability
          const links = await exec(hb.ns, ["ip", "-d", "-o", "link", "show"]);
          assert.ok(!/\btun\b|\btap\b|: zt/.test(links.stdout), links.stdout);
          const capEff = /^CapEff:\s*([0-9a-f]+)/m.exec(
            Deno.readTextFileSync(`/proc/${b.proc.pid}/status`),
          );
          assert.ok(capEff, "CapEff of b");
          assert.equal(BigInt("0x" + capEff[1]) & (1n << 12n), 0n, "b runs without CAP_NET_ADMIN");
          // ping a → b over IPv4 (ARP) and rfc4193 IPv6 (NDP): b's own stack answers
          await pingUntil(a, ipB, 15_000, all);
          await pingUntil(a, overlayIps(nb).rfc4193, 15_000, all);
          const ex = await exec(a.ns, ["curl", "-sS", "--max-time", "10", `http://${ipB}:2222/`], {
            check: false,
            timeoutMs: 15_000,
          });
          assert.equal(ex.stdout, "exposed-ok", ex.stderr);
          // HTTP server on a's overlay address; b fetches 64 MiB through its SOCKS5 proxy
          const script = lab.path("server.ts");
          Deno.writeTextFileSync(script, SERVER);
          const srv = lab.spawn(a.ns, [Deno.execPath(), "run", "-A", script, ipA, "8000"], {
            logFile: lab.path("a-http.log"),
          });
          await waitFor("http server on a", 10_000, () => {
            try {
              return Deno.readTextFileSync(lab.path("a-http.log")).includes("listening");
            } catch {
              return false;
            }
          });
          const out = lab.path("big.bin");
          const t0 = Date.now();
          const dl = await exec(hb.ns, [
            "curl",
            "-sS",
            "--max-time",
            "120",
            "--socks5",
            "127.0.0.1:1080",
            "-o",
            out,
            `http://${ipA}:8000/big`,
          ], { check: false, timeoutMs: 130_000 });
          const ms = Date.now() - t0;
          assert.equal(dl.code, 0, dl.stderr);
          const sum = (await exec(hb.ns, ["sha256sum", out])).stdout.split(" ")[0];
          assert.equal(sum, await expectedSha());
          console.log(
            `64 MiB via SOCKS5 in ${ms} ms (${((BIG * 8) / ms / 1000).toFixed(1)} Mbit/s)`,
          );
          Deno.removeSync(out);
          // 200 parallel connections through the proxy (HTTP CONNECT and SOCKS5 alike)
          const par = await exec(hb.ns, [
            "sh",
            "-c",
            `seq 200 | xargs -P 200 -I{} curl -s --max-time 30 --socks5 127.0.0.1:1080 ` +
            `-o /dev/null -w "%{http_code}\\n" http://${ipA}:8000/small | grep -c '^200$'`,
          ], { check: false, timeoutMs: 60_000 });
          assert.equal(par.stdout.trim(), "200", par.stderr);
          const hc = await exec(hb.ns, [
            "curl",
            "-sS",
            "--max-time",
            "10",
            "--proxytunnel",
            "-x",
            "http://127.0.0.1:1080",
            `http://${ipA}:8000/small`,
          ], { check: false, timeoutMs: 15_000 });
          assert.equal(hc.stdout, "ok", hc.stderr);
          // the library member c (no FFI permission): joins, fetches from a, serves TCP and UDP
          const libLog = lab.path("c-lib.log");
          lib = lab.spawn(hostC.ns, [
            Deno.execPath(),
            "run",
            "--allow-read",
            "--allow-write",
            "--allow-net",
            "--allow-env",
            "--allow-sys",
            LIB_MEMBER,
            cHome,
            nwid,
            ipA,
          ], { logFile: libLog, env: { NO_COLOR: "1" } });
          const libText = () => {
            try {
              return Deno.readTextFileSync(libLog);
            } catch {
              return "";
            }
          };
          await waitFor(
            "library member fetched from a",
            60_000,
            () => libText().includes("fetched ok"),
            {
              detail: () => libText(),
            },
          );
          assert.match(libText(), /ping ok/, "the userspace member pings the TAP member");
          const ipC = /joined (198\.19\.0\.\d+)\//.exec(libText())?.[1];
          assert.ok(ipC, libText());
          const fromA = await exec(
            a.ns,
            ["curl", "-sS", "--max-time", "10", `http://${ipC}:7000/`],
            {
              check: false,
              timeoutMs: 15_000,
            },
          );
          assert.equal(fromA.stdout, "lib-ok", fromA.stderr);
          const udp = await exec(a.ns, [
            Deno.execPath(),
            "eval",
            "--unstable-net",
            `const s = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
             s.send(new TextEncoder().encode("udp-hi"), { transport: "udp", hostname: "${ipC}", port: 7001 });
             const t = setTimeout(() => Deno.exit(3), 8000);
             const [d] = await s.receive(); clearTimeout(t);
             console.log(new TextDecoder().decode(d)); s.close();`,
          ], { check: false, timeoutMs: 15_000 });
          assert.equal(udp.stdout.trim(), "udp-hi", udp.stderr);
          // IPv6 (rfc4193) through SOCKS5: the userspace stack dials over NDP
          const ip6A = overlayIps(na).rfc4193;
          const srv6 = lab.spawn(a.ns, [Deno.execPath(), "run", "-A", script, ip6A, "8000"], {
            logFile: lab.path("a-http6.log"),
          });
          await waitFor("http server on a (IPv6)", 10_000, () => {
            try {
              return Deno.readTextFileSync(lab.path("a-http6.log")).includes("listening");
            } catch {
              return false;
            }
          });
          const v6 = await exec(hb.ns, [
            "curl",
            "-sS",
            "-g",
            "--max-time",
            "10",
            "--socks5",
            "127.0.0.1:1080",
            `http://[${ip6A}]:8000/small`,
          ], { check: false, timeoutMs: 15_000 });
          assert.equal(v6.stdout, "ok", v6.stderr);
          await srv6.stop("SIGTERM", 2000);
          await srv.stop("SIGTERM", 2000);
        });
      } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : e}\n${describeAll(all)}`);
      } finally {
        await lib?.stop("SIGTERM", 2000);
        await local.stop("SIGTERM", 2000);
      }
    });
    const took = Date.now() - started;
    console.log(`userspace e2e took ${took} ms`);
    assert.ok(took < 240_000, `bounded: ${took} ms`);
  },
});
