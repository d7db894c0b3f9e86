// Tests of the TCP fallback settings: tcpFallbackRelay parsing and which relay a node uses (ZeroTier's only on the default planet).
import assert from "node:assert/strict";
import { parseLocalConf } from "../../src/service/local_conf.ts";
import { fallbackRelayFor, ZEROTIER_TCP_FALLBACK_RELAY } from "../../src/service/service.ts";
import { DEFAULT_PLANET, parseWorld } from "../../src/vl1/world.ts";
import { TEST_PLANET_ID, testWorld } from "./live_service.ts";
import { WorldType } from "../../src/vl1/world.ts";

function conf(settings: Record<string, unknown>) {
  const r = parseLocalConf(JSON.stringify({ settings }));
  assert.ok(r.ok);
  return r.conf;
}

Deno.test("tcpFallbackRelay parses as IP/port; bad values are ignored with a warning", () => {
  assert.equal(
    conf({ tcpFallbackRelay: "192.0.0.1/443" }).settings.tcpFallbackRelay?.toString(),
    "192.0.0.1/443",
  );
  for (const bad of ["relay.example.com/443", "192.0.0.1", 443, "192.0.0.1/0"]) {
    const c = conf({ tcpFallbackRelay: bad });
    assert.equal(c.settings.tcpFallbackRelay, undefined);
    assert.ok(c.warnings.some((w) => w.includes("tcpFallbackRelay")), String(bad));
  }
  const d = conf({});
  assert.equal(d.settings.allowTcpFallbackRelay, true);
  assert.equal(d.settings.forceTcpRelay, false);
});

Deno.test("the public relay is the default only on the default planet", () => {
  const dflt = parseWorld(DEFAULT_PLANET)!;
  const lab = parseWorld(testWorld(WorldType.PLANET, TEST_PLANET_ID))!;
  assert.equal(fallbackRelayFor(conf({}), dflt)?.toString(), ZEROTIER_TCP_FALLBACK_RELAY);
  assert.equal(fallbackRelayFor(conf({}), lab), undefined);
  assert.equal(
    fallbackRelayFor(conf({ tcpFallbackRelay: "192.0.0.1/4443" }), lab)?.toString(),
    "192.0.0.1/4443",
  );
  assert.equal(
    fallbackRelayFor(conf({ tcpFallbackRelay: "192.0.0.1/4443" }), dflt)?.toString(),
    "192.0.0.1/4443",
  );
});
