// netns e2e: member names in DNS (the controller node answers on its overlay address) and managed DNS applied through resolv.conf (allowDNS).
import assert from "node:assert/strict";
import { announceSkip, exec, type ExecResult, waitFor, withLab } from "./netns.ts";
import {
  api200,
  apiCall,
  authorize,
  createNetwork,
  overlayIps,
  startVl2Lab,
  waitStatus,
  ztIn,
} from "./vl2_lab.ts";
import { explainFailure, type ZtNode } from "./zt_lab.ts";

const SKIP = announceSkip("dns_test.ts") ??
  (!Deno.env.get("CI") && !onPath("dig")
    ? (console.log("SKIP dns_test.ts: needs dig (run scripts/setup.sh)"), "no dig")
    : undefined);

/** The names' domain. */
const DOMAIN = "names.zt-e2e.example";
/** c's resolv.conf before zt (a server that does not exist: only our names must resolve). */
const RESOLV_C = "# lab resolv.conf of c\nnameserver 198.18.0.253\nsearch lab.example\n" +
  "options timeout:1 attempts:1\n";

function onPath(name: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => {
    try {
      return d !== "" && Deno.statSync(`${d}/${name}`).isFile;
    } catch {
      return false;
    }
  });
}

/** `dig` inside `node`'s namespace against `server`. */
async function dig(node: ZtNode, server: string, args: string[]): Promise<ExecResult> {
  return await exec(node.ns, ["dig", "+time=2", "+tries=2", `@${server}`, ...args], {
    check: false,
    timeoutMs: 10_000,
  });
}

