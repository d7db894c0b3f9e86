// netns e2e: network rules over real TAPs — ICMP allowed, telnet (tcp/23) blocked, ssh (tcp/22) only for the member holding a capability; rule counters in /metrics.
import assert from "node:assert/strict";
import { announceSkip, exec, waitFor } from "./netns.ts";
import type { ZtNode } from "./zt_lab.ts";
import {
  api200,
  apiCall,
  NETWORK_BODY,
  overlayIps,
  pingOnce,
  pingUntil,
  vl2LabTest,
  waitStatus,
} from "./vl2_lab.ts";

const SKIP = announceSkip("rules_test.ts");

/** Capability id of "ssh". */
const SSH_CAP = 1000;

/**
 * The network's rules: only IPv4 and ARP; telnet dropped; ICMP and ARP accepted; TCP segments
 * carrying ACK (everything after a SYN) accepted; a SYN to 8080 accepted for everyone (control);
 * a SYN to 22 only through the `ssh` capability.
 */
const RULES = `
cap ssh
  id ${SSH_CAP}
  accept ipprotocol 6 dport 22;
;
drop not ethertype ipv4 and not ethertype arp;
drop ipprotocol 6 dport 23;
accept ipprotocol 1;
accept ethertype arp;
accept ipprotocol 6 chr tcp_ack;
accept ipprotocol 6 dport 8080;
`;

/** Ports the listener on b serves (each answers "ok\\n" and closes). */
const PORTS = [22, 23, 8080];

const LISTENER = `
const enc = new TextEncoder();
for (const port of ${JSON.stringify(PORTS)}) {
  const l = Deno.listen({ hostname: "0.0.0.0", port });
  (async () => {
    for await (const c of l) c.write(enc.encode("ok\\n")).catch(() => {}).finally(() => c.close());
  })();
}
console.log("listening");
`;

/** Whether `from` can open a TCP connection to ip:port and read the listener's "ok" in time. */
async function tcpReachable(from: ZtNode, ip: string, port: number, seconds = 3): Promise<boolean> {
  const r = await exec(from.ns, [
    "timeout",
    String(seconds),
    "bash",
    "-c",
    `exec 3<>/dev/tcp/${ip}/${port} && head -c 2 <&3`,
  ], { check: false, timeoutMs: (seconds + 3) * 1000 });
  return r.code === 0 && r.stdout === "ok";
}

/** The zt_network_packets value for a network, direction and accepted yes/no. */
async function rulePackets(
  node: ZtNode,
  nwid: string,
  direction: "rx" | "tx",
  accepted: "yes" | "no",
): Promise<number> {
  const r = await apiCall(node, "GET", "/metrics");
  assert.equal(r.status, 200);
  const text = String(r.json);
  const re = new RegExp(
    `^zt_network_packets\\{accepted="${accepted}",direction="${direction}",network_id="${nwid}"\\} (\\d+)$`,
    "m",
  );
  const m = text.match(re);
  assert.ok(m, `no zt_network_packets ${direction}/${accepted} for ${nwid} on ${node.name}`);
  return Number(m[1]);
}

vl2LabTest(
  {
    name: "e2e rules: ping allowed, telnet blocked, ssh only with the capability (a yes, c no)",
    skip: SKIP,
    roles: ["a", "b", "c"],
    label: "rules test",
  },
  async (v) => {
    const { ctl, lab } = v;
    const { a, b, c } = v.members;
    const n = await api200(ctl, "POST", `/controller/network/${ctl.address}______`, {
      ...NETWORK_BODY,
      name: "e2e-rules",
      rulesSource: RULES,
    });
    const nwid = n.id as string;
    assert.match(nwid, /^[0-9a-f]{16}$/);
    assert.ok(Array.isArray(n.rules) && n.rules.length >= 8, "rulesSource compiled");
    assert.deepEqual((n.capabilities as { id: number }[]).map((x) => x.id), [SSH_CAP]);
    for (const [m, body] of [[a, { capabilities: [SSH_CAP] }], [b, {}], [c, {}]] as const) {
      const r = await api200(ctl, "POST", `/controller/network/${nwid}/member/${m.address}`, {
        authorized: true,
        ...body,
      });
      assert.equal(r.authorized, true);
    }
    for (const m of [a, b, c]) await api200(m, "POST", `/network/${nwid}`, {});
    const up = (m: ZtNode) => waitStatus(m, nwid, "OK", 20_000, (x) => x.portDeviceName !== "");
    const [na, nb, nc] = await Promise.all([up(a), up(b), up(c)]);
    const ipA = overlayIps(na).v4, ipB = overlayIps(nb).v4, ipC = overlayIps(nc).v4;

    // listeners on b (not a real sshd / telnetd), checked locally first
    const srv = lab.spawn(b.ns, [Deno.execPath(), "eval", LISTENER], {
      logFile: lab.path("b-listener.log"),
    });
    await waitFor("listener on b", 10_000, async () => {
      for (const p of PORTS) if (!(await tcpReachable(b, "127.0.0.1", p, 2))) return false;
      return true;
    }, { detail: () => srv.logTail() });

    // ICMP is allowed: a ↔ b, c ↔ b
    const pingMs = await pingUntil(a, ipB, 20_000, v.all);
    assert.ok(await pingOnce(b, ipA), "b pings a");
    await pingUntil(c, ipB, 20_000, v.all);
    assert.ok(await pingOnce(b, ipC), "b pings c");

    // TCP in general works (control port 8080, both a and c)
    assert.ok(await tcpReachable(a, ipB, 8080, 5), "a → b:8080 (control)");
    assert.ok(await tcpReachable(c, ipB, 8080, 5), "c → b:8080 (control)");
    // telnet is blocked
    const txDropA = await rulePackets(a, nwid, "tx", "no");
    assert.equal(await tcpReachable(a, ipB, 23), false, "a → b:23 must be blocked");
    assert.ok(await rulePackets(a, nwid, "tx", "no") > txDropA, "a counted its drops");
    // ssh: a holds the capability, c does not
    assert.ok(await tcpReachable(a, ipB, 22, 5), "a (capability) → b:22");
    const txDropC = await rulePackets(c, nwid, "tx", "no");
    assert.equal(await tcpReachable(c, ipB, 22), false, "c (no capability) → b:22 blocked");
    assert.ok(await rulePackets(c, nwid, "tx", "no") > txDropC, "c counted its drops");
    assert.ok(await rulePackets(b, nwid, "rx", "yes") > 0, "b counted accepted frames");
    console.log(`rules: first ping a → b after ${pingMs} ms`);
    await srv.stop("SIGTERM", 2000);
  },
);
