// 64-bit exact JSON: the parser/printer, and the API shapes that carry 64-bit values.
import assert from "node:assert/strict";
import { Router } from "../../src/service/router.ts";
import { parseJson64, stringifyJson64 } from "../../src/util/json64.ts";
import { moonJson, peerJson, statusJson } from "../../src/service/api_status.ts";
import { sendJson } from "../../src/service/api_server.ts";
import { parseLocalConf } from "../../src/service/local_conf.ts";
import { formatJson } from "../../src/cli/cli_format.ts";
import { Address } from "../../src/vl1/address.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import type { World } from "../../src/vl1/world.ts";

const WORLD_ID = 959721338713334732n; // not a double: Number() gives 959721338713334800

Deno.test("json64: big integer literals parse as exact bigints and print back unchanged", () => {
  const text = '{"a":959721338713334732,"b":[18446744073709551615,-9007199254740993],"c":1.5,' +
    '"d":9007199254740991,"e":1e300,"f":"959721338713334732"}';
  const v = parseJson64(text) as Record<string, unknown>;
  assert.equal(v.a, WORLD_ID);
  assert.deepEqual(v.b, [18446744073709551615n, -9007199254740993n]);
  assert.equal(v.c, 1.5);
  assert.equal(v.d, 9007199254740991); // safe integers stay numbers
  assert.equal(v.e, 1e300); // not an integer literal
  assert.equal(v.f, "959721338713334732");
  assert.equal(stringifyJson64(v), text.replace("1e300", "1e+300"));
  assert.equal(stringifyJson64({ x: [1n, 2] }, 1), '{\n "x": [\n  1,\n  2\n ]\n}');
  assert.throws(() => parseJson64("{bad"), SyntaxError);
});

function world(id: bigint, timestamp: bigint): World {
  return {
    type: 1,
    id,
    timestamp,
    updatesMustBeSignedBy: new Uint8Array(64),
    signature: new Uint8Array(96),
    roots: [],
  };
}

Deno.test("/status, /peer and /moon print 64-bit values exactly", async () => {
  const status = statusJson({
    address: "98bec71608",
    publicIdentity: "x",
    online: true,
    clock: 1,
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
      homeDir: "/tmp/x",
    },
    listeningOn: [],
    surfaceAddresses: [],
    planet: world(WORLD_ID, 18446744073709551615n),
  });
  const peer = peerJson({
    address: Address.parse("98bec71608")!,
    version: undefined,
    latency: -1,
    role: "LEAF",
    paths: [{
      address: InetAddress.parse("198.18.0.1/9993")!,
      localSocket: 1,
      lastSend: 0,
      lastReceive: 0,
      preferred: true,
      expired: false,
      trustedPathId: 18446744073709551615n,
    }],
  });
  const moon = moonJson(world(0x98bec71608n, 1795303646926123456n));
  const app = new Router();
  app.get("/status", (c) => sendJson(c, status));
  app.get("/peer", (c) => sendJson(c, [peer]));
  app.get("/moon", (c) => sendJson(c, [moon]));
  const st = await (await app.request("/status")).text();
  assert.match(st, /"planetWorldId":959721338713334732[,}]/);
  assert.match(st, /"planetWorldTimestamp":18446744073709551615[,}]/);
  const pe = await (await app.request("/peer")).text();
  assert.match(pe, /"trustedPathId":18446744073709551615[,}]/);
  const mo = await (await app.request("/moon")).text();
  assert.match(mo, /"timestamp":1795303646926123456[,}]/);
  // small values stay plain numbers
  assert.equal((parseJson64(st) as Record<string, unknown>).clock, 1);
  // the CLI's -j output keeps them exact too
  const cli = formatJson(parseJson64(st));
  assert.match(cli, /"planetWorldId": 959721338713334732,/);
});

Deno.test("local.conf: a 64-bit trustedPathId written as a number is read exactly", () => {
  const r = parseLocalConf(
    '{"physical":{"10.0.0.0/8":{"trustedPathId":18446744073709551615}}}',
    "local.conf",
  );
  assert.ok(r.ok);
  assert.equal(r.conf.physical[0].trustedPathId, 18446744073709551615n);
});
