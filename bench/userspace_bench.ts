// Benchmark: userspace mode in a netns lab — bulk TCP through the SOCKS proxy vs kernel-TAP zt in the same run, connect latency, 1,000 idle proxied connections (RSS per connection).
//
// Root only. Lab of tests/e2e: root .1, controller .2, a .11 (kernel TAP, HTTP server), b .12
// (kernel TAP client), c .13 (`zt run --userspace`, all permissions) and d .14 (`--userspace`
// without CAP_NET_ADMIN, /dev/net/tun bound to /dev/null and without --allow-ffi: UDP over
// node:dgram, cipher 1 on WASM). Options: `--mib N` (bulk size, default 64). With
// ZT_REFERENCE=<path to a zerotier-one binary>, a reference member e .15 (its own kernel TAP, a
// home holding the lab planet only) serves the same file, fetched by c through the proxy and by
// b directly.
import { exec, Lab, type NsProcess, waitFor } from "../tests/e2e/netns.ts";
import { USERSPACE_LAUNCHER } from "../tests/e2e/userspace_lab.ts";
import { ROOT_IP, startNode, type ZtNode } from "../tests/e2e/zt_lab.ts";
import {
  apiCall,
  authorize,
  CONTROLLER_IP,
  createNetwork,
  MEMBER_IPS,
  ONLINE_MS,
  overlayIps,
  vl2World,
  waitStatus,
} from "../tests/e2e/vl2_lab.ts";

/** The launcher of the e2e tests: no CAP_NET_ADMIN, /dev/net/tun on /dev/null, no FFI. */
const NO_FFI_LAUNCHER = USERSPACE_LAUNCHER;

const SERVER = (mib: number) => `
const block = new Uint8Array(1 << 20);
for (let o = 0; o < block.length; o += 65536) crypto.getRandomValues(block.subarray(o, o + 65536));
const [host] = Deno.args;
const held = [];
const hold = Deno.listen({ hostname: host, port: 9000 });
(async () => { for await (const c of hold) { held.push(c); c.read(new Uint8Array(1)).then(() => c.close(), () => c.close()); } })();
Deno.serve({ hostname: host, port: 8000, onListen: () => console.log("listening") }, (req) => {
  if (new URL(req.url).pathname === "/small") return new Response("ok");
  let sent = 0;
  return new Response(new ReadableStream({
    pull(c) { if (sent >= ${mib} << 20) return c.close(); c.enqueue(block.slice()); sent += block.length; },
  }), { headers: { "content-length": String(${mib} << 20) } });
});
`;

/** Opens N SOCKS5 connections to host:9000 and holds them; prints timings (JSON), then waits. */
const CLIENT = `
const [host, n, mode] = Deno.args;
const conns = [];
async function socks(port) {
  const c = await Deno.connect({ hostname: "127.0.0.1", port: 1080 });
  const ip = host.split(".").map(Number);
  await c.write(new Uint8Array([5, 1, 0, 5, 1, 0, 1, ...ip, port >> 8, port & 0xff]));
  const rep = new Uint8Array(12); let got = 0;
  while (got < 12) { const r = await c.read(rep.subarray(got)); if (r === null) throw new Error("closed"); got += r; }
  if (rep[3] !== 0) throw new Error("socks reply " + rep[3]);
  return c;
}
if (mode === "latency") {
  const t = [];
  for (let i = 0; i < Number(n); i++) { const t0 = performance.now(); const c = await socks(9000); t.push(performance.now() - t0); c.close(); }
  t.sort((a, b) => a - b);
  console.log(JSON.stringify({ median: t[t.length >> 1], p90: t[Math.floor(t.length * 0.9)] }));
  Deno.exit(0);
}
let failed = 0;
const errors = {};
await Promise.all(Array.from({ length: Number(n) }, async () => { try { conns.push(await socks(9000)); } catch (e) { failed++; errors[String(e)] = (errors[String(e)] ?? 0) + 1; } }));
console.log(JSON.stringify({ open: conns.length, failed, errors }));
await new Promise(() => {});
`;

