// IdentityChecks: remembered failures, the CPU budget on the injected clock.
import assert from "node:assert/strict";
import { Address } from "../../src/vl1/address.ts";
import { Identity } from "../../src/vl1/identity.ts";
import {
  IDENTITY_CHECK_BURST_MS,
  IdentityChecks,
  identityKey,
} from "../../src/vl1/identity_checks.ts";

Deno.test("identity checks: a failed identity is remembered and refused without a new check", () => {
  const c = new IdentityChecks({ validationCostMs: 10 });
  const bad = new Identity(new Address(0x1234567890), new Uint8Array(64).fill(1));
  const k = identityKey(bad);
  assert.equal(c.known(k), undefined);
  assert.equal(c.validate(0, bad, k), false);
  assert.equal(c.known(k), "invalid");
  assert.equal(c.known(k), "invalid");
  const s = c.stats();
  assert.equal(s.validations, 1);
  assert.equal(s.failures, 1);
  assert.equal(s.replaysDropped, 2);
  assert.equal(s.negativeEntries, 1);
});

Deno.test("identity checks: the budget is burst + share × elapsed, on the injected clock", () => {
  const cost = 50;
  const c = new IdentityChecks({ validationCostMs: cost, cpuShare: 0.25, negativeCacheSize: 4 });
  let ran = 0;
  let now = 5_000;
  for (let i = 0; i < 1000; i++) {
    const id = new Identity(new Address(0x1000000000 + i), new Uint8Array(64).fill(i & 0xff));
    if (c.validate(now, id, identityKey(id)) !== undefined) ran++;
    now += 10; // 10 s of clock in all
  }
  const max = Math.floor((IDENTITY_CHECK_BURST_MS + 10_000 * 0.25) / cost) + 1;
  assert.ok(ran <= max && ran >= max - 3, `ran ${ran}, budget ${max}`);
  assert.equal(c.stats().budgetDropped, 1000 - ran);
  assert.equal(c.stats().negativeEntries, 4, "negative cache bounded");
  // a clock that goes back never adds budget
  const before = c.stats().budgetDropped;
  const id = new Identity(new Address(0x1000000001), new Uint8Array(64).fill(9));
  assert.equal(c.validate(now - 100_000, id, identityKey(id)), undefined);
  assert.equal(c.stats().budgetDropped, before + 1);
});
