// GET /config and POST/PUT /config/settings: merge into local.conf (4-space indent, atomic), auth, bad input leaves the file alone.
import assert from "node:assert/strict";
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import { type ApiState, createApiApp } from "../../src/service/api_server.ts";
import { configRoutes } from "../../src/service/config_api.ts";
import type { ServiceNode } from "../../src/service/service_node.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { parseWorld } from "../../src/vl1/world.ts";
import { startLiveService } from "./live_service.ts";

const TOKEN = "tok-a";

function setup(home: string) {
  const node = {
    identity: Identity.fromString(fixtureText("identities/a.public"))!,
    online: () => false,
    planet: () => parseWorld(fixtureBytes("planet.bin"))!,
  } as unknown as ServiceNode;
  const state = {
    node,
    authToken: () => TOKEN,
    metricsToken: () => "met-a",
    allowManagementFrom: () => [],
    now: () => 1,
  } as unknown as ApiState;
  const app = createApiApp(state, [configRoutes(home)]);
  return async (method: string, path: string, body?: string, token: string | null = TOKEN) => {
    const headers: Record<string, string> = {};
    if (token !== null) headers["X-ZT1-Auth"] = token;
    const r = await app.request(path, { method, headers, body });
    return { status: r.status, text: await r.text() };
  };
}

Deno.test("config api: GET /config is {} without a file, else local.conf", async () => {
  const home = Deno.makeTempDirSync();
  try {
    const req = setup(home);
    assert.deepEqual(await req("GET", "/config"), { status: 200, text: "{}" });
    // the lab's real local.conf of host a
    Deno.writeTextFileSync(`${home}/local.conf`, fixtureText("homes/a/local.conf"));
    const r = await req("GET", "/config");
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), JSON.parse(fixtureText("homes/a/local.conf")));
    Deno.writeTextFileSync(`${home}/local.conf`, "{ nope");
    const bad = await req("GET", "/config");
    assert.equal(bad.status, 500);
    assert.match(JSON.parse(bad.text).description, /local\.conf/);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("config api: POST/PUT /config/settings merge keys into settings, 4-space indent, other sections kept", async () => {
  const home = Deno.makeTempDirSync();
  try {
    const req = setup(home);
    Deno.writeTextFileSync(
      `${home}/local.conf`,
      JSON.stringify({
        physical: { "10.0.0.0/8": { blacklist: true } },
        settings: { primaryPort: 9993, allowSecondaryPort: false },
      }),
    );
    let r = await req(
      "POST",
      "/config/settings",
      '{"primaryPort":12345,"allowTcpFallbackRelay":false}',
    );
    assert.deepEqual(r, { status: 200, text: "{}" });
    assert.equal(
      Deno.readTextFileSync(`${home}/local.conf`),
      [
        "{",
        '    "physical": {',
        '        "10.0.0.0/8": {',
        '            "blacklist": true',
        "        }",
        "    },",
        '    "settings": {',
        '        "allowSecondaryPort": false,',
        '        "allowTcpFallbackRelay": false,',
        '        "primaryPort": 12345',
        "    }",
        "}",
      ].join("\n"),
    );
    r = await req("PUT", "/config/settings", '{"allowManagementFrom":["10.1.0.0/16"]}');
    assert.equal(r.status, 200);
    const conf = JSON.parse((await req("GET", "/config")).text);
    assert.deepEqual(conf.settings, {
      allowManagementFrom: ["10.1.0.0/16"],
      allowSecondaryPort: false,
      allowTcpFallbackRelay: false,
      primaryPort: 12345,
    });
    assert.deepEqual(conf.physical, { "10.0.0.0/8": { blacklist: true } });
    // no temporary files left behind
    assert.deepEqual([...Deno.readDirSync(home)].map((e) => e.name), ["local.conf"]);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("config api: no file yet → created with just settings", async () => {
  const home = Deno.makeTempDirSync();
  try {
    const r = await setup(home)("POST", "/config/settings", '{"softwareUpdate":"disable"}');
    assert.equal(r.status, 200);
    assert.equal(
      Deno.readTextFileSync(`${home}/local.conf`),
      '{\n    "settings": {\n        "softwareUpdate": "disable"\n    }\n}',
    );
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("config api: auth failures and bad input leave local.conf untouched", async () => {
  const home = Deno.makeTempDirSync();
  try {
    const req = setup(home);
    const original = '{"settings":{"primaryPort":9993}}';
    Deno.writeTextFileSync(`${home}/local.conf`, original);
    for (const token of [null, "wrong"]) {
      assert.deepEqual(await req("POST", "/config/settings", '{"primaryPort":1}', token), {
        status: 401,
        text: "{}",
      });
      assert.equal((await req("GET", "/config", undefined, token)).status, 401);
    }
    const bad: Array<[string, RegExp]> = [
      ['{"primaryPort":', /not valid JSON/],
      ["", /not valid JSON/],
      ["[1,2]", /JSON object/],
      ['"x"', /JSON object/],
      ['{"primaryPort":"abc"}', /primaryPort must be an integer/],
      ['{"primaryPort":70000}', /primaryPort/],
    ];
    for (const [body, re] of bad) {
      const r = await req("POST", "/config/settings", body);
      assert.equal(r.status, 400, body);
      const e = JSON.parse(r.text);
      assert.equal(e.error, 400);
      assert.match(e.description, re, body);
    }
    assert.equal(Deno.readTextFileSync(`${home}/local.conf`), original);
    assert.deepEqual([...Deno.readDirSync(home)].map((e) => e.name), ["local.conf"]);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("config api: served by the live service", async () => {
  const live = await startLiveService();
  try {
    const url = `http://127.0.0.1:${live.port}`;
    const h = { "X-ZT1-Auth": "tok-a" };
    const before = await (await fetch(`${url}/config`, { headers: h })).json();
    assert.deepEqual(before.settings.bind, ["127.0.0.1"]);
    const r = await fetch(`${url}/config/settings`, {
      method: "POST",
      headers: h,
      body: '{"lowBandwidthMode":true}',
    });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "{}");
    const after = await (await fetch(`${url}/config`, { headers: h })).json();
    assert.deepEqual(after.settings, { ...before.settings, lowBandwidthMode: true });
    const unauth = await fetch(`${url}/config`);
    assert.equal(unauth.status, 401);
    await unauth.body?.cancel();
  } finally {
    await live.stop();
  }
});

Deno.test("config api: 64-bit values in local.conf stay exact through GET and a settings POST", async () => {
  const home = Deno.makeTempDirSync();
  try {
    const req = setup(home);
    Deno.writeTextFileSync(
      `${home}/local.conf`,
      '{"physical":{"10.0.0.0/8":{"trustedPathId":18446744073709551615}},"settings":{}}',
    );
    const got = await req("GET", "/config");
    assert.match(got.text, /"trustedPathId":18446744073709551615[,}]/);
    assert.equal((await req("POST", "/config/settings", '{"primaryPort":9994}')).status, 200);
    const file = Deno.readTextFileSync(`${home}/local.conf`);
    assert.match(file, /"trustedPathId": 18446744073709551615\n/);
    assert.match(file, /"primaryPort": 9994/);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});