/** Starts a ZeroTier One member (lab planet only) at 198.18.0.15, joins it and serves the file. */
async function startReferenceMember(
  lab: Lab,
  binary: string,
  planet: Uint8Array,
  ctl: ZtNode,
  nwid: string,
  mib: number,
  procs: NsProcess[],
): Promise<{ ns: string; ip: string }> {
  const host = await lab.addHost("e", "198.18.0.15");
  const home = lab.path("ref-e");
  Deno.mkdirSync(home, { recursive: true });
  const token = `tok-ref-e-${crypto.randomUUID()}`;
  Deno.writeTextFileSync(`${home}/authtoken.secret`, token, { mode: 0o600 });
  Deno.writeFileSync(`${home}/planet`, planet);
  Deno.writeTextFileSync(
    `${home}/local.conf`,
    JSON.stringify({
      settings: {
        portMappingEnabled: false,
        allowTcpFallbackRelay: false,
        allowSecondaryPort: false,
      },
    }),
  );
  procs.push(lab.spawn(host.ns, [binary, "-p9993", home], { logFile: `${home}.log` }));
  const api = async (method: string, path: string) => {
    const r = await exec(host.ns, [
      "curl",
      "-sS",
      "--max-time",
      "3",
      "-X",
      method,
      "-H",
      `X-ZT1-Auth: ${token}`,
      `http://127.0.0.1:9993${path}`,
    ], { check: false, timeoutMs: 5000 });
    return r.code === 0 ? JSON.parse(r.stdout || "null") : undefined;
  };
  const st = await waitFor("reference online", 40_000, async () => {
    const s = await api("GET", "/status").catch(() => undefined);
    return s?.online ? s : undefined;
  });
  await authorize(ctl, nwid, { address: st.address } as ZtNode, true);
  await api("POST", `/network/${nwid}`);
  const ip = await waitFor("reference address", 40_000, async () => {
    const n = await api("GET", `/network/${nwid}`).catch(() => undefined);
    const a = (n?.assignedAddresses as string[] | undefined)?.find((x) => x.startsWith("198.19."));
    return n?.status === "OK" && a ? a.split("/")[0] : undefined;
  });
  const script = lab.path("server-e.ts");
  Deno.writeTextFileSync(script, SERVER(mib));
  procs.push(lab.spawn(host.ns, [Deno.execPath(), "run", "-A", script, ip], {
    logFile: lab.path("srv-e.log"),
  }));
  await waitFor("server on e", 10_000, () => {
    try {
      return Deno.readTextFileSync(lab.path("srv-e.log")).includes("listening");
    } catch {
      return false;
    }
  });
  return { ns: host.ns, ip };
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s*(\d+) kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : 0;
}

async function curlMbps(ns: string, args: string[], url: string, bytes: number): Promise<number> {
  const t0 = Date.now();
  const r = await exec(ns, ["curl", "-sS", "--max-time", "300", ...args, "-o", "/dev/null", url], {
    check: false,
    timeoutMs: 310_000,
  });
  if (r.code !== 0) throw new Error(`curl ${url}: ${r.stderr}`);
  return (bytes * 8) / ((Date.now() - t0) / 1000) / 1e6;
}

