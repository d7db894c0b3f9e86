// Tests for the local API listen plan: loopback only by default, wildcard or bind addresses with allowManagementFrom.
import assert from "node:assert/strict";
import { apiListenPlan } from "../../src/service/api_listen.ts";
import { parseLocalConf } from "../../src/service/local_conf.ts";

/** The plan for a local.conf `settings` object, as hostnames (required ones marked `!`). */
function planOf(settings: Record<string, unknown>): string[] {
  const r = parseLocalConf(JSON.stringify({ settings }));
  if (!r.ok) throw new Error(r.error);
  return apiListenPlan(r.conf.settings).map((h) =>
    `${h.hostname}${h.required ? "!" : ""}${h.coveredByDualStack ? "~" : ""}`
  );
}

Deno.test("api listen plan: loopback only unless allowManagementFrom is set", () => {
  assert.deepEqual(planOf({}), ["127.0.0.1!", "::1"]);
  assert.deepEqual(planOf({ allowManagementFrom: [] }), ["127.0.0.1!", "::1"]);
  // bind alone does not open the API to other hosts
  assert.deepEqual(planOf({ bind: ["198.18.0.5"] }), ["127.0.0.1!", "::1"]);
});

Deno.test("api listen plan: wildcard (:: then 0.0.0.0) with allowManagementFrom", () => {
  const wild = ["::", "0.0.0.0!~"];
  assert.deepEqual(planOf({ allowManagementFrom: ["198.18.0.0/24"] }), wild);
  assert.deepEqual(planOf({ allowManagementFrom: ["198.18.0.0/24"], bind: ["0.0.0.0"] }), wild);
});

Deno.test("api listen plan: loopback plus the bind addresses with allowManagementFrom", () => {
  assert.deepEqual(
    planOf({
      allowManagementFrom: ["198.18.0.0/24", "fd00::/8"],
      bind: ["198.18.0.5", "127.0.0.1", "fd00::5", "198.18.0.5", "fe80::1"],
    }),
    ["127.0.0.1!", "::1", "198.18.0.5", "fd00::5"],
  );
});
