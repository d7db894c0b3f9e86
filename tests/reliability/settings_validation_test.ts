// /config/settings validation: every bad value, unknown key and __proto__ gets a 400 naming the field, and local.conf stays byte-identical.
import assert from "node:assert/strict";
import { Router } from "../../src/service/router.ts";
import { configRoutes } from "../../src/service/config_api.ts";
import { parseLocalConf } from "../../src/service/local_conf.ts";

/** The config routes on a home holding `conf` as local.conf. */
function setup(conf: unknown): { app: Router; home: string } {
  const home = Deno.makeTempDirSync({ prefix: "zt-rel-settings-" });
  Deno.writeTextFileSync(`${home}/local.conf`, JSON.stringify(conf, null, 4));
  const app = new Router();
  configRoutes(home)(app, undefined as never);
  return { app, home };
}

const BAD: [string, string, string][] = [
  // [body, field named, what the description says]
  ['{"allowManagementFrom":"x"}', "settings.allowManagementFrom", "must be an array"],
  ['{"allowManagementFrom":["300.0.0.0/8"]}', "settings.allowManagementFrom", "not a CIDR"],
  ['{"allowManagementFrom":["10.0.0.1"]}', "settings.allowManagementFrom", "not a CIDR"],
  ['{"allowManagementFrom":["10.0.0.0/33"]}', "settings.allowManagementFrom", "prefix bits"],
  ['{"allowManagementFrom":["fd00::/129"]}', "settings.allowManagementFrom", "prefix bits"],
  ['{"allowManagementFrom":[7]}', "settings.allowManagementFrom", "not a string"],
  ['{"bind":["nope"]}', "settings.bind", "not an IP address"],
  ['{"bind":"127.0.0.1"}', "settings.bind", "must be an array"],
  ['{"primaryPort":70000}', "settings.primaryPort", "0..65535"],
  ['{"primaryPort":"9993"}', "settings.primaryPort", "0..65535"],
  ['{"secondaryPort":-1}', "settings.secondaryPort", "0..65535"],
  ['{"tertiaryPort":1.5}', "settings.tertiaryPort", "0..65535"],
  ['{"portMappingEnabled":"yes"}', "settings.portMappingEnabled", "true or false"],
  ['{"allowTcpFallbackRelay":1}', "settings.allowTcpFallbackRelay", "true or false"],
  ['{"enableWebServer":null}', "settings.enableWebServer", "true or false"],
  ['{"softwareUpdate":"sometimes"}', "settings.softwareUpdate", "one of"],
  ['{"cipher":"rot13"}', "settings.cipher", "one of"],
  ['{"tcpFallbackRelay":"1.2.3.4"}', "settings.tcpFallbackRelay", "ip/port"],
  [
    '{"interfacePrefixBlacklist":["a-name-longer-than-15"]}',
    "settings.interfacePrefixBlacklist",
    "1..15",
  ],
  ['{"softwareUpdateChannel":"a\\u0000b"}', "settings.softwareUpdateChannel", "control"],
  ['{"ssoRedirectURL":"javascript:alert(1)"}', "settings.ssoRedirectURL", "http(s) URL"],
  ['{"concurrency":0}', "settings.concurrency", "1..1024"],
  ['{"policies":[]}', "settings.policies", "must be an object"],
  ['{"noSuchSetting":true}', "settings.noSuchSetting", "not a known setting"],
  ['{"__proto__":{"polluted":true}}', "settings.__proto__", "not a known setting"],
  [
    '{"constructor":{"prototype":{"polluted":true}}}',
    "settings.constructor",
    "not a known setting",
  ],
  ['{"primaryPort":9993,"bind":["nope"]}', "settings.bind", "not an IP address"],
];

Deno.test("/config/settings: each invalid value → 400 naming the field; nothing is written", async () => {
  const { app, home } = setup({ settings: { primaryPort: 9993 }, physical: {} });
  try {
    const before = Deno.readTextFileSync(`${home}/local.conf`);
    for (const [body, field, says] of BAD) {
      for (const method of ["POST", "PUT"]) {
        const r = await app.request("/config/settings", { method, body });
        assert.equal(r.status, 400, `${method} ${body}`);
        const j = await r.json();
        assert.equal(j.field, field, body);
        assert.ok(j.description.includes(field), `${body}: ${j.description}`);
        assert.ok(j.description.includes(says), `${body}: ${j.description}`);
        assert.equal(
          Deno.readTextFileSync(`${home}/local.conf`),
          before,
          `${body} changed the file`,
        );
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, "no prototype pollution");
    for (const body of ["[1]", '"x"', "{", "null"]) {
      assert.equal((await app.request("/config/settings", { method: "POST", body })).status, 400);
    }
    assert.equal(Deno.readTextFileSync(`${home}/local.conf`), before);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("/config/settings: valid values are stored, other sections untouched", async () => {
  const { app, home } = setup({
    settings: { primaryPort: 9993 },
    physical: { "10.0.0.0/8": { blacklist: true } },
  });
  try {
    const patch = {
      allowManagementFrom: ["192.168.1.0/24", "fd00::/8", " 10.1.2.3/32 "],
      bind: ["127.0.0.1", "::1"],
      primaryPort: 0,
      portMappingEnabled: false,
      softwareUpdate: "disable",
      cipher: "aes",
      tcpFallbackRelay: "198.18.0.1/443",
      interfacePrefixBlacklist: ["docker", "veth"],
    };
    const r = await app.request("/config/settings", {
      method: "POST",
      body: JSON.stringify(patch),
    });
    assert.equal(r.status, 200, await r.text());
    const conf = JSON.parse(Deno.readTextFileSync(`${home}/local.conf`));
    assert.deepEqual(conf.settings, patch);
    assert.deepEqual(conf.physical, { "10.0.0.0/8": { blacklist: true } });
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("local.conf: an allowManagementFrom entry without /bits is loaded as the reference does, with a warning", () => {
  const r = parseLocalConf(
    JSON.stringify({ settings: { allowManagementFrom: ["10.0.0.1", "192.168.0.0/16"] } }),
  );
  assert.ok(r.ok);
  assert.equal(r.conf.settings.allowManagementFrom.length, 2);
  assert.deepEqual(r.conf.warnings, [
    "settings.allowManagementFrom: 10.0.0.1/0 (an entry without /bits) admits every address " +
    "to the local API",
  ]);
});
