// Tests for src/service/dns_apply.ts and src/service/resolved.ts: allowDNS gating, resolv.conf apply/restore/crash recovery, systemd-resolved through a fake resolvectl script.
import assert from "node:assert/strict";
import { backendFromEnv, DnsApplier, RESOLV_RECORD_FILE } from "../../src/service/dns_apply.ts";
import { Logger } from "../../src/service/logger.ts";
import { commandResolvectl, resolvedAvailable } from "../../src/service/resolved.ts";
import { BLOCK_BEGIN } from "../../src/service/resolv_conf.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import type { NetworkInfo } from "../../src/vl2/network.ts";

const HOST = "nameserver 198.18.0.53\nsearch corp.example\n";

function net(nwid: bigint, allowDNS: boolean, dev = "ztabc"): NetworkInfo {
  return {
    nwid,
    config: {},
    localConf: { allowManaged: true, allowGlobal: false, allowDefault: false, allowDNS },
    dns: { domain: "zt.example", servers: [InetAddress.fromIp("198.19.1.1")!] },
    portDeviceName: dev,
  } as unknown as NetworkInfo;
}

function env() {
  const dir = Deno.makeTempDirSync({ prefix: "zt-dnsapply-" });
  Deno.mkdirSync(`${dir}/home`);
  const resolv = `${dir}/resolv.conf`;
  Deno.writeTextFileSync(resolv, HOST);
  const lines: string[] = [];
  const log = new Logger("debug", (_l, m) => lines.push(m));
  return { dir, home: `${dir}/home`, resolv, lines, log };
}

Deno.test("backendFromEnv", () => {
  assert.equal(backendFromEnv(undefined), undefined);
  assert.equal(backendFromEnv("resolv.conf"), "resolvconf");
  assert.equal(backendFromEnv("RESOLVED"), "resolved");
  assert.equal(backendFromEnv("auto"), "auto");
  assert.equal(backendFromEnv("dnsmasq"), undefined);
});

Deno.test("DnsApplier resolvconf: nothing without allowDNS; applied with it; restored on leave and stop", async () => {
  const e = env();
  let nets = [net(1n, false)];
  const a = await DnsApplier.start({
    home: e.home,
    log: e.log,
    networks: () => nets,
    backend: "resolvconf",
    resolvConfPath: e.resolv,
  });
  try {
    await a.settled();
    assert.equal(Deno.readTextFileSync(e.resolv), HOST);
    nets = [net(1n, true)];
    a.reconcile();
    await a.settled();
    const applied = Deno.readTextFileSync(e.resolv);
    assert.ok(
      applied.startsWith(`${BLOCK_BEGIN}\nnameserver 198.19.1.1\nsearch zt.example corp.example\n`),
    );
    assert.ok(e.lines.some((l) => l.includes("network 0000000000000001: DNS applied to")));
    nets = [];
    a.reconcile();
    await a.settled();
    assert.equal(Deno.readTextFileSync(e.resolv), HOST);
    assert.ok(e.lines.some((l) => l.includes("DNS removed from") && l.includes("file restored")));
    nets = [net(2n, true)];
    a.reconcile();
    await a.settled();
    assert.notEqual(Deno.readTextFileSync(e.resolv), HOST);
  } finally {
    await a.close();
  }
  assert.equal(Deno.readTextFileSync(e.resolv), HOST);
  assert.throws(() => Deno.statSync(`${e.home}/${RESOLV_RECORD_FILE}`), Deno.errors.NotFound);
  Deno.removeSync(e.dir, { recursive: true });
});

Deno.test("DnsApplier resolvconf: a guard reason (shared host file) leaves the file alone", async () => {
  const e = env();
  const a = await DnsApplier.start({
    home: e.home,
    log: e.log,
    networks: () => [net(1n, true)],
    backend: "resolvconf",
    resolvConfPath: e.resolv,
    guard: () => "it is the host's",
  });
  await a.settled();
  await a.close();
  assert.equal(Deno.readTextFileSync(e.resolv), HOST);
  assert.equal(
    e.lines.filter((l) => l.includes("not applying DNS") && l.includes("host's")).length,
    1,
  );
  Deno.removeSync(e.dir, { recursive: true });
});

