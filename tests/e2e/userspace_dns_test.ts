// netns e2e: names in userspace mode: the controller node joins its own network with --dns-names; a userspace member (no CAP_NET_ADMIN, no tun) curls http://<name>.<domain>/ on a kernel-TAP member through SOCKS5 (--socks5-hostname) and HTTP CONNECT; names outside the domain and without allowDNS are refused; its resolv.conf is untouched.
import assert from "node:assert/strict";
import { announceSkip, exec, type ExecResult, waitFor, withLab } from "./netns.ts";
import {
  api200,
  apiCall,
  authorize,
  CONTROLLER_IP,
  createNetwork,
  MEMBER_IPS,
  ONLINE_MS,
  overlayIps,
  vl2World,
  waitStatus,
  ztIn,
} from "./vl2_lab.ts";
import { describeAll, explainFailure, ROOT_IP, startNode, type ZtNode } from "./zt_lab.ts";
import { USERSPACE_LAUNCHER } from "./userspace_lab.ts";

const SKIP = announceSkip("userspace_dns_test.ts");

/** The names' domain. */
const DOMAIN = "names.zt-us.example";
/** b's resolv.conf (a server that does not exist); zt in userspace mode must leave it alone. */
const RESOLV_B = "# lab resolv.conf of b\nnameserver 198.18.0.253\noptions timeout:1 attempts:1\n";

/** curl inside `node`'s namespace through its local proxy. */
async function curlVia(node: ZtNode, proxyArgs: string[], url: string): Promise<ExecResult> {
  return await exec(node.ns, ["curl", "-sS", "--max-time", "10", ...proxyArgs, url], {
    check: false,
    timeoutMs: 15_000,
  });
}

