// Request metadata: the reference node's exact bytes (from the 1.14.1 capture) and parsing rules.
import assert from "node:assert/strict";
import {
  defaultConfigRequestMetadata,
  encodeConfigRequestMetadata,
  parseConfigRequestMetadata,
} from "../../src/vl2/config_request_metadata.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** The metadata every NETWORK_CONFIG_REQUEST of the 1.14.1 capture carried (decrypted). */
const CAPTURED = "v=0000000000000007\nvend=0000000000000001\npv=000000000000000c\n" +
  "majv=0000000000000001\nminv=000000000000000e\nrevv=0000000000000001\nmr=0000000000000400\n" +
  "mc=0000000000000080\nmcr=0000000000000040\nmt=0000000000000080\nf=0000000000000000\n" +
  "revr=0000000000000001\no=linux/x86_64";

Deno.test("request metadata: defaults encode to what 1.14.1 sends", () => {
  assert.equal(dec(encodeConfigRequestMetadata(defaultConfigRequestMetadata())), CAPTURED);
  const m = parseConfigRequestMetadata(enc(CAPTURED));
  assert.deepEqual(m, defaultConfigRequestMetadata());
  assert.equal(m.protocolVersion, 12);
  assert.equal(m.maxNetworkRules, 1024);
});

Deno.test("request metadata: absent keys read as 0, token and unknown keys kept", () => {
  const m = parseConfigRequestMetadata(enc("v=6\na=token:abc\nzz=1"));
  assert.equal(m.netconfVersion, 6);
  assert.equal(m.rulesEngineRevision, 0);
  assert.equal(m.os, undefined);
  assert.equal(m.authToken, "token:abc");
  assert.deepEqual(m.extra.map((e) => e.key), ["zz"]);
  const again = parseConfigRequestMetadata(encodeConfigRequestMetadata(m));
  assert.deepEqual(again, m);
  assert.equal(parseConfigRequestMetadata(new Uint8Array(0)).netconfVersion, 0);
});
