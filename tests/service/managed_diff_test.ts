// Tests for managed IP/route planning (allow flags, source choice, default split, diffs) and its ip commands.
import assert from "node:assert/strict";
import { fixtureText } from "../fixtures.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import type { Route } from "../../src/vl2/network_config.ts";
import {
  DEFAULT_MANAGED_POLICY,
  desiredAddresses,
  desiredRoutes,
  diffAddresses,
  diffRoutes,
  emptyManagedState,
  isDefaultRoute,
  type ManagedPolicy,
  managedTargetAllowed,
  matchingPrefixBits,
  planManaged,
  routeKey,
  splitDefaultRoute,
  type SystemRoute,
} from "../../src/service/managed_diff.ts";
import {
  ipAddrAddArgs,
  ipAddrDelArgs,
  ipRouteAddArgs,
  ipRouteDelArgs,
  type IpRunner,
  ManagedRoutes,
} from "../../src/service/managed_routes.ts";

/** Parses "ip/bits" or throws (test data only). */
function A(s: string): InetAddress {
  const a = InetAddress.parse(s);
  if (!a) throw new Error(`bad test address ${s}`);
  return a;
}

/** A config route. */
function R(target: string, via?: string): Route {
  const r: Route = { target: A(target), flags: 0, metric: 0 };
  if (via) r.via = A(via);
  return r;
}

const strs = (xs: InetAddress[]) => xs.map((x) => x.toString());
const routeStrs = (xs: SystemRoute[]) => xs.map(routeKey);

const POLICY: ManagedPolicy = { ...DEFAULT_MANAGED_POLICY };
const ALL: ManagedPolicy = { allowManaged: true, allowGlobal: true, allowDefault: true };

/** The recorded network objects of node a (reference 1.14.1 /network answer). */
interface NetworkJson {
  id: string;
  assignedAddresses: string[];
  routes: { target: string; via: string | null }[];
  allowManaged: boolean;
  allowGlobal: boolean;
  allowDefault: boolean;
}
const recorded = JSON.parse(fixtureText("api/a-network.json")) as NetworkJson[];

Deno.test("managed: reference defaults are managed on, global and default off", () => {
  for (const n of recorded) {
    assert.equal(n.allowManaged, DEFAULT_MANAGED_POLICY.allowManaged);
    assert.equal(n.allowGlobal, DEFAULT_MANAGED_POLICY.allowGlobal);
    assert.equal(n.allowDefault, DEFAULT_MANAGED_POLICY.allowDefault);
  }
});

Deno.test("managed: allow flags gate addresses and targets by scope", () => {
  const cases: [string, ManagedPolicy, boolean][] = [
    ["198.19.0.5/24", POLICY, true], // private (198.18/15)
    ["10.1.2.3/8", POLICY, true],
    ["fd00::1/64", POLICY, true],
    ["fc4a:e081:69be:ccf0:8a89::1/40", POLICY, true],
    ["198.19.0.5/24", { ...POLICY, allowManaged: false }, false],
    ["fd00::1/64", { ...ALL, allowManaged: false }, false],
    ["8.8.8.0/24", POLICY, false], // global
    ["8.8.8.0/24", { ...POLICY, allowGlobal: true }, true],
    ["2001:db8::1/64", POLICY, false],
    ["2001:db8::1/64", { ...POLICY, allowGlobal: true }, true],
    ["0.0.0.0/0", POLICY, false],
    ["0.0.0.0/0", { ...POLICY, allowGlobal: true }, false],
    ["0.0.0.0/0", { ...POLICY, allowDefault: true }, true],
    ["::/0", { ...POLICY, allowDefault: true }, true],
    ["::/0", { ...POLICY, allowGlobal: true }, false],
    ["169.254.1.1/16", ALL, false], // link-local
    ["fe80::1234/64", ALL, false],
    ["127.0.0.1/8", ALL, false],
    ["224.0.0.0/4", ALL, false],
    ["0.1.2.3/8", ALL, false], // scope none, not a default route
    ["6.0.0.0/8", POLICY, true], // pseudo-private
  ];
  for (const [t, p, want] of cases) {
    assert.equal(managedTargetAllowed(p, A(t)), want, `${t} ${JSON.stringify(p)}`);
  }
});