/** The answer lines' data (`+short`). */
async function short(node: ZtNode, server: string, args: string[]): Promise<string[]> {
  const r = await dig(node, server, ["+short", ...args]);
  assert.equal(r.code, 0, `dig ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  return r.stdout.trim().split("\n").filter((l) => l).sort();
}

/** The `status:` of a full dig answer. */
async function status(node: ZtNode, server: string, args: string[]): Promise<string> {
  const r = await dig(node, server, args);
  return /status: ([A-Z]+)/.exec(r.stdout)?.[1] ?? `no answer: ${r.stdout}${r.stderr}`;
}

async function setName(ctl: ZtNode, nwid: string, m: ZtNode, name: string): Promise<void> {
  await api200(ctl, "POST", `/controller/network/${nwid}/member/${m.address}`, { name });
}

Deno.test({
  name: "e2e dns: controller answers member names (A, AAAA, address form, PTR, NXDOMAIN, " +
    "REFUSED, rename, deauthorize); allowDNS member resolves through resolv.conf, restored " +
    "after leave, kill -9 and exit",
  ignore: SKIP !== undefined,
  fn: async () => {
    const hostResolv = Deno.readTextFileSync("/etc/resolv.conf");
    const prevBackend = Deno.env.get("ZT_DNS_BACKEND");
    Deno.env.set("ZT_DNS_BACKEND", "resolvconf"); // never the host's systemd-resolved
    let netnsDir: string | undefined;
    try {
      await withLab(async (lab) => {
        // c's own resolv.conf, before any node starts (ip netns exec bind-mounts it)
        netnsDir = `/etc/netns/${lab.nsName("c")}`;
        Deno.mkdirSync(netnsDir, { recursive: true });
        const resolvC = `${netnsDir}/resolv.conf`;
        Deno.writeTextFileSync(resolvC, RESOLV_C);

        const v = await startVl2Lab(lab, ["a", "b", "c"]);
        await explainFailure(v.all, async () => {
          const { ctl } = v;
          const { a, b, c } = v.members;
          const nwid = await createNetwork(ctl);
          for (const m of [ctl, a, b, c]) await authorize(ctl, nwid, m, true);
          await setName(ctl, nwid, a, "alice");
          await setName(ctl, nwid, b, "Bob");
          for (const n of [ctl, a, b, c]) {
            assert.equal((await apiCall(n, "POST", `/network/${nwid}`, {})).status, 200);
          }
          const [nCtl, nA, nB, nC] = await Promise.all(
            [ctl, a, b, c].map((n) =>
              waitStatus(n, nwid, "OK", 25_000, (x) => x.portDeviceName !== "")
            ),
          );
          const ctlIp = overlayIps(nCtl).v4;
          const ipsA = overlayIps(nA), ipsB = overlayIps(nB), ipsC = overlayIps(nC);

          // one step: domain + the controller's own overlay address as the server
          const set = await ztIn(ctl, [
            "controller",
            "network",
            "set",
            nwid,
            "--dns-names",
            DOMAIN,
          ]);
          assert.equal(set.code, 0, set.stdout + set.stderr);
          const rec = await api200(ctl, "GET", `/controller/network/${nwid}`);
          assert.equal((rec.dns as { domain: string }).domain, DOMAIN);
          assert.ok((rec.dns as { servers: string[] }).servers.includes(ctlIp));

          // from c: bob's IPv4, IPv6 (rfc4193 + 6plane), address form, PTR, errors
          await waitFor(
            "the controller answers DNS",
            15_000,
            async () => (await short(c, ctlIp, [`bob.${DOMAIN}`, "A"])).includes(ipsB.v4),
            {
              intervalMs: 200,
            },
          );
          assert.deepEqual(await short(c, ctlIp, [`bob.${DOMAIN}`, "A"]), [ipsB.v4]);
          const full = await dig(c, ctlIp, ["+noall", "+answer", `bob.${DOMAIN}`, "A"]);
          assert.match(
            full.stdout,
            new RegExp(`^bob\\.${DOMAIN.replaceAll(".", "\\.")}\\.\\s+60\\s+IN\\s+A\\s`),
          );
          assert.deepEqual(
            await short(c, ctlIp, [`BOB.${DOMAIN}`, "AAAA"]),
            [ipsB.rfc4193, ipsB.sixPlane].sort(),
          );
          assert.deepEqual(await short(c, ctlIp, [`${b.address}.${DOMAIN}`, "A"]), [ipsB.v4]);
          assert.deepEqual(await short(c, ctlIp, ["+tcp", `bob.${DOMAIN}`, "A"]), [ipsB.v4]);
          assert.deepEqual(
            await short(c, ctlIp, ["-x", ipsB.v4]),
            [`${b.address}.${DOMAIN}.`, `bob.${DOMAIN}.`].sort(),
          );
          assert.equal(await status(c, ctlIp, [`nobody.${DOMAIN}`, "A"]), "NXDOMAIN");
          assert.equal(await status(c, ctlIp, ["example.com", "A"]), "REFUSED");
          assert.equal(await status(c, ctlIp, ["+tcp", "example.com", "A"]), "REFUSED");

          // a rename shows on the next query; a deauthorized member is gone
          const t0 = Date.now();
          await setName(ctl, nwid, b, "robert");
          assert.deepEqual(await short(c, ctlIp, [`robert.${DOMAIN}`, "A"]), [ipsB.v4]);
          console.log(`dns: rename answered ${Date.now() - t0} ms after the API call`);
          assert.equal(await status(c, ctlIp, [`bob.${DOMAIN}`, "A"]), "NXDOMAIN");
          await setName(ctl, nwid, b, "bob");
          await setName(ctl, nwid, c, "Alice!"); // sanitizes to a's name: both answer
          assert.deepEqual(
            await short(c, ctlIp, [`alice.${DOMAIN}`, "A"]),
            [ipsA.v4, ipsC.v4].sort(),
          );
          await authorize(ctl, nwid, a, false);
          assert.deepEqual(await short(c, ctlIp, [`alice.${DOMAIN}`, "A"]), [ipsC.v4]);
          assert.equal(await status(c, ctlIp, [`${a.address}.${DOMAIN}`, "A"]), "NXDOMAIN");

          // c applies the network's DNS (allowDNS=1) to its resolv.conf and resolves bob
          assert.equal(Deno.readTextFileSync(resolvC), RESOLV_C, "allowDNS=0 changes nothing");
          const allow = await ztIn(c, ["set", nwid, "allowDNS=1"]);
          assert.equal(allow.code, 0, allow.stdout + allow.stderr);
          await waitFor(
            "c's resolv.conf has the zt block",
            10_000,
            () => Deno.readTextFileSync(resolvC).includes(`nameserver ${ctlIp}`),
          );
          const g = await exec(c.ns, ["getent", "ahostsv4", `bob.${DOMAIN}`], { check: false });
          assert.equal(g.code, 0, `getent: ${g.stdout}${g.stderr}`);
          assert.ok(g.stdout.startsWith(ipsB.v4 + " "), g.stdout);
          const g1 = await exec(c.ns, ["getent", "ahostsv4", "bob"], { check: false });
          assert.ok(g1.stdout.startsWith(ipsB.v4 + " "), `search domain: ${g1.stdout}`);
          assert.match(Deno.readTextFileSync(c.logFile), /DNS applied to .*resolv\.conf/);

          // leave: restored exactly
          assert.equal((await ztIn(c, ["leave", nwid])).code, 0);
          await waitFor(
            "c's resolv.conf restored after leave",
            10_000,
            () => Deno.readTextFileSync(resolvC) === RESOLV_C,
          );

          // kill -9 with the block in; the next start restores the file
          assert.equal((await apiCall(c, "POST", `/network/${nwid}`, {})).status, 200);
          assert.equal((await ztIn(c, ["set", nwid, "allowDNS=1"])).code, 0);
          await waitFor(
            "block back after rejoin",
            20_000,
            () => Deno.readTextFileSync(resolvC).includes(`nameserver ${ctlIp}`),
          );
          await c.stop("SIGKILL");
          assert.notEqual(Deno.readTextFileSync(resolvC), RESOLV_C, "kill -9 leaves the block");
          for (const f of [`${nwid}.conf`, `${nwid}.local.conf`]) {
            Deno.removeSync(`${c.home}/networks.d/${f}`);
          }
          c.restart();
          await waitFor(
            "c's resolv.conf restored at the next start",
            15_000,
            () => Deno.readTextFileSync(resolvC) === RESOLV_C,
          );
          assert.match(Deno.readTextFileSync(c.logFile), /dns: restored .* earlier run/);

          // a normal stop (SIGTERM) takes the block out too
          await c.waitOnline(25_000);
          assert.equal((await apiCall(c, "POST", `/network/${nwid}`, {})).status, 200);
          assert.equal((await ztIn(c, ["set", nwid, "allowDNS=1"])).code, 0);
          await waitFor(
            "block back after the restart",
            20_000,
            () => Deno.readTextFileSync(resolvC).includes(`nameserver ${ctlIp}`),
          );
          await c.stop("SIGTERM");
          assert.equal(Deno.readTextFileSync(resolvC), RESOLV_C, "restored on exit");
        });
      });
    } finally {
      if (prevBackend === undefined) Deno.env.delete("ZT_DNS_BACKEND");
      else Deno.env.set("ZT_DNS_BACKEND", prevBackend);
      if (netnsDir) removeIfPresent(netnsDir); // the lab removes it too
    }
    assert.equal(Deno.readTextFileSync("/etc/resolv.conf"), hostResolv, "host file untouched");
  },
});

/** Removes `path` (recursively); a path already gone is fine, any other error is thrown. */
function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
