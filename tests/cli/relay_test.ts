// Tests of `zt relay`'s option parsing.
import assert from "node:assert/strict";
import { parseRelayOptions, relayCommand } from "../../src/cli/relay.ts";

const base = {
  port: "443",
  allow: [] as string[],
  maxConnections: "1000",
  idleTimeout: "300",
  writeBuffer: "131072",
};

Deno.test("relay options: defaults and CIDRs parse", () => {
  const s = parseRelayOptions({ ...base, allow: ["10.0.0.0/8", "192.0.0.7", "fd00::/8"] });
  assert.ok(typeof s !== "string");
  assert.equal(s.port, 443);
  assert.equal(s.idleMs, 300_000);
  assert.deepEqual(s.allow.map((a) => a.toString()), ["10.0.0.0/8", "192.0.0.7/32", "fd00::/8"]);
  assert.equal(s.metricsPort, undefined);
});

Deno.test("relay options: bad values get clear errors", () => {
  assert.match(parseRelayOptions({ ...base, port: "70000" }) as string, /--port/);
  assert.match(parseRelayOptions({ ...base, bind: "nope" }) as string, /--bind/);
  assert.match(parseRelayOptions({ ...base, allow: ["10.0.0.0/40"] }) as string, /--allow/);
  assert.match(parseRelayOptions({ ...base, maxConnections: "0" }) as string, /--max-conn/);
  assert.match(parseRelayOptions({ ...base, idleTimeout: "x" }) as string, /--idle/);
  assert.match(parseRelayOptions({ ...base, writeBuffer: "10" }) as string, /--write-buffer/);
  assert.match(parseRelayOptions({ ...base, metricsPort: "0" }) as string, /--metrics-port/);
});

Deno.test("zt relay --help: --allow states its default once, as 'everyone'", () => {
  // Regression: the help said "(default: everyone) (default: [])".
  const help = relayCommand().helpInformation().replace(/\s+/g, " ");
  assert.match(
    help,
    /--allow <cidr> client network allowed to connect \(repeat\) \(default: everyone\)/,
  );
  assert.doesNotMatch(help, /default: \[\]/);
});