Deno.test("managed: whitelist limits targets to contained, not wider, networks", () => {
  const p: ManagedPolicy = { ...POLICY, allowManagedWhitelist: [A("198.19.0.0/16")] };
  assert.equal(managedTargetAllowed(p, A("198.19.4.1/24")), true);
  assert.equal(managedTargetAllowed(p, A("198.19.0.0/16")), true);
  assert.equal(managedTargetAllowed(p, A("198.18.0.0/15")), false); // wider than the whitelist
  assert.equal(managedTargetAllowed(p, A("10.0.0.1/8")), false);
  assert.equal(managedTargetAllowed(p, A("fd00::1/64")), false);
});

Deno.test("managed: helpers (default route, split, matching bits)", () => {
  assert.equal(isDefaultRoute(A("0.0.0.0/0")), true);
  assert.equal(isDefaultRoute(A("::/0")), true);
  assert.equal(isDefaultRoute(A("0.0.0.0/1")), false);
  assert.equal(isDefaultRoute(A("1.0.0.0/0")), false);
  assert.deepEqual(strs(splitDefaultRoute(A("0.0.0.0/0"))), ["0.0.0.0/1", "128.0.0.0/1"]);
  assert.deepEqual(strs(splitDefaultRoute(A("::/0"))), ["::/1", "8000::/1"]);
  assert.deepEqual(strs(splitDefaultRoute(A("198.19.0.0/24"))), ["198.19.0.0/24"]);
  assert.equal(matchingPrefixBits(A("198.19.0.1"), A("198.19.0.1")), 32);
  assert.equal(matchingPrefixBits(A("198.19.0.1"), A("198.19.0.129")), 24);
  assert.equal(matchingPrefixBits(A("198.19.0.1"), A("70.19.0.1")), 0);
  assert.equal(matchingPrefixBits(A("fd00::1"), A("fd00::3")), 126);
  assert.equal(matchingPrefixBits(A("fd00::1"), A("198.19.0.1")), 0);
});

Deno.test("managed: recorded network objects plan to their own addresses and no extra routes", () => {
  for (const n of recorded) {
    const assigned = n.assignedAddresses.map(A);
    const routes = n.routes.map((r) => R(r.target, r.via ?? undefined));
    const plan = planManaged(emptyManagedState(), assigned, routes, POLICY);
    // All recorded addresses are private: every one is applied (sorted, v4 first).
    assert.deepEqual(
      new Set(strs(plan.next.addresses)),
      new Set(n.assignedAddresses.map((s) => A(s).toString())),
    );
    assert.deepEqual(strs(plan.addresses.add), strs(plan.next.addresses));
    assert.equal(plan.addresses.remove.length, 0);
    // The recorded routes are exactly the subnets of the assigned IPv4 addresses: implied.
    assert.deepEqual(plan.next.routes, [], n.id);
    // allowManaged=false applies nothing.
    const off = planManaged(emptyManagedState(), assigned, routes, {
      ...POLICY,
      allowManaged: false,
    });
    assert.deepEqual(off.next, { addresses: [], routes: [] });
  }
});

Deno.test("managed: routes pick the closest source, skip own gateways and implied subnets", () => {
  const assigned = [A("198.19.0.114/24"), A("198.19.7.9/16"), A("fd00:1::5/64")];
  const routes = [
    R("198.19.0.0/24"), // implied by 198.19.0.114/24
    R("198.19.9.0/24", "198.19.0.1"), // 198.19.7.9 shares 21 bits, .0.114 only 20
    R("198.19.0.128/25", "198.19.0.1"),
    R("198.19.50.0/24", "198.19.0.114"), // via our own IP: skipped
    R("fd00:2::/64", "fd00:1::1"),
    R("fd00:1::/64"), // implied
    R("192.168.5.0/24"),
    R("192.168.5.0/24", "198.19.0.9"), // duplicate target: first wins
    R("10.9.0.5/16"), // host bits set: normalized
    R("8.8.8.0/24", "198.19.0.1"), // global: not allowed
  ];
  const addrs = desiredAddresses(assigned, POLICY);
  const got = desiredRoutes(routes, assigned, addrs, POLICY);
  assert.deepEqual(routeStrs(got), [
    "10.9.0.0/16 via - src 198.19.7.9",
    "192.168.5.0/24 via - src 198.19.7.9",
    "198.19.0.128/25 via 198.19.0.1 src 198.19.0.114",
    "198.19.9.0/24 via 198.19.0.1 src 198.19.7.9",
    "fd00:2::/64 via fd00:1::1 src fd00:1::5",
  ]);
  // With global allowed the public route appears too (0 matching bits everywhere: the later
  // address in sort order wins the tie).
  const g = desiredRoutes(routes, assigned, addrs, { ...POLICY, allowGlobal: true });
  assert.ok(routeStrs(g).includes("8.8.8.0/24 via 198.19.0.1 src 198.19.7.9"));
  // A route with no same-family address is skipped.
  assert.deepEqual(desiredRoutes([R("fd00:9::/64")], [A("198.19.0.1/24")], [], POLICY), []);
  // Gateway equal to a device IP that is not assigned is skipped too.
  assert.deepEqual(
    desiredRoutes([R("198.19.9.0/24", "198.19.0.77")], assigned, addrs, POLICY, [A("198.19.0.77")]),
    [],
  );
});

