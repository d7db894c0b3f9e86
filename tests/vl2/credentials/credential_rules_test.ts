// COM agreement (§12.1 selftest), revocation thresholds (§7.8) and acceptance/timing rules (§7.9).
import assert from "node:assert/strict";
import {
  CertificateOfMembership,
  comAcceptance,
  comAgrees,
  comCreate,
  comMemberAllowed,
  comSign,
} from "../../../src/vl2/credentials/com.ts";
import {
  emptyRevocationState,
  Revocation,
  revocationApply,
  revocationDecision,
  revocationThreshold,
} from "../../../src/vl2/credentials/revocation.ts";
import { CredentialType } from "../../../src/vl2/credentials/signature.ts";
import {
  clampCredentialTimeMaxDelta,
  credentialAcceptance,
  credentialUsable,
  shouldPushCredentials,
} from "../../../src/vl2/credentials/acceptance.ts";
import { CONTROLLER, MEMBER, NWID } from "../vectors.ts";

Deno.test("COM agreement: selftest timestamps 10000 vs 10099 agree (maxDelta 100), vs 10101 not", () => {
  const mk = (ts: bigint) => comCreate(ts, 100n, NWID, MEMBER);
  const a = mk(10000n);
  assert.ok(comAgrees(a, mk(10099n), MEMBER));
  assert.ok(comAgrees(mk(10099n), a, MEMBER));
  assert.equal(comAgrees(a, mk(10101n), MEMBER), false);
  assert.equal(comAgrees(mk(10101n), a, MEMBER), false);
  // their key-hash words must match their real identity
  assert.equal(comAgrees(a, mk(10000n), CONTROLLER), false);
  // another network never agrees (maxDelta 0 on qualifier 1)
  assert.equal(comAgrees(a, comCreate(10000n, 100n, NWID + 1n, MEMBER), MEMBER), false);
  // missing qualifier / empty COMs
  const short: CertificateOfMembership = { qualifiers: a.qualifiers.slice(0, 2), signedBy: 0 };
  assert.equal(comAgrees(a, short, MEMBER), false);
  assert.ok(comAgrees(short, a, MEMBER)); // ours has no ids 3..6: no identity check
  assert.equal(comAgrees({ qualifiers: [], signedBy: 0 }, a, MEMBER), false);
});

Deno.test("COM agreement is remembered per COM pair and recomputed when either side changes", () => {
  const theirs = comCreate(10000n, 100n, NWID, MEMBER);
  const ours1 = comCreate(10050n, 100n, NWID, CONTROLLER);
  const ours2 = comCreate(10200n, 100n, NWID, CONTROLLER); // too far from theirs
  for (let i = 0; i < 3; i++) {
    assert.ok(comAgrees(ours1, theirs, MEMBER));
    assert.equal(comAgrees(ours2, theirs, MEMBER), false, "our COM changed");
    assert.equal(comAgrees(ours1, theirs, CONTROLLER), false, "their identity differs");
  }
  const newer = comCreate(10190n, 100n, NWID, MEMBER); // their COM renewed
  assert.ok(comAgrees(ours2, newer, MEMBER));
  assert.equal(comAgrees(ours1, newer, MEMBER), false);
});

Deno.test("COM membership and acceptance honour the revocation threshold", () => {
  const ours = comCreate(10000n, 100n, NWID, CONTROLLER);
  const theirs = comCreate(10050n, 100n, NWID, MEMBER);
  assert.ok(comMemberAllowed(false, ours, theirs, MEMBER, 0n));
  assert.equal(comMemberAllowed(false, ours, theirs, MEMBER, 10050n), false);
  assert.ok(comMemberAllowed(true, undefined, undefined, MEMBER, 99999n));
  assert.equal(comMemberAllowed(false, ours, undefined, MEMBER, 0n), false);

  const signed = comSign(theirs, CONTROLLER);
  assert.equal(comAcceptance(undefined, signed, 0n), "verify");
  assert.equal(comAcceptance(undefined, signed, 10050n), "reject");
  assert.equal(comAcceptance(signed, comSign(theirs, CONTROLLER), 0n), "redundant");
  assert.equal(comAcceptance(signed, comCreate(10049n, 100n, NWID, MEMBER), 0n), "reject");
  assert.equal(comAcceptance(signed, comCreate(10051n, 100n, NWID, MEMBER), 0n), "verify");
});

Deno.test("revocations: COM threshold, per-credential thresholds and the overwrite quirk", () => {
  const rev = (
    credentialType: CredentialType,
    credentialId: number,
    threshold: bigint,
  ): Revocation => ({
    id: 1,
    networkId: NWID,
    credentialId,
    threshold,
    flags: 0n,
    target: MEMBER.address.value,
    signedBy: CONTROLLER.address.value,
    credentialType,
  });
  let s = emptyRevocationState();
  const com = rev(CredentialType.COM, 0, 5000n);
  assert.equal(revocationDecision(s, com), "new");
  s = revocationApply(s, com);
  assert.equal(s.comThreshold, 5000n);
  assert.equal(revocationDecision(s, com), "redundant");
  assert.equal(revocationDecision(s, rev(CredentialType.COM, 0, 4000n)), "redundant");

  const tag = rev(CredentialType.TAG, 2000, 3000n);
  assert.equal(revocationDecision(s, tag), "new");
  const s2 = revocationApply(s, tag);
  assert.equal(revocationThreshold(s2, CredentialType.TAG, 2000), 3000n);
  assert.equal(revocationThreshold(s2, CredentialType.CAPABILITY, 2000), undefined);
  assert.equal(s2.comThreshold, 3000n); // QUIRK: overwritten, even downwards
  assert.equal(s.comThreshold, 5000n); // apply does not mutate
  assert.equal(revocationDecision(s2, tag), "redundant");
  assert.equal(revocationDecision(s2, rev(CredentialType.REVOCATION, 0, 9n)), "reject");
  assert.equal(revocationDecision(s2, rev(CredentialType.NULL, 0, 9n)), "reject");
});

Deno.test("acceptance and timing rules", () => {
  assert.equal(clampCredentialTimeMaxDelta(undefined), 1_800_000n);
  assert.equal(clampCredentialTimeMaxDelta(1n), 300_000n);
  assert.equal(clampCredentialTimeMaxDelta(10_000_000n), 7_200_000n);
  assert.equal(clampCredentialTimeMaxDelta(600_000n), 600_000n);

  assert.equal(credentialAcceptance(100n, undefined, undefined), "verify");
  assert.equal(
    credentialAcceptance(100n, { timestamp: 101n, identical: false }, undefined),
    "reject",
  );
  assert.equal(
    credentialAcceptance(100n, { timestamp: 100n, identical: true }, undefined),
    "redundant",
  );
  assert.equal(credentialAcceptance(100n, undefined, 100n), "reject");
  assert.equal(credentialAcceptance(100n, undefined, 99n), "verify");

  assert.ok(credentialUsable(1000n, 1100n, 100n, undefined));
  assert.equal(credentialUsable(1000n, 1101n, 100n, undefined), false);
  assert.equal(credentialUsable(1201n, 1100n, 100n, undefined), false);
  assert.equal(credentialUsable(1000n, 1000n, 100n, 1000n), false);

  assert.ok(shouldPushCredentials(0, undefined, false));
  assert.ok(shouldPushCredentials(10, 5, true));
  assert.equal(shouldPushCredentials(500_000, 0, false), false);
  assert.ok(shouldPushCredentials(500_001, 0, false));
  assert.equal(shouldPushCredentials(1000, 0, false, true), false);
  assert.ok(shouldPushCredentials(1001, 0, false, true));
});
