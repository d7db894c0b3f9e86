// Builds, signs, parses and verifies the five credential kinds against the §12.6 vectors.
import assert from "node:assert/strict";
import { Identity } from "../../../src/vl1/identity.ts";
import { InetAddress } from "../../../src/vl1/inet_address.ts";
import { toHex } from "../../../src/util/hex.ts";
import {
  comCreate,
  comDeserialize,
  comIssuedTo,
  comNetworkId,
  comSerialize,
  comSign,
  comTimestamp,
  comVerify,
  comVerifyWith,
} from "../../../src/vl2/credentials/com.ts";
import {
  tagDeserialize,
  tagSerialize,
  tagSign,
  tagVerify,
} from "../../../src/vl2/credentials/tag.ts";
import {
  capabilityDeserialize,
  capabilityHolder,
  capabilitySerialize,
  capabilitySign,
  capabilityVerify,
} from "../../../src/vl2/credentials/capability.ts";
import {
  cooDeserialize,
  cooIpThing,
  cooOwnsIp,
  cooSerialize,
  cooSign,
  cooVerify,
} from "../../../src/vl2/credentials/coo.ts";
import {
  revocationDeserialize,
  revocationFastPropagate,
  revocationSerialize,
  revocationSign,
  revocationVerify,
} from "../../../src/vl2/credentials/revocation.ts";
import { CredentialType } from "../../../src/vl2/credentials/signature.ts";
import { CAP, COM, CONTROLLER, COO, CTMD, MEMBER, NWID, REV, TAG, TS } from "../vectors.ts";

const PUBLIC_CONTROLLER = Identity.fromString(CONTROLLER.toString(false))!;
const lookup = (a: number) =>
  a === CONTROLLER.address.value
    ? PUBLIC_CONTROLLER
    : a === MEMBER.address.value
    ? MEMBER
    : undefined;

/** Every strict prefix fails to parse; flipping any signed byte breaks verification. */
function robustness(
  bytes: Uint8Array,
  parse: (b: Uint8Array) => unknown,
  verifies: (b: Uint8Array) => boolean,
  signedRange: [number, number],
) {
  for (let n = 0; n < bytes.length; n++) {
    assert.equal(parse(bytes.subarray(0, n)), undefined, `len ${n}`);
  }
  assert.ok(verifies(bytes));
  for (let i = signedRange[0]; i < signedRange[1]; i += 7) {
    const t = bytes.slice();
    t[i] ^= 0x10;
    assert.equal(verifies(t), false, `flip ${i}`);
  }
}

Deno.test("COM: §12.6 vector builds, signs, parses and verifies byte-exactly", () => {
  const built = comSign(comCreate(TS, CTMD, NWID, MEMBER), CONTROLLER);
  assert.equal(toHex(comSerialize(built)), toHex(COM));
  const p = comDeserialize(COM)!;
  assert.equal(p.length, COM.length);
  assert.equal(p.com.qualifiers.length, 7);
  assert.equal(comTimestamp(p.com), TS);
  assert.equal(comNetworkId(p.com), NWID);
  assert.equal(comIssuedTo(p.com), MEMBER.address.value);
  assert.equal(p.com.signedBy, CONTROLLER.address.value);
  assert.ok(comVerify(p.com, PUBLIC_CONTROLLER));
  assert.equal(comVerify(p.com, MEMBER), false);
  assert.equal(comVerifyWith(p.com, lookup), "ok");
  assert.equal(comVerifyWith(p.com, () => undefined), "need-identity");
  assert.equal(toHex(comSerialize(p.com)), toHex(COM));
  robustness(COM, (b) => comDeserialize(b), (b) => {
    const c = comDeserialize(b);
    return c !== undefined && comVerify(c.com, PUBLIC_CONTROLLER);
  }, [3, COM.length]);
  // format byte, qualifier limit, non-decreasing ids
  const bad = COM.slice();
  bad[0] = 2;
  assert.equal(comDeserialize(bad), undefined);
  const swapped = COM.slice();
  swapped.set(COM.subarray(3 + 24, 3 + 48), 3);
  swapped.set(COM.subarray(3, 3 + 24), 3 + 24);
  assert.equal(comDeserialize(swapped), undefined);
  const nine = COM.slice();
  nine[2] = 9;
  assert.equal(comDeserialize(nine), undefined);
  // at an offset with an exact end, and never past `end`
  const padded = new Uint8Array(COM.length + 10);
  padded.set(COM, 5);
  assert.equal(comDeserialize(padded, 5, 5 + COM.length)?.length, COM.length);
  assert.equal(comDeserialize(padded, 5, 4 + COM.length), undefined);
  assert.equal(comDeserialize(padded, -1), undefined);
});

Deno.test("Tag: §12.6 vector", () => {
  const built = tagSign({
    networkId: NWID,
    timestamp: TS,
    id: 100,
    value: 5,
    issuedTo: MEMBER.address.value,
    signedBy: 0,
  }, CONTROLLER);
  assert.equal(toHex(tagSerialize(built)), toHex(TAG));
  const p = tagDeserialize(TAG)!;
  assert.equal(p.length, TAG.length);
  assert.deepEqual([p.tag.id, p.tag.value, p.tag.issuedTo], [100, 5, 0xcafe9efeb9]);
  assert.ok(tagVerify(p.tag, PUBLIC_CONTROLLER));
  assert.equal(tagVerify({ ...p.tag, value: 6 }, PUBLIC_CONTROLLER), false);
  assert.equal(tagVerify(p.tag, MEMBER), false);
  assert.equal(toHex(tagSerialize(p.tag)), toHex(TAG));
  robustness(TAG, (b) => tagDeserialize(b), (b) => {
    const t = tagDeserialize(b);
    return t !== undefined && tagVerify(t.tag, PUBLIC_CONTROLLER);
  }, [0, 34]);
});

