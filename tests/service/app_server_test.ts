// Tests for /app static single-page apps: files, types, SPA fallback, traversal and symlink refusals, enable switch, live service.
import assert from "node:assert/strict";
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import { type ApiState, createApiApp } from "../../src/service/api_server.ts";
import {
  appPathSegments,
  appRoutes,
  contentTypeFor,
  webServerEnabled,
} from "../../src/service/app_server.ts";
import type { ServiceNode } from "../../src/service/service_node.ts";
import { Logger } from "../../src/service/logger.ts";
import { createNode } from "../../src/service/node_factory.ts";
import { Service } from "../../src/service/service.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { parseWorld, WorldType } from "../../src/vl1/world.ts";
import { freePort, testWorld } from "./live_service.ts";

const TOKEN = "tok-app";
const SECRET_TEXT = fixtureText("identities/a.secret");
const INDEX = "<!doctype html><title>ui</title><div id=root></div>";
const SUB_INDEX = "<!doctype html><title>sub</title>";
const APP_JS = "console.log('app');\n";
/** Arbitrary bytes (not UTF-8) to check binary files come back unchanged. */
const PNG = new Uint8Array([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  0xff,
  0x00,
  0xfe,
  0x80,
]);

/** A home with identity.secret and two apps (ui, noindex) plus hostile symlinks. */
function makeHome(): string {
  const home = Deno.makeTempDirSync({ prefix: "zt-app-test-" });
  Deno.writeTextFileSync(`${home}/identity.secret`, SECRET_TEXT);
  const ui = `${home}/app/ui`;
  Deno.mkdirSync(`${ui}/assets`, { recursive: true });
  Deno.mkdirSync(`${ui}/sub`);
  Deno.mkdirSync(`${home}/app/noindex`);
  Deno.mkdirSync(`${home}/app/.hidden`);
  Deno.writeTextFileSync(`${ui}/index.html`, INDEX);
  Deno.writeTextFileSync(`${ui}/app.js`, APP_JS);
  Deno.writeTextFileSync(`${ui}/style.css`, "body{}");
  Deno.writeTextFileSync(`${ui}/assets/logo.svg`, "<svg/>");
  Deno.writeFileSync(`${ui}/assets/pic.png`, PNG);
  Deno.writeTextFileSync(`${ui}/assets/blob.unknownext`, "x");
  Deno.writeTextFileSync(`${ui}/sub/index.html`, SUB_INDEX);
  Deno.writeTextFileSync(`${ui}/.env`, "HIDDEN");
  Deno.writeTextFileSync(`${home}/app/noindex/a.txt`, "a");
  Deno.writeTextFileSync(`${home}/app/.hidden/index.html`, "HIDDEN");
  Deno.writeTextFileSync(`${home}/app/favicon.ico`, "ico");
  // escapes: a file link to the identity, a directory link to the home, an app that is the home
  Deno.symlinkSync(`${home}/identity.secret`, `${ui}/leak.html`);
  Deno.symlinkSync(home, `${ui}/homedir`);
  Deno.symlinkSync(home, `${home}/app/evil`);
  // a link that stays inside the app is fine
  Deno.symlinkSync(`${ui}/app.js`, `${ui}/alias.js`);
  return home;
}

/** Minimal node: the app routes never touch it. */
function fakeNode(): ServiceNode {
  const identity = Identity.fromString(fixtureText("identities/a.public"))!;
  const planet = parseWorld(fixtureBytes("planet.bin"))!;
  return {
    identity,
    receive: () => {},
    tick: () => 1000,
    online: () => true,
    peers: () => [],
    peer: () => undefined,
    planet: () => planet,
    moons: () => [],
    orbit: () => {},
    deorbit: () => {},
    surfaceAddresses: () => [],
  };
}

