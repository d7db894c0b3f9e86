// local.conf while running: changes are sorted (live / restart / unused), applied, and bad files keep the old settings.
import assert from "node:assert/strict";
import { installPacketCrypto } from "../../src/service/packet_crypto.ts";
import { type LocalConf, parseLocalConf } from "../../src/service/local_conf.ts";
import {
  type LocalConfChanges,
  localConfChanges,
  LocalConfWatcher,
} from "../../src/service/local_conf_reload.ts";
import type { Node } from "../../src/vl1/node.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { startLiveService } from "./live_service.ts";

/** Parses a local.conf object (must be valid). */
function conf(v: unknown): LocalConf {
  const r = parseLocalConf(JSON.stringify(v));
  if (!r.ok) throw new Error(r.error);
  return r.conf;
}

/** Polls `probe` every 50 ms until it is true; fails after `ms` (bounded, no timing asserted). */
async function until(what: string, probe: () => boolean, ms = 10_000): Promise<void> {
  for (let waited = 0; !probe(); waited += 50) {
    if (waited >= ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("local.conf changes: sorted into applied live, needs a restart, not used by zt", () => {
  const a = conf({ settings: { primaryPort: 9993, cipher: "aes", portMappingEnabled: false } });
  const b = conf({
    physical: { "198.18.9.0/24": { blacklist: true } },
    settings: {
      primaryPort: 9994,
      cipher: "salsa2012",
      portMappingEnabled: true,
      bind: ["198.18.0.3"],
      interfacePrefixBlacklist: ["docker"],
      somethingElse: 1,
    },
  });
  assert.deepEqual(
    localConfChanges(a, b),
    {
      live: ["physical", "settings.cipher", "settings.interfacePrefixBlacklist"],
      restart: ["settings.bind", "settings.portMappingEnabled", "settings.primaryPort"],
      unused: ["settings.somethingElse"],
    } satisfies LocalConfChanges,
  );
  assert.deepEqual(localConfChanges(a, a), { live: [], restart: [], unused: [] });
  // Key order and formatting do not count as changes.
  const c = conf({ settings: { portMappingEnabled: false, cipher: "aes", primaryPort: 9993 } });
  assert.deepEqual(localConfChanges(a, c), { live: [], restart: [], unused: [] });
  // allowManagementFrom: checked live, but a non-loopback entry also changes where the API listens.
  const m = conf({ settings: { allowManagementFrom: ["198.18.0.0/24"] } });
  const r = localConfChanges(conf({}), m);
  assert.deepEqual(r.live, ["settings.allowManagementFrom"]);
  assert.deepEqual(r.restart, ["settings.allowManagementFrom (API listen addresses)"]);
});

Deno.test("local.conf changes: the relay, port mapping and web UI settings are not 'not used by zt'", () => {
  // Regression: merged from branches that each added settings, these were logged as unused.
  const b = conf({
    settings: {
      tcpFallbackRelay: "198.18.0.1/443",
      allowTcpFallbackRelay: false,
      forceTcpRelay: true,
      portMappingEnabled: false,
      webUi: false,
      webUiTlsPort: 9443,
      lowBandwidthMode: true,
    },
  });
  assert.deepEqual(
    localConfChanges(conf({}), b),
    {
      live: ["settings.webUi"],
      restart: [
        "settings.allowTcpFallbackRelay",
        "settings.forceTcpRelay",
        "settings.portMappingEnabled",
        "settings.tcpFallbackRelay",
        "settings.webUiTlsPort",
      ],
      unused: ["settings.lowBandwidthMode"],
    } satisfies LocalConfChanges,
  );
});

Deno.test("local.conf watcher: picks up a change, keeps the old settings on a bad file", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ztlc" });
  try {
    const path = `${dir}/local.conf`;
    Deno.writeTextFileSync(path, JSON.stringify({ settings: { cipher: "aes" } }));
    const start = conf({ settings: { cipher: "aes" } });
    const seen: string[] = [];
    const w = new LocalConfWatcher({
      path,
      current: start,
      onChange: (_c, ch) => seen.push(`change ${[...ch.live, ...ch.restart].join(",")}`),
      onError: (m) => seen.push(`error ${m}`),
    });
    assert.equal(w.check(), false); // nothing changed yet
    Deno.writeTextFileSync(path, '{ "settings": { "cipher": "salsa2012" ');
    assert.equal(w.check(), false);
    assert.equal(w.current, start);
    assert.equal(w.check(), false); // the same bad file is reported once
    assert.equal(seen.length, 1);
    assert.match(seen[0], /^error .*local\.conf: invalid JSON at line 1, .*; keeping the previous/);
    Deno.writeTextFileSync(path, JSON.stringify({ settings: { cipher: "aes" } }));
    assert.equal(w.check(), true); // valid again (same settings): reported as such
    assert.equal(seen[1], "change ");
    Deno.writeTextFileSync(path, JSON.stringify({ settings: { cipher: "salsa2012", bind: [] } }));
    assert.equal(w.check(), true);
    assert.equal(seen[2], "change settings.cipher,settings.bind");
    assert.equal(w.current.settings.cipher, "salsa2012");
    Deno.writeTextFileSync(path, "[1, 2]");
    assert.equal(w.check(), false);
    assert.match(seen[3], /top level must be a JSON object; keeping the previous settings/);
    assert.equal(w.current.settings.cipher, "salsa2012");
    Deno.writeTextFileSync(path, " ".repeat(1024 * 1024 + 1));
    assert.equal(w.check(), false);
    assert.match(seen[4], /larger than 1048576 bytes; keeping the previous settings/);
    Deno.removeSync(path); // no file: the defaults, as at a start without one
    assert.equal(w.check(), true);
    assert.equal(w.current.settings.cipher, undefined); // not set: the service's default
    assert.deepEqual(w.current.raw, {});
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "running service: local.conf edits apply live; restart-only ones and bad files are logged",
  sanitizeResources: false,
  fn: async () => {
    const live = await startLiveService({ localConfPollMs: 100 });
    const node = live.service.node as unknown as Node;
    const path = `${live.home}/local.conf`;
    const base = { bind: ["127.0.0.1"], allowSecondaryPort: false };
    const log = () => live.lines.join("\n");
    try {
      const blocked = InetAddress.parse("198.18.9.5/9993")!;
      assert.equal(node.shouldUsePath(0x1234567890, -1, blocked), true);
      // not set: cipher 3 when libcrypto runs AES-GMAC-SIV here, cipher 1 without it
      assert.equal(node.settings.cipher, installPacketCrypto().defaultCipher);
      const other = node.settings.cipher === "aes" ? "salsa2012" : "aes";
      // A live change: a physical blacklist and the cipher.
      Deno.writeTextFileSync(
        path,
        JSON.stringify({
          physical: { "198.18.9.0/24": { blacklist: true, mtu: 1400 } },
          settings: { ...base, cipher: other },
        }),
      );
      await until("the live change", () => /applied physical, settings\.cipher/.test(log()));
      assert.equal(node.settings.cipher, other);
      assert.equal(node.shouldUsePath(0x1234567890, -1, blocked), false);
      assert.equal(node.settings.physical[0]?.mtu, 1400);
      assert.equal(live.service.conf.settings.cipher, other);
      // A restart-only change: logged as such, the running port stays.
      const applied = live.service.conf;
      Deno.writeTextFileSync(
        path,
        JSON.stringify({
          physical: { "198.18.9.0/24": { blacklist: true, mtu: 1400 } },
          settings: { ...base, cipher: other, primaryPort: 1 },
        }),
      );
      await until(
        "the restart note",
        () => /settings\.primaryPort changed; restart zt/.test(log()),
      );
      assert.match(log(), /warn: local\.conf re-read: settings\.primaryPort changed; restart zt/);
      const status = await (await fetch(`http://127.0.0.1:${live.port}/status`, {
        headers: { "X-ZT1-Auth": "tok-a" },
      })).json();
      assert.equal(status.config.settings.primaryPort, live.port);
      assert.notEqual(live.service.conf, applied);
      // A file that does not parse: an error, and everything stays as it was.
      const before = live.service.conf;
      Deno.writeTextFileSync(path, '{"settings": {"cipher": "salsa2012",}}');
      await until("the parse error", () => /keeping the previous settings/.test(log()));
      assert.match(log(), /error: .*local\.conf: invalid JSON at line 1, column \d+: .*keeping/);
      assert.equal(live.service.conf, before);
      assert.equal(node.settings.cipher, other);
      assert.equal(node.shouldUsePath(0x1234567890, -1, blocked), false);
    } finally {
      await live.stop();
    }
  },
});

Deno.test({
  name: "running service: POST /config/settings is applied at once (no poll needed)",
  sanitizeResources: false,
  fn: async () => {
    const live = await startLiveService({ localConfPollMs: 0 });
    try {
      const r = await fetch(`http://127.0.0.1:${live.port}/config/settings`, {
        method: "POST",
        headers: { "X-ZT1-Auth": "tok-a" },
        body: JSON.stringify({ softwareUpdate: "apply", lowBandwidthMode: true }),
      });
      assert.equal(r.status, 200);
      await r.body?.cancel();
      assert.equal(live.service.conf.settings.softwareUpdate, "apply");
      assert.ok(live.lines.includes("local.conf re-read: applied settings.softwareUpdate"));
      assert.ok(
        live.lines.includes(
          "local.conf re-read: settings.lowBandwidthMode changed (not used by zt)",
        ),
      );
      const status = await (await fetch(`http://127.0.0.1:${live.port}/status`, {
        headers: { "X-ZT1-Auth": "tok-a" },
      })).json();
      assert.equal(status.config.settings.softwareUpdate, "apply");
    } finally {
      await live.stop();
    }
  },
});

Deno.test({
  name:
    "running service: settings.webUi false in local.conf turns the web UI off without a restart",
  sanitizeResources: false,
  fn: async () => {
    const live = await startLiveService({ localConfPollMs: 0 });
    const ui = async () => {
      const r = await fetch(`http://127.0.0.1:${live.port}/ui/`);
      await r.body?.cancel();
      return r.status;
    };
    try {
      assert.equal(await ui(), 200);
      const r = await fetch(`http://127.0.0.1:${live.port}/config/settings`, {
        method: "POST",
        headers: { "X-ZT1-Auth": "tok-a" },
        body: JSON.stringify({ webUi: false }),
      });
      assert.equal(r.status, 200);
      await r.body?.cancel();
      assert.ok(live.lines.includes("local.conf re-read: applied settings.webUi"));
      assert.equal(await ui(), 404);
    } finally {
      await live.stop();
    }
  },
});