Deno.test("Capability: §12.6 vector, custody chain rules", () => {
  const unsigned = {
    networkId: NWID,
    timestamp: TS,
    id: 7,
    rules: [
      { type: 40, value: new Uint8Array([0, 22, 0, 22]) }, // dport 22-22
      { type: 1, value: new Uint8Array(0) }, // accept
    ],
    maxCustodyChainLength: 1,
    custody: [],
  };
  const built = capabilitySign(unsigned, CONTROLLER, MEMBER.address.value)!;
  assert.equal(toHex(capabilitySerialize(built)), toHex(CAP));
  const p = capabilityDeserialize(CAP)!;
  assert.equal(p.length, CAP.length);
  assert.equal(p.capability.id, 7);
  assert.equal(p.capability.rules.length, 2);
  assert.equal(capabilityHolder(p.capability), MEMBER.address.value);
  assert.equal(capabilityVerify(p.capability, lookup), "ok");
  assert.equal(capabilityVerify(p.capability, () => undefined), "need-identity");
  assert.equal(capabilityVerify({ ...p.capability, id: 8 }, lookup), "bad");
  assert.equal(capabilityVerify({ ...p.capability, custody: [] }, lookup), "bad");
  assert.equal(toHex(capabilitySerialize(p.capability)), toHex(CAP));
  // chain full at length 1; a non-holder cannot sign
  assert.equal(capabilitySign(built, MEMBER, 0x1122334455), undefined);
  assert.equal(capabilitySign(unsigned, MEMBER, 0x1122334455), undefined);
  robustness(CAP, (b) => capabilityDeserialize(b), (b) => {
    const c = capabilityDeserialize(b);
    return c !== undefined && capabilityVerify(c.capability, lookup) === "ok";
  }, [0, 31]);
  // a two-link chain: controller -> member (with a key we hold) -> third party
  const holder = Identity.generate((n) => new Uint8Array(n).map((_, i) => (i * 37 + 11) & 0xff));
  const two0 = capabilitySign(
    { ...unsigned, maxCustodyChainLength: 2 },
    CONTROLLER,
    holder.address.value,
  )!;
  const two = capabilitySign(two0, holder, 0x1122334455)!;
  const look2 = (a: number) => a === holder.address.value ? holder : lookup(a);
  const rt = capabilityDeserialize(capabilitySerialize(two))!;
  assert.equal(capabilityVerify(rt.capability, look2), "ok");
  assert.equal(capabilityHolder(rt.capability), 0x1122334455);
  const broken = {
    ...rt.capability,
    custody: [rt.capability.custody[0], { ...rt.capability.custody[1], from: 0x99 }],
  };
  assert.equal(capabilityVerify(broken, look2), "bad");
});

Deno.test("COO: §12.6 vector and ownership", () => {
  const ip = InetAddress.parse("10.147.17.5/24")!;
  const built = cooSign({
    networkId: NWID,
    timestamp: TS,
    flags: 0n,
    id: 1,
    things: [cooIpThing(ip)],
    issuedTo: MEMBER.address.value,
    signedBy: 0,
  }, CONTROLLER);
  assert.equal(toHex(cooSerialize(built)), toHex(COO));
  const p = cooDeserialize(COO)!;
  assert.equal(p.length, COO.length);
  assert.ok(cooVerify(p.coo, PUBLIC_CONTROLLER));
  assert.ok(cooOwnsIp(p.coo, ip));
  assert.equal(cooOwnsIp(p.coo, InetAddress.parse("10.147.17.6/0")!), false);
  assert.equal(toHex(cooSerialize(p.coo)), toHex(COO));
  robustness(COO, (b) => cooDeserialize(b), (b) => {
    const c = cooDeserialize(b);
    return c !== undefined && cooVerify(c.coo, PUBLIC_CONTROLLER);
  }, [0, 57]);
});

Deno.test("Revocation: §12.6 vector", () => {
  const built = revocationSign({
    id: 0x12345678,
    networkId: NWID,
    credentialId: 0,
    threshold: TS,
    flags: 1n,
    target: MEMBER.address.value,
    signedBy: 0,
    credentialType: CredentialType.COM,
  }, CONTROLLER);
  assert.equal(toHex(revocationSerialize(built)), toHex(REV));
  const p = revocationDeserialize(REV)!;
  assert.equal(p.length, REV.length);
  assert.ok(revocationVerify(p.revocation, PUBLIC_CONTROLLER));
  assert.ok(revocationFastPropagate(p.revocation));
  assert.equal(p.revocation.credentialType, CredentialType.COM);
  assert.equal(toHex(revocationSerialize(p.revocation)), toHex(REV));
  robustness(REV, (b) => revocationDeserialize(b), (b) => {
    const r = revocationDeserialize(b);
    return r !== undefined && revocationVerify(r.revocation, PUBLIC_CONTROLLER);
  }, [20, 51]);
  for (const i of [4, 7, 8, 15]) { // id and network ID (the reserved words are not signed as-is)
    const t = REV.slice();
    t[i] ^= 1;
    assert.equal(revocationVerify(revocationDeserialize(t)!.revocation, PUBLIC_CONTROLLER), false);
  }
});