Deno.test("DnsApplier resolvconf: a crash leaves a record; the next start restores the file", async () => {
  const e = env();
  const a = await DnsApplier.start({
    home: e.home,
    log: e.log,
    networks: () => [net(1n, true)],
    backend: "resolvconf",
    resolvConfPath: e.resolv,
  });
  await a.settled();
  assert.notEqual(Deno.readTextFileSync(e.resolv), HOST);
  // as after kill -9: `a` never gets to close(); a second start in the same home finds the record
  const leftover = Deno.readTextFileSync(`${e.home}/${RESOLV_RECORD_FILE}`);

  const b = await DnsApplier.start({
    home: e.home,
    log: e.log,
    networks: () => [],
    backend: "resolvconf",
    resolvConfPath: e.resolv,
  });
  try {
    assert.ok(leftover.includes("original"));
    assert.equal(Deno.readTextFileSync(e.resolv), HOST);
    assert.ok(e.lines.some((l) => l.includes("restored") && l.includes("earlier run")));
  } finally {
    await b.close();
    await a.close(); // its timer; the record is gone, so it has nothing to restore
    assert.equal(Deno.readTextFileSync(e.resolv), HOST);
    Deno.removeSync(e.dir, { recursive: true });
  }
});

/** A fake resolvectl: logs its arguments, fails for interface "bad". */
function fakeResolvectl(dir: string): { bin: string; calls: () => string[] } {
  const bin = `${dir}/resolvectl`;
  const log = `${dir}/calls.txt`;
  Deno.writeTextFileSync(
    bin,
    `#!/bin/sh\necho "$*" >> '${log}'\nfor a in "$@"; do [ "$a" = bad ] && { echo "Failed to set DNS: no such link" >&2; exit 1; }; done\nexit 0\n`,
  );
  Deno.chmodSync(bin, 0o755);
  return {
    bin,
    calls: () => {
      try {
        return Deno.readTextFileSync(log).trim().split("\n").filter((l) => l);
      } catch {
        return [];
      }
    },
  };
}

Deno.test("DnsApplier resolved: per-link servers, domain, no default route; revert on leave and stop", async () => {
  const e = env();
  const fake = fakeResolvectl(e.dir);
  let nets = [net(1n, true, ""), net(2n, false, "ztoff")];
  const a = await DnsApplier.start({
    home: e.home,
    log: e.log,
    networks: () => nets,
    backend: "resolved",
    resolvectl: commandResolvectl(fake.bin),
    resolvConfPath: e.resolv,
  });
  try {
    await a.settled();
    assert.deepEqual(fake.calls(), []); // no interface name yet; network 2 has allowDNS off
    nets = [net(1n, true, "ztabc"), net(2n, false, "ztoff")];
    a.reconcile();
    await a.settled();
    assert.deepEqual(fake.calls(), [
      "dns ztabc 198.19.1.1",
      "domain ztabc zt.example",
      "default-route ztabc false",
    ]);
    a.reconcile();
    await a.settled();
    assert.equal(fake.calls().length, 3); // unchanged: not applied again
    nets = [];
    a.reconcile();
    await a.settled();
    assert.equal(fake.calls()[3], "revert ztabc");
    nets = [net(3n, true, "bad")];
    a.reconcile();
    await a.settled();
    assert.ok(
      e.lines.some((l) => l.includes("cannot apply DNS to bad") && l.includes("no such link")),
    );
    nets = [net(1n, true, "ztabc")];
    a.reconcile();
    await a.settled();
  } finally {
    await a.close();
  }
  assert.equal(fake.calls().at(-1), "revert ztabc");
  assert.equal(Deno.readTextFileSync(e.resolv), HOST); // never touched
  Deno.removeSync(e.dir, { recursive: true });
});

Deno.test("resolvedAvailable: needs the socket and a working resolvectl", async () => {
  const e = env();
  const fake = fakeResolvectl(e.dir);
  assert.equal(await resolvedAvailable(commandResolvectl(fake.bin), `${e.dir}/nosocket`), false);
  Deno.writeTextFileSync(`${e.dir}/sock`, "");
  assert.equal(await resolvedAvailable(commandResolvectl(fake.bin), `${e.dir}/sock`), true);
  assert.equal(
    await resolvedAvailable(commandResolvectl(`${e.dir}/missing`), `${e.dir}/sock`),
    false,
  );
  Deno.removeSync(e.dir, { recursive: true });
});