function fakeState(): ApiState {
  return {
    node: fakeNode(),
    authToken: () => TOKEN,
    metricsToken: () => "met",
    allowManagementFrom: () => [],
    now: () => 0,
    statusExtras: () => ({
      localConf: {},
      effective: {
        primaryPort: 9993,
        secondaryPort: 0,
        tertiaryPort: 0,
        allowTcpFallbackRelay: false,
        forceTcpRelay: false,
        portMappingEnabled: false,
        softwareUpdate: "disable",
        softwareUpdateChannel: "release",
        homeDir: "/nowhere",
      },
      listeningOn: [],
      surfaceAddresses: [InetAddress.parse("127.0.0.1/9993")!],
    }),
  };
}

/** An API app with the app routes over `home`; `enabled` can be flipped by the test. */
function appFor(home: string, flag: { on: boolean }) {
  const app = createApiApp(fakeState(), [appRoutes({ home, enabled: () => flag.on })]);
  return (path: string, init: RequestInit = {}, remote = "127.0.0.1") =>
    app.fetch(new Request(`http://127.0.0.1:9993${path}`, init), {
      remoteAddr: { transport: "tcp" as const, hostname: remote, port: 5555 },
    });
}

Deno.test("contentTypeFor: common web types, case-insensitive, octet-stream otherwise", () => {
  assert.equal(contentTypeFor("index.html"), "text/html; charset=utf-8");
  assert.equal(contentTypeFor("a.JS"), "text/javascript; charset=utf-8");
  assert.equal(contentTypeFor("m.mjs"), "text/javascript; charset=utf-8");
  assert.equal(contentTypeFor("s.css"), "text/css; charset=utf-8");
  assert.equal(contentTypeFor("x.svg"), "image/svg+xml");
  assert.equal(contentTypeFor("k.wasm"), "application/wasm");
  assert.equal(contentTypeFor("f.woff2"), "font/woff2");
  assert.equal(contentTypeFor("d.json"), "application/json");
  assert.equal(contentTypeFor("archive.tar.gz"), "application/octet-stream");
  assert.equal(contentTypeFor("README"), "application/octet-stream");
  assert.equal(contentTypeFor(".html"), "application/octet-stream");
});

Deno.test("webServerEnabled: only settings.enableWebServer === true turns it on", () => {
  assert.equal(webServerEnabled({}), false);
  assert.equal(webServerEnabled({ settings: {} }), false);
  assert.equal(webServerEnabled({ settings: { enableWebServer: false } }), false);
  assert.equal(webServerEnabled({ settings: { enableWebServer: "true" } }), false);
  assert.equal(webServerEnabled({ settings: { enableWebServer: 1 } }), false);
  assert.equal(webServerEnabled({ settings: [] }), false);
  assert.equal(webServerEnabled({ enableWebServer: true }), false);
  assert.equal(webServerEnabled({ settings: { enableWebServer: true } }), true);
});

Deno.test("appPathSegments: decodes segments, refuses dot segments, encoded slashes, hidden names", () => {
  assert.deepEqual(appPathSegments("/app/ui/a/b.js"), ["ui", "a", "b.js"]);
  assert.deepEqual(appPathSegments("/app/ui/"), ["ui", ""]);
  assert.deepEqual(appPathSegments("/app/ui"), ["ui"]);
  assert.deepEqual(appPathSegments("/app/ui/a%20b.js"), ["ui", "a b.js"]);
  assert.deepEqual(appPathSegments("/app/ui/%252e%252e"), ["ui", "%2e%2e"]);
  for (
    const bad of [
      "/app/ui/../x",
      "/app/ui/./x",
      "/app/ui/%2e%2e/x",
      "/app/ui/%2E%2e/x",
      "/app/ui/..%2f..%2fidentity.secret",
      "/app/ui/..%5cx",
      "/app/ui/a%00b",
      "/app/ui/%zz",
      "/app/ui//x",
      "/app//",
      "/app/.hidden/",
      "/app/ui/.env",
      "/appx/ui",
      "/app",
      "/app/" + "a/".repeat(40),
    ]
  ) {
    assert.equal(appPathSegments(bad), undefined, bad);
  }
});

