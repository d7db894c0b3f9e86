// Tests the ERROR payload codec: per-code layouts, optional network IDs and error data.
import assert from "node:assert/strict";
import { ErrorCode, Verb } from "../../../src/vl1/packet.ts";
import { decodeError, encodeError } from "../../../src/vl1/verbs/mod.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

const PID = 0x1122334455667788n;

Deno.test("ERROR(NEED_MEMBERSHIP_CERTIFICATE) in re FRAME: nwid payload", () => {
  const bytes = fromHex("06" + "1122334455667788" + "06" + "8e4df28b72000001");
  const e = decodeError(bytes)!;
  assert.deepEqual(e, {
    inReVerb: Verb.FRAME,
    inRePacketId: PID,
    code: ErrorCode.NEED_MEMBERSHIP_CERTIFICATE,
    networkId: 0x8e4df28b72000001n,
  });
  assert.equal(toHex(encodeError(e)), toHex(bytes));
  assert.equal(decodeError(bytes, 0, bytes.length - 1), undefined); // nwid required
});

Deno.test("ERROR(IDENTITY_COLLISION) has no payload; unknown codes decode to the header", () => {
  const bytes = fromHex("01" + "1122334455667788" + "04");
  assert.deepEqual(decodeError(bytes), {
    inReVerb: Verb.HELLO,
    inRePacketId: PID,
    code: ErrorCode.IDENTITY_COLLISION,
  });
  assert.equal(toHex(encodeError(decodeError(bytes)!)), toHex(bytes));
  const unknown = decodeError(fromHex("03" + "1122334455667788" + "7f" + "abcdef"))!;
  assert.equal(unknown.code, 0x7f);
  assert.equal(unknown.networkId, undefined);
  assert.equal(decodeError(bytes, 0, 9), undefined);
});

Deno.test("ERROR(OBJ_NOT_FOUND): nwid required in re NETWORK_CONFIG_REQUEST, optional otherwise", () => {
  const ncr = fromHex("0b" + "1122334455667788" + "03");
  assert.equal(decodeError(ncr), undefined);
  const other = fromHex("04" + "1122334455667788" + "03");
  assert.equal(decodeError(other)!.networkId, undefined);
  const full = fromHex("0b" + "1122334455667788" + "03" + "5b1c20a311fca1ca");
  assert.equal(decodeError(full)!.networkId, 0x5b1c20a311fca1can);
});

Deno.test("ERROR(UNWANTED_MULTICAST): nwid, MAC, ADI", () => {
  const bytes = fromHex(
    "0e" + "1122334455667788" + "08" + "8e4df28b72000001" + "ffffffffffff" + "0a000001",
  );
  const e = decodeError(bytes)!;
  assert.equal(e.mac, 0xffffffffffff);
  assert.equal(e.adi, 0x0a000001);
  assert.equal(toHex(encodeError(e)), toHex(bytes));
  assert.equal(decodeError(bytes, 0, bytes.length - 1), undefined);
});

Deno.test("ERROR(NETWORK_AUTHENTICATION_REQUIRED): nwid then len(2) | dictionary", () => {
  const dict = new TextEncoder().encode("aurl=https://x\nssov=0000000000000000");
  const e = {
    inReVerb: Verb.NETWORK_CONFIG_REQUEST,
    inRePacketId: PID,
    code: ErrorCode.NETWORK_AUTHENTICATION_REQUIRED,
    networkId: 0x8e4df28b72000001n,
    errorData: dict,
  };
  const bytes = encodeError(e);
  const lenHex = dict.length.toString(16).padStart(4, "0");
  assert.equal(toHex(bytes), "0b1122334455667788098e4df28b72000001" + lenHex + toHex(dict));
  assert.deepEqual(decodeError(bytes), e);
  // declared length overruns the payload
  assert.equal(decodeError(bytes, 0, bytes.length - 1), undefined);
  // no data at all (or a single stray byte): no errorData
  assert.equal(decodeError(bytes, 0, 18)!.errorData, undefined);
  assert.equal(decodeError(bytes, 0, 19)!.errorData, undefined);
  // empty data is not written
  const empty = encodeError({ ...e, errorData: new Uint8Array(0) });
  assert.equal(empty.length, 18);
});
