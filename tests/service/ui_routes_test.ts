// Tests for the web UI routes on a live service: /ui/ assets (lazy, CSP), Host check, token rules, rules compile/test, traffic, settings.webUi.
import assert from "node:assert/strict";
import { startLiveService } from "./live_service.ts";
import {
  loopbackHostAllowed,
  uiAssetsLoaded,
  uiRoutes,
  webUiEnabled,
} from "../../src/service/ui_routes.ts";
import { createApiApp } from "../../src/service/api_server.ts";
import { EventHub } from "../../src/service/event_stream.ts";
import { TrafficHistory } from "../../src/service/traffic_history.ts";
import type { ServiceNode } from "../../src/service/service_node.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { UI_FILES } from "../../src/service/ui_assets.ts";

const TOKEN = "tok-a";

/** One request to the live service; status, headers and text. */
async function call(
  port: number,
  method: string,
  path: string,
  o: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: o.headers,
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

const auth = { "X-ZT1-Auth": TOKEN };

/** The status of a raw HTTP/1.1 GET with a chosen Host header (fetch cannot set Host). */
async function rawStatus(
  port: number,
  path: string,
  host: string,
  token?: string,
): Promise<number> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const tok = token ? `X-ZT1-Auth: ${token}\r\n` : "";
    await c.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${tok}Connection: close\r\n\r\n`,
      ),
    );
    const buf = new Uint8Array(256);
    const n = await c.read(buf);
    const line = new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
    return Number(line.split(" ")[1]);
  } finally {
    c.close();
  }
}

Deno.test("web UI: served lazily at /ui/ with a strict CSP; Host check; token rules for state changes", async () => {
  // checked before anything in this process asked for /ui/
  assert.equal(uiAssetsLoaded(), false, "the asset module is not loaded at start");
  const s = await startLiveService();
  try {
    assert.equal(uiAssetsLoaded(), false, "starting the node does not load the UI");
    const r = await call(s.port, "GET", "/ui/");
    assert.equal(r.status, 200);
    assert.equal(uiAssetsLoaded(), true);
    assert.equal(r.text, UI_FILES["index.html"].body);
    const csp = r.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    assert.doesNotMatch(r.text, /<script>(?!<\/script>)|<script(?![^>]*\ssrc=)[^>]*>\s*\S/);
    const redirect = await fetch(`http://127.0.0.1:${s.port}/ui`, { redirect: "manual" });
    await redirect.body?.cancel();
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get("location"), "/ui/");
    assert.equal((await call(s.port, "GET", "/ui/nope.js")).status, 404);
    for (const name of Object.keys(UI_FILES)) {
      assert.equal((await call(s.port, "GET", `/ui/${name}`)).status, 200, name);
    }

    // DNS rebinding: a loopback request naming another host is refused
    assert.equal(await rawStatus(s.port, "/ui/", "evil.example:9993"), 403);
    assert.equal(await rawStatus(s.port, "/ui-api/traffic", "rebind.example", TOKEN), 403);
    assert.equal(await rawStatus(s.port, "/events", "rebind.example", TOKEN), 403);
    assert.equal(await rawStatus(s.port, "/ui/", "localhost:9993"), 200);
    assert.equal(await rawStatus(s.port, "/ui/", `127.0.0.1:${s.port}`), 200);

    // the API behind the UI needs the token; state changes need it in a header
    assert.equal((await call(s.port, "GET", "/ui-api/traffic")).status, 401);
    assert.equal((await call(s.port, "GET", "/events")).status, 401);
    const addr = s.service.node.identity.address.toString();
    const viaQuery = await call(s.port, "POST", `/controller/network/${addr}______?auth=${TOKEN}`, {
      body: { name: "x" },
    });
    assert.equal(viaQuery.status, 401, "a token in the URL cannot change state");
    assert.equal(
      (await call(s.port, "GET", `/controller/network?auth=${TOKEN}`)).text,
      "[]",
      "nothing was created",
    );
    const created = await call(s.port, "POST", `/controller/network/${addr}______`, {
      body: { name: "ui" },
      headers: auth,
    });
    assert.equal(created.status, 200);
  } finally {
    await s.stop();
  }
});