/** Runs the benchmark and prints a table. */
export async function run(): Promise<void> {
  if (Deno.uid() !== 0) {
    console.log("(userspace bench needs root for network namespaces; skipped)");
    return;
  }
  const i = Deno.args.indexOf("--mib");
  const mib = i >= 0 ? Number(Deno.args[i + 1]) : 64;
  const lab = await Lab.create();
  const procs: NsProcess[] = [];
  try {
    const w = await vl2World();
    const hosts = {
      r: await lab.addHost("r", ROOT_IP),
      ctl: await lab.addHost("ctl", CONTROLLER_IP),
      a: await lab.addHost("a", MEMBER_IPS.a),
      b: await lab.addHost("b", MEMBER_IPS.b),
      c: await lab.addHost("c", MEMBER_IPS.c),
      d: await lab.addHost("d", MEMBER_IPS.d),
    };
    const root = startNode(lab, { name: "root", ns: hosts.r.ns, id: w.ids.root, planet: w.planet });
    await root.waitOnline(15_000);
    const nodes: Record<string, ZtNode> = { root };
    for (const role of ["ctl", "a", "b", "c", "d"] as const) {
      await new Promise((r) => setTimeout(r, 2_200));
      const id = w.ids[role];
      nodes[role] = startNode(lab, {
        name: role,
        ns: hosts[role].ns,
        id,
        planet: w.planet,
        ...(role === "c" ? { args: ["--userspace"] } : {}),
        ...(role === "d" ? { wrap: NO_FFI_LAUNCHER, args: ["--userspace"] } : {}),
      });
    }
    await Promise.all(Object.values(nodes).map((n) => n.waitOnline(ONLINE_MS)));
    const nwid = await createNetwork(nodes.ctl);
    const ips: Record<string, string> = {};
    for (const role of ["a", "b", "c", "d"]) {
      await authorize(nodes.ctl, nwid, nodes[role], true);
      await apiCall(nodes[role], "POST", `/network/${nwid}`, {});
    }
    for (const role of ["a", "b", "c", "d"]) {
      const n = await waitStatus(nodes[role], nwid, "OK", 30_000, (x) => {
        try {
          return x.portDeviceName !== "" && !!overlayIps(x).v4;
        } catch {
          return false;
        }
      });
      ips[role] = overlayIps(n).v4;
    }
    const script = lab.path("server.ts");
    Deno.writeTextFileSync(script, SERVER(mib));
    procs.push(lab.spawn(hosts.a.ns, [Deno.execPath(), "run", "-A", script, ips.a], {
      logFile: lab.path("srv.log"),
    }));
    await waitFor("server", 10_000, () => {
      try {
        return Deno.readTextFileSync(lab.path("srv.log")).includes("listening");
      } catch {
        return false;
      }
    });
    let ref: { ns: string; ip: string } | undefined;
    const refBin = Deno.env.get("ZT_REFERENCE");
    if (refBin) {
      ref = await startReferenceMember(lab, refBin, w.planet, nodes.ctl, nwid, mib, procs);
    }
    // warm up paths (direct paths between members)
    for (const role of ["b", "c", "d"]) {
      const proxy = role === "b" ? [] : ["--socks5", "127.0.0.1:1080"];
      await curlMbps(hosts[role as "b"].ns, proxy, `http://${ips.a}:8000/small`, 2);
    }
    const big = `http://${ips.a}:8000/big`;
    const bytes = mib << 20;
    const kernel = await curlMbps(hosts.b.ns, [], big, bytes);
    const userFfi = await curlMbps(hosts.c.ns, ["--socks5", "127.0.0.1:1080"], big, bytes);
    const userNoFfi = await curlMbps(hosts.d.ns, ["--socks5", "127.0.0.1:1080"], big, bytes);
    let refKernel = 0, refUser = 0;
    if (ref) {
      const refBig = `http://${ref.ip}:8000/big`;
      await curlMbps(hosts.c.ns, ["--socks5", "127.0.0.1:1080"], `http://${ref.ip}:8000/small`, 2);
      refKernel = await curlMbps(hosts.b.ns, [], refBig, bytes);
      refUser = await curlMbps(hosts.c.ns, ["--socks5", "127.0.0.1:1080"], refBig, bytes);
    }
    const client = lab.path("client.ts");
    Deno.writeTextFileSync(client, CLIENT);
    const lat = JSON.parse(
      (await exec(hosts.c.ns, [Deno.execPath(), "run", "-A", client, ips.a, "200", "latency"], {
        timeoutMs: 120_000,
      })).stdout,
    );
    const tcpLat = await exec(hosts.b.ns, [
      "sh",
      "-c",
      `for i in $(seq 50); do curl -s -o /dev/null -w "%{time_connect}\\n" http://${ips.a}:8000/small; done | sort -n | sed -n 25p`,
    ]);
    // 1,000 idle connections through c's proxy: RSS before / after
    const pid = nodes.c.proc.pid;
    const before = rssKiB(pid);
    const holdLog = lab.path("hold.log");
    procs.push(
      lab.spawn(hosts.c.ns, [Deno.execPath(), "run", "-A", client, ips.a, "1000", "hold"], {
        logFile: holdLog,
      }),
    );
    await waitFor("1000 connections", 120_000, () => {
      try {
        return Deno.readTextFileSync(holdLog).includes('"open"');
      } catch {
        return false;
      }
    });
    await new Promise((r) => setTimeout(r, 3000));
    const after = rssKiB(pid);
    const held = JSON.parse(
      Deno.readTextFileSync(holdLog).split("\n").find((l) => l.includes('"open"'))!,
    );
    console.log(`| metric | value |`);
    console.log(`| --- | ---: |`);
    console.log(`| bulk ${mib} MiB, kernel TAP zt (b → a) | ${kernel.toFixed(0)} Mbit/s |`);
    console.log(
      `| bulk ${mib} MiB, userspace via SOCKS5 (c, FFI allowed) | ${userFfi.toFixed(0)} Mbit/s (${
        (100 * userFfi / kernel).toFixed(0)
      }% of kernel) |`,
    );
    console.log(
      `| bulk ${mib} MiB, userspace via SOCKS5 (d, no FFI, no CAP_NET_ADMIN) | ${
        userNoFfi.toFixed(0)
      } Mbit/s (${(100 * userNoFfi / kernel).toFixed(0)}% of kernel) |`,
    );
    if (ref) {
      console.log(
        `| bulk ${mib} MiB, kernel TAP zt b → reference member e | ${
          refKernel.toFixed(0)
        } Mbit/s |`,
      );
      console.log(
        `| bulk ${mib} MiB, userspace c via SOCKS5 → reference member e | ${
          refUser.toFixed(0)
        } Mbit/s |`,
      );
    }
    console.log(
      `| SOCKS5 connect latency (c, 200 sequential; median / p90) | ${lat.median.toFixed(2)} / ${
        lat.p90.toFixed(2)
      } ms |`,
    );
    console.log(
      `| TCP connect latency, kernel TAP (b, median of 50) | ${
        (Number(tcpLat.stdout.trim()) * 1000).toFixed(2)
      } ms |`,
    );
    console.log(
      `| 1,000 idle proxied connections (c): open / failed | ${held.open} / ${held.failed} ${
        held.failed ? JSON.stringify(held.errors) : ""
      } |`,
    );
    console.log(
      `| RSS of c before → after (bytes per idle connection, proxy side + overlay side) | ${
        (before / 1024).toFixed(1)
      } → ${(after / 1024).toFixed(1)} MiB (${
        Math.round(((after - before) * 1024) / Math.max(1, held.open))
      } B) |`,
    );
  } finally {
    for (const p of procs) await p.stop("SIGTERM", 2000).catch(() => {});
    await lab.close();
  }
}

if (import.meta.main) await run();