Deno.test({
  name: "e2e userspace dns: a userspace member reaches <name>.<domain> through SOCKS5 " +
    "(--socks5-hostname) and HTTP CONNECT; other names and allowDNS=0 are refused",
  ignore: SKIP !== undefined,
  fn: async () => {
    const hostResolv = Deno.readTextFileSync("/etc/resolv.conf");
    await withLab(async (lab) => {
      const w = await vl2World();
      const r = await lab.addHost("r", ROOT_IP);
      const c = await lab.addHost("ctl", CONTROLLER_IP);
      const ha = await lab.addHost("a", MEMBER_IPS.a);
      const hb = await lab.addHost("b", MEMBER_IPS.b);
      // b's own resolv.conf before any node starts (ip netns exec bind-mounts it)
      const resolvB = `/etc/netns/${lab.nsName("b")}/resolv.conf`;
      Deno.mkdirSync(`/etc/netns/${lab.nsName("b")}`, { recursive: true });
      Deno.writeTextFileSync(resolvB, RESOLV_B);
      const root = startNode(lab, { name: "root", ns: r.ns, id: w.ids.root, planet: w.planet });
      const all: ZtNode[] = [root];
      try {
        await root.waitOnline(15_000);
        const ctl = startNode(lab, { name: "ctl", ns: c.ns, id: w.ids.ctl, planet: w.planet });
        all.push(ctl);
        await new Promise((res) => setTimeout(res, 2_200));
        const a = startNode(lab, { name: "a", ns: ha.ns, id: w.ids.a, planet: w.planet });
        all.push(a);
        await new Promise((res) => setTimeout(res, 2_200));
        const b = startNode(lab, {
          name: "b",
          ns: hb.ns,
          id: w.ids.b,
          planet: w.planet,
          wrap: USERSPACE_LAUNCHER,
          args: ["--userspace"],
        });
        all.push(b);
        await explainFailure(all, async () => {
          await Promise.all(all.map((n) => n.waitOnline(ONLINE_MS)));
          const nwid = await createNetwork(ctl);
          for (const n of [ctl, a, b]) {
            await authorize(ctl, nwid, n, true);
            assert.equal((await apiCall(n, "POST", `/network/${nwid}`, {})).status, 200);
          }
          await api200(ctl, "POST", `/controller/network/${nwid}/member/${a.address}`, {
            name: "web",
          });
          const [nCtl, na] = await Promise.all(
            [ctl, a].map((n) => waitStatus(n, nwid, "OK", 25_000, (x) => x.portDeviceName !== "")),
          );
          await waitStatus(b, nwid, "OK", 25_000, (x) => {
            try {
              return String(x.portDeviceName).startsWith("userspace-") && !!overlayIps(x).v4;
            } catch {
              return false;
            }
          });
          const ctlIp = overlayIps(nCtl).v4;
          const ipA = overlayIps(na).v4;
          const set = await ztIn(ctl, [
            "controller",
            "network",
            "set",
            nwid,
            "--dns-names",
            DOMAIN,
          ]);
          assert.equal(set.code, 0, set.stdout + set.stderr);
          // b's config carries the domain and the controller's overlay address as the server
          await waitStatus(b, nwid, "OK", 20_000, (x) => {
            const d = x.dns as { domain?: string; servers?: string[] } | undefined;
            return d?.domain === DOMAIN && !!d.servers?.includes(ctlIp);
          });

          const srvLog = lab.path("a-http.log");
          const srv = lab.spawn(a.ns, [
            Deno.execPath(),
            "eval",
            `Deno.serve({ hostname: "${ipA}", port: 8000, onListen: () => console.log("listening") }, () => new Response("named-ok"))`,
          ], { logFile: srvLog });
          await waitFor("http server on a", 10_000, () => {
            try {
              return Deno.readTextFileSync(srvLog).includes("listening");
            } catch {
              return false;
            }
          });
          const socks = ["--socks5-hostname", "127.0.0.1:1080"];
          const url = `http://web.${DOMAIN}:8000/`;

          // allowDNS is off on b: the name is refused, not looked up anywhere
          const off = await curlVia(b, socks, url);
          assert.notEqual(off.code, 0, `refused without allowDNS: ${off.stdout}`);
          assert.match(
            Deno.readTextFileSync(b.logFile),
            new RegExp(`refused web\\.${DOMAIN.replaceAll(".", "\\.")}:8000: cannot resolve`),
          );

          const allow = await ztIn(b, ["set", nwid, "allowDNS=1"]);
          assert.equal(allow.code, 0, allow.stdout + allow.stderr);
          let last: ExecResult | undefined;
          await waitFor("b fetches web.<domain> through SOCKS5", 20_000, async () => {
            last = await curlVia(b, socks, url);
            return last.stdout === "named-ok";
          }, { detail: () => `${last?.stdout} ${last?.stderr}` });
          const tunnel = await curlVia(b, ["--proxytunnel", "-x", "http://127.0.0.1:1080"], url);
          assert.equal(tunnel.stdout, "named-ok", tunnel.stderr);
          // the address form of the name works too
          const t0 = Date.now();
          const byAddr = await curlVia(b, socks, `http://${a.address}.${DOMAIN}:8000/`);
          const tName = Date.now() - t0;
          assert.equal(byAddr.stdout, "named-ok", byAddr.stderr);
          const t1 = Date.now();
          const byIp = await curlVia(b, socks, `http://${ipA}:8000/`);
          const tIp = Date.now() - t1;
          assert.equal(byIp.stdout, "named-ok", byIp.stderr);
          console.log(
            `curl via SOCKS5: uncached name ${tName} ms, IP ${tIp} ms (a report, not a bound)`,
          );

          // names outside the domain: SOCKS "host unreachable", HTTP 502, a log line
          const out = await curlVia(b, socks, "http://example.com:8000/");
          assert.notEqual(out.code, 0);
          assert.match(out.stderr, /SOCKS5 connection to example\.com\. \(4\)/, out.stderr); // 4: host unreachable
          const out2 = await curlVia(
            b,
            ["--proxytunnel", "-x", "http://127.0.0.1:1080"],
            "http://example.com:8000/",
          );
          assert.match(out2.stderr, /502/, out2.stderr);
          assert.match(
            Deno.readTextFileSync(b.logFile),
            /refused example\.com:8000: cannot resolve: example\.com is not under the DNS domain/,
          );
          const nx = await curlVia(b, socks, `http://nobody.${DOMAIN}:8000/`);
          assert.notEqual(nx.code, 0);
          assert.match(Deno.readTextFileSync(b.logFile), /nobody\..*no such name/);

          // userspace mode applies nothing to the OS resolver
          assert.equal(Deno.readTextFileSync(resolvB), RESOLV_B);
          await srv.stop("SIGTERM", 2000);
        });
      } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : e}\n${describeAll(all)}`);
      }
    });
    assert.equal(Deno.readTextFileSync("/etc/resolv.conf"), hostResolv, "host file untouched");
  },
});