Deno.test("managed: default routes only with allowDefault, split in halves", () => {
  const assigned = [A("198.19.0.114/24"), A("fd00:1::5/64")];
  const routes = [R("0.0.0.0/0", "198.19.0.1"), R("::/0", "fd00:1::1")];
  assert.deepEqual(planManaged(emptyManagedState(), assigned, routes, POLICY).next.routes, []);
  assert.deepEqual(
    planManaged(emptyManagedState(), assigned, routes, { ...POLICY, allowGlobal: true }).next
      .routes,
    [],
  );
  const on = planManaged(emptyManagedState(), assigned, routes, { ...POLICY, allowDefault: true });
  assert.deepEqual(routeStrs(on.next.routes), [
    "0.0.0.0/1 via 198.19.0.1 src 198.19.0.114",
    "128.0.0.0/1 via 198.19.0.1 src 198.19.0.114",
    "::/1 via fd00:1::1 src fd00:1::5",
    "8000::/1 via fd00:1::1 src fd00:1::5",
  ]);
});

Deno.test("managed: diffs between consecutive configs", () => {
  const v1 = [A("198.19.0.5/24"), A("fd00::5/64")];
  const v2 = [A("198.19.0.5/16"), A("fd00::5/64"), A("198.19.1.1/24")];
  const d = diffAddresses(v1, v2);
  assert.deepEqual(strs(d.add), ["198.19.0.5/16", "198.19.1.1/24"]); // prefix change = new
  assert.deepEqual(strs(d.remove), ["198.19.0.5/24"]);
  assert.deepEqual(diffAddresses(v2, v2), { add: [], remove: [] });

  const r1: SystemRoute[] = [{
    target: A("198.19.9.0/24"),
    via: A("198.19.0.1"),
    src: A("198.19.0.5/24"),
  }];
  const r2: SystemRoute[] = [{
    target: A("198.19.9.0/24"),
    via: A("198.19.0.2"),
    src: A("198.19.0.5/24"),
  }];
  const rd = diffRoutes(r1, r2);
  assert.deepEqual(routeStrs(rd.add), ["198.19.9.0/24 via 198.19.0.2 src 198.19.0.5"]);
  assert.deepEqual(routeStrs(rd.remove), ["198.19.9.0/24 via 198.19.0.1 src 198.19.0.5"]);

  // Plan from a previous state: toggling allowGlobal adds then removes the public address.
  const assigned = [A("198.19.0.5/24"), A("203.0.114.7/24")];
  const p1 = planManaged(emptyManagedState(), assigned, [], POLICY);
  assert.deepEqual(strs(p1.next.addresses), ["198.19.0.5/24"]);
  const p2 = planManaged(p1.next, assigned, [], { ...POLICY, allowGlobal: true });
  assert.deepEqual(strs(p2.addresses.add), ["203.0.114.7/24"]);
  assert.deepEqual(p2.addresses.remove, []);
  const p3 = planManaged(p2.next, assigned, [], POLICY);
  assert.deepEqual(strs(p3.addresses.remove), ["203.0.114.7/24"]);
  assert.deepEqual(p3.addresses.add, []);
});