Deno.test("/app serves files with their types, index.html for directories and unknown paths", async () => {
  const home = makeHome();
  try {
    const get = appFor(home, { on: true });
    let r = await get("/app/ui/");
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    assert.equal(await r.text(), INDEX);

    r = await get("/app/ui/app.js");
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(r.headers.get("content-length"), String(APP_JS.length));
    assert.equal(await r.text(), APP_JS);

    r = await get("/app/ui/style.css");
    assert.equal(r.headers.get("content-type"), "text/css; charset=utf-8");
    assert.equal(await r.text(), "body{}");

    r = await get("/app/ui/assets/logo.svg");
    assert.equal(r.headers.get("content-type"), "image/svg+xml");
    assert.equal(await r.text(), "<svg/>");

    r = await get("/app/ui/assets/pic.png");
    assert.equal(r.headers.get("content-type"), "image/png");
    assert.deepEqual(new Uint8Array(await r.arrayBuffer()), PNG);

    r = await get("/app/ui/assets/blob.unknownext");
    assert.equal(r.headers.get("content-type"), "application/octet-stream");
    await r.body?.cancel();

    // client-side routes fall back to the app's index.html
    for (const p of ["/app/ui/settings", "/app/ui/networks/8056c2e21c000001", "/app/ui/assets/x"]) {
      r = await get(p);
      assert.equal(r.status, 200, p);
      assert.equal(await r.text(), INDEX, p);
    }
    // a double-encoded dot pair is just an odd (missing) file name
    r = await get("/app/ui/%252e%252e/identity.secret");
    assert.equal(await r.text(), INDEX);

    // directory with its own index.html; the app root without a slash redirects
    r = await get("/app/ui/sub/");
    assert.equal(await r.text(), SUB_INDEX);
    r = await get("/app/ui/sub");
    assert.equal(await r.text(), SUB_INDEX);
    r = await get("/app/ui");
    assert.equal(r.status, 301);
    assert.equal(r.headers.get("location"), "/app/ui/");

    // a symlink that stays inside the app is served
    r = await get("/app/ui/alias.js");
    assert.equal(await r.text(), APP_JS);

    // a plain file directly in <home>/app
    r = await get("/app/favicon.ico");
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "image/x-icon");
    assert.equal(await r.text(), "ico");

    // HEAD: headers without a body
    r = await get("/app/ui/app.js", { method: "HEAD" });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(await r.text(), "");

    // unknown app, app without index.html, writes
    r = await get("/app/nope/");
    assert.equal(r.status, 404);
    assert.equal(await r.text(), "{}");
    r = await get("/app/noindex/missing");
    assert.equal(r.status, 404);
    await r.body?.cancel();
    r = await get("/app/noindex/a.txt");
    assert.equal(await r.text(), "a");
    r = await get("/app/ui/app.js", { method: "POST", body: "x" });
    assert.equal(r.status, 404);
    await r.body?.cancel();
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("/app refuses traversal, hidden files and symlinks that leave the app", async () => {
  const home = makeHome();
  try {
    const get = appFor(home, { on: true });
    const noSecret = async (r: Response, what: string) => {
      const body = await r.text();
      assert.ok(!body.includes(SECRET_TEXT.slice(0, 30)), `${what} leaked identity.secret`);
      assert.ok(!body.includes("HIDDEN"), `${what} leaked a hidden file`);
      return body;
    };
    for (
      const p of [
        "/app/ui/..%2f..%2fidentity.secret",
        "/app/ui/..%2F..%2Fidentity.secret",
        "/app/ui/..%5c..%5cidentity.secret",
        "/app/ui/a%00.html",
        "/app/ui/.env",
        "/app/.hidden/",
        "/app/.hidden/index.html",
        "/app/ui//x",
      ]
    ) {
      const r = await get(p);
      assert.equal(r.status, 400, p);
      await noSecret(r, p);
    }
    // plain and %2e dot segments are removed by URL parsing; what is left needs the token
    for (const p of ["/app/ui/../../identity.secret", "/app/ui/%2e%2e/%2e%2e/identity.secret"]) {
      const r = await get(p);
      assert.equal(r.status, 401, p);
      await noSecret(r, p);
    }
    // symlinks out of the app: the file, a directory, and a whole app dir
    for (const p of ["/app/ui/leak.html", "/app/ui/homedir/identity.secret", "/app/evil/"]) {
      const r = await get(p);
      assert.equal(r.status, 403, p);
      await noSecret(r, p);
    }
    const r = await get("/app/evil/identity.secret");
    assert.equal(r.status, 403);
    await noSecret(r, "/app/evil/identity.secret");
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("/app is off unless enabled, needs no token, keeps the client IP check", async () => {
  const home = makeHome();
  try {
    const flag = { on: false };
    const get = appFor(home, flag);
    let r = await get("/app/ui/");
    assert.equal(r.status, 404);
    assert.equal(await r.text(), "{}");
    r = await get("/app/ui/app.js");
    assert.equal(r.status, 404);
    await r.body?.cancel();

    flag.on = true;
    r = await get("/app/ui/");
    assert.equal(r.status, 200);
    await r.body?.cancel();
    // a client outside loopback / allowManagementFrom is refused even for /app
    r = await get("/app/ui/", {}, "192.0.2.7");
    assert.equal(r.status, 401);
    assert.equal(await r.text(), "{}");
    // no home app folder at all
    Deno.removeSync(`${home}/app`, { recursive: true });
    r = await get("/app/ui/");
    assert.equal(r.status, 404);
    await r.body?.cancel();
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

/** One raw HTTP/1.1 request (path sent verbatim, no client-side normalization); the response text. */
async function rawGet(port: number, path: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const req = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(req));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (let i = 0; i < 1000; i++) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const all = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      all.set(c, off);
      off += c.length;
    }
    return new TextDecoder().decode(all);
  } finally {
    conn.close();
  }
}

/** Starts a real service over `home` with the given settings (127.0.0.1 only, test planet). */
async function startService(home: string, settings: Record<string, unknown>) {
  Deno.writeFileSync(`${home}/planet`, testWorld(WorldType.PLANET, 0x7e57n));
  Deno.writeTextFileSync(`${home}/authtoken.secret`, TOKEN);
  Deno.writeTextFileSync(
    `${home}/local.conf`,
    JSON.stringify({ settings: { bind: ["127.0.0.1"], allowSecondaryPort: false, ...settings } }),
  );
  for (let i = 0;; i++) {
    const port = freePort();
    try {
      const service = await Service.start({
        home,
        port,
        log: new Logger("error", () => {}),
        apiHosts: ["127.0.0.1"],
        createNode,
        controller: false,
      });
      return { service, port };
    } catch (e) {
      if (i >= 4) throw e;
    }
  }
}

Deno.test({
  name: "live service: enableWebServer serves /app over TCP; raw traversal never leaks",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const home = makeHome();
    const { service, port } = await startService(home, { enableWebServer: true });
    try {
      let r = await fetch(`http://127.0.0.1:${port}/app/ui/app.js`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("content-type"), "text/javascript; charset=utf-8");
      assert.equal(await r.text(), APP_JS);
      r = await fetch(`http://127.0.0.1:${port}/app/ui/some/route`);
      assert.equal(await r.text(), INDEX);
      for (
        const p of [
          "/app/ui/../../identity.secret",
          "/app/ui/%2e%2e/%2e%2e/identity.secret",
          "/app/ui/..%2f..%2fidentity.secret",
          "/app/../identity.secret",
          "/app/ui/leak.html",
          "/app/evil/identity.secret",
        ]
      ) {
        const text = await rawGet(port, p);
        assert.match(text, /^HTTP\/1\.1 \d{3}/, p);
        assert.ok(!/^HTTP\/1\.1 200/.test(text), `${p}: ${text.slice(0, 40)}`);
        assert.ok(!text.includes(SECRET_TEXT.slice(0, 30)), `${p} leaked identity.secret`);
      }
    } finally {
      await service.stop();
    }
    // the default (no enableWebServer) serves nothing
    const again = await startService(home, {});
    try {
      const r = await fetch(`http://127.0.0.1:${again.port}/app/ui/`);
      assert.equal(r.status, 404);
      assert.equal(await r.text(), "{}");
    } finally {
      await again.service.stop();
      Deno.removeSync(home, { recursive: true });
    }
  },
});