Deno.test("web UI API: rules compile (line:column errors, nothing saved), rules test, traffic", async () => {
  const s = await startLiveService();
  try {
    const addr = s.service.node.identity.address.toString();
    const n = JSON.parse(
      (await call(s.port, "POST", `/controller/network/${addr}______`, {
        body: { name: "rules", rulesSource: "accept;\n" },
        headers: auth,
      })).text,
    );
    const bad = JSON.parse(
      (await call(s.port, "POST", "/ui-api/rules/compile", {
        body: { source: "drop ipprotocol 6 dport 23;\naccept\n  bogus 1;\n" },
        headers: auth,
      })).text,
    );
    assert.equal(bad.ok, false);
    assert.equal(bad.error.line, 3);
    assert.equal(typeof bad.error.column, "number");
    assert.ok(bad.error.message.length > 0);
    const after = JSON.parse(
      (await call(s.port, "GET", `/controller/network/${n.id}`, { headers: auth })).text,
    );
    assert.equal(after.rulesSource, "accept;\n", "compiling saves nothing");
    const good = JSON.parse(
      (await call(s.port, "POST", "/ui-api/rules/compile", {
        body: { source: "drop ipprotocol 6 dport 23;\naccept;\n" },
        headers: auth,
      })).text,
    );
    assert.equal(good.ok, true);
    assert.deepEqual(good.rules.map((r: { type: string }) => r.type), [
      "MATCH_IP_PROTOCOL",
      "MATCH_IP_DEST_PORT_RANGE",
      "ACTION_DROP",
      "ACTION_ACCEPT",
    ]);
    const test = async (frame: string, source?: string) =>
      JSON.parse(
        (await call(s.port, "POST", "/ui-api/rules/test", {
          body: { nwid: n.id, frame, source, from: "aaaaaaaaaa", to: "bbbbbbbbbb" },
          headers: auth,
        })).text,
      );
    const src = "drop ipprotocol 6 dport 23;\naccept;\n";
    const telnet = await test("tcp 10.0.0.1:999 > 10.0.0.2:23", src);
    assert.equal(telnet.ok, true, JSON.stringify(telnet));
    assert.equal(telnet.verdict, "drop");
    assert.match(telnet.text, /verdict: drop/);
    assert.equal((await test("tcp 10.0.0.1:999 > 10.0.0.2:22", src)).verdict, "accept");
    assert.equal((await test("tcp 10.0.0.1:999 > 10.0.0.2:23")).verdict, "accept", "stored rules");
    assert.equal((await test("nonsense")).ok, false);
    const badNwid = await call(s.port, "POST", "/ui-api/rules/test", {
      body: { nwid: "xyz", frame: "tcp 1.1.1.1 > 2.2.2.2" },
      headers: auth,
    });
    assert.equal(badNwid.status, 400);

    // controller summaries: counts, and members with what the node saw of them
    const m = await call(s.port, "POST", `/controller/network/${n.id}/member/0123456789`, {
      body: { authorized: true },
      headers: auth,
    });
    assert.equal(m.status, 200);
    const summary = JSON.parse(
      (await call(s.port, "GET", "/ui-api/controller", { headers: auth })).text,
    );
    assert.equal(summary.controller, true);
    assert.equal(summary.address, addr);
    assert.deepEqual(summary.networks, [
      { id: n.id, name: "rules", private: true, members: 1, authorized: 1, online: 0 },
    ]);
    const members = JSON.parse(
      (await call(s.port, "GET", `/ui-api/controller/network/${n.id}/member`, { headers: auth }))
        .text,
    );
    assert.equal(members.length, 1);
    assert.equal(members[0].id, "0123456789");
    assert.deepEqual(members[0].ui, {
      online: false,
      lastSeen: 0,
      physicalAddress: "",
      version: "",
      latency: -1,
    });
    assert.equal(
      (await call(s.port, "GET", "/ui-api/controller/network/ffffffffffffffff/member", {
        headers: auth,
      })).status,
      404,
    );
    const t = JSON.parse((await call(s.port, "GET", "/ui-api/traffic", { headers: auth })).text);
    assert.deepEqual(t.fields, ["rxPackets", "txPackets", "rxBytes", "txBytes"]);
    assert.ok(t.samples.length >= 1);
    assert.equal(typeof t.samples[0].t, "number");
  } finally {
    await s.stop();
  }
});

Deno.test("web UI: settings.webUi false turns it off; Host names allowed on loopback", async () => {
  let on = false;
  let allowed: string[] = [];
  const app = createApiApp({
    node: {} as ServiceNode,
    authToken: () => TOKEN,
    metricsToken: () => "m",
    allowManagementFrom: () => allowed.map((a) => InetAddress.parse(a)!),
    now: () => 0,
    statusExtras: () => {
      throw new Error("unused");
    },
  }, [
    uiRoutes({
      enabled: () => on,
      hub: new EventHub(),
      traffic: new TrafficHistory({ now: () => 0, networks: () => ({}), peers: () => ({}) }),
      controller: () => undefined,
      random: () => 0,
    }),
  ]);
  for (const [path, h] of [["/ui/", {}], ["/ui-api/traffic", auth]] as const) {
    on = false;
    assert.equal((await app.request(path, { headers: h })).status, 404, path);
    on = true;
    const r = await app.request(path, { headers: h });
    await r.body?.cancel();
    assert.equal(r.status, 200, path);
  }
  assert.equal(webUiEnabled({}), true);
  assert.equal(webUiEnabled({ settings: {} }), true);
  assert.equal(webUiEnabled({ settings: { webUi: true } }), true);
  assert.equal(webUiEnabled({ settings: { webUi: false } }), false);
  // reachable from elsewhere exactly when the API is (allowManagementFrom); no Host check there
  const from = (ip: string) => ({
    remoteAddr: { transport: "tcp" as const, hostname: ip, port: 40000 },
  });
  const remote = (ip: string, host: string) =>
    app.fetch(new Request("http://x/ui/", { headers: { host } }), from(ip));
  assert.equal((await remote("198.18.0.5", "zt.lan:9993")).status, 401);
  allowed = ["198.18.0.0/24"];
  const ok = await remote("198.18.0.5", "zt.lan:9993");
  await ok.body?.cancel();
  assert.equal(ok.status, 200);
  assert.equal((await remote("198.18.1.5", "zt.lan:9993")).status, 401);
  assert.equal((await remote("127.0.0.1", "zt.lan:9993")).status, 403, "rebinding on loopback");
  for (const h of ["127.0.0.1:9993", "localhost", "LOCALHOST:1", "zt.localhost:80", "[::1]:9993"]) {
    assert.equal(loopbackHostAllowed(h), true, h);
  }
  for (const h of ["evil.example", "evil.example:9993", "127.0.0.1.nip.io", "", "a b"]) {
    assert.equal(loopbackHostAllowed(h), false, h);
  }
});