Deno.test("managed: ip command arguments", () => {
  assert.deepEqual(ipAddrAddArgs("zt7agraozd", A("198.19.0.1/28")), [
    "addr",
    "add",
    "198.19.0.1/28",
    "dev",
    "zt7agraozd",
  ]);
  assert.deepEqual(ipAddrAddArgs("zt0", A("fd00::1/88")), [
    "addr",
    "add",
    "fd00::1/88",
    "dev",
    "zt0",
    "nodad",
  ]);
  assert.deepEqual(ipAddrDelArgs("zt0", A("fd00::1/88")), [
    "addr",
    "del",
    "fd00::1/88",
    "dev",
    "zt0",
  ]);
  const r: SystemRoute = {
    target: A("198.19.9.0/24"),
    via: A("198.19.0.1"),
    src: A("198.19.0.5/24"),
  };
  assert.deepEqual(ipRouteAddArgs("zt0", r), [
    "-4",
    "route",
    "replace",
    "198.19.9.0/24",
    "via",
    "198.19.0.1",
    "dev",
    "zt0",
    "src",
    "198.19.0.5",
  ]);
  assert.deepEqual(ipRouteDelArgs("zt0", { target: A("fd00:2::/64") }), [
    "-6",
    "route",
    "del",
    "fd00:2::/64",
    "dev",
    "zt0",
  ]);
});

Deno.test("managed: ManagedRoutes applies diffs in order and keeps only what succeeded", async () => {
  const log: string[] = [];
  let failOn = "";
  const run: IpRunner = (args) => {
    const line = args.join(" ");
    log.push(line);
    return Promise.resolve(
      failOn && line.includes(failOn)
        ? { code: 2, stderr: "RTNETLINK answers: boom" }
        : { code: 0, stderr: "" },
    );
  };
  const m = new ManagedRoutes("ztx", run);
  const assigned = [A("198.19.0.5/24"), A("fd00:1::5/64")];
  const routes = [R("198.19.9.0/24", "198.19.0.1"), R("198.19.8.0/24")];
  const r1 = await m.sync(assigned, routes, POLICY);
  assert.deepEqual(r1.failed, []);
  assert.deepEqual(log, [
    "addr add 198.19.0.5/24 dev ztx",
    "addr add fd00:1::5/64 dev ztx nodad",
    "-4 route replace 198.19.8.0/24 dev ztx src 198.19.0.5", // on-link first
    "-4 route replace 198.19.9.0/24 via 198.19.0.1 dev ztx src 198.19.0.5",
  ]);
  log.length = 0;
  // Same config again: nothing to do.
  assert.deepEqual((await m.sync(assigned, routes, POLICY)).ran, []);
  // New address for v4: the routes using the old source go first, then the address swap.
  const r3 = await m.sync([A("198.19.0.6/24"), A("fd00:1::5/64")], routes, POLICY);
  assert.deepEqual(r3.failed, []);
  assert.deepEqual(log, [
    "-4 route del 198.19.8.0/24 dev ztx",
    "-4 route del 198.19.9.0/24 via 198.19.0.1 dev ztx",
    "addr del 198.19.0.5/24 dev ztx",
    "addr add 198.19.0.6/24 dev ztx",
    "-4 route replace 198.19.8.0/24 dev ztx src 198.19.0.6",
    "-4 route replace 198.19.9.0/24 via 198.19.0.1 dev ztx src 198.19.0.6",
  ]);
  log.length = 0;
  // A failing add is reported and not recorded, so the next sync retries it.
  failOn = "198.19.7.0/24";
  const r4 = await m.sync(
    [A("198.19.0.6/24"), A("fd00:1::5/64")],
    [...routes, R("198.19.7.0/24")],
    POLICY,
  );
  assert.equal(r4.failed.length, 1);
  assert.match(r4.failed[0].error, /boom/);
  assert.equal(m.routes.length, 2);
  failOn = "";
  log.length = 0;
  await m.sync([A("198.19.0.6/24"), A("fd00:1::5/64")], [...routes, R("198.19.7.0/24")], POLICY);
  assert.deepEqual(log, ["-4 route replace 198.19.7.0/24 dev ztx src 198.19.0.6"]);
  // allowManaged off removes everything zt added.
  log.length = 0;
  await m.sync([A("198.19.0.6/24"), A("fd00:1::5/64")], routes, { ...POLICY, allowManaged: false });
  assert.equal(log.filter((l) => l.includes(" del ")).length, 5);
  assert.deepEqual(m.addresses, []);
  assert.deepEqual(m.routes, []);
  // A runner that throws is reported, not thrown.
  const bad = new ManagedRoutes("zty", () => Promise.reject(new Error("no ip binary")));
  const r5 = await bad.setAddresses([A("198.19.0.1/24")]);
  assert.equal(r5.failed[0].error, "no ip binary");
  assert.deepEqual(bad.addresses, []);
});
