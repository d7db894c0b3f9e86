// VL2 netns lab for e2e tests: a root, a controller node and member nodes on one bridge, a network made over the controller API, join/ping helpers.
//
// Underlay 198.18.0.0/24 (root .1, controller .2, members .11+). The overlay network uses the
// IPv4 pool 198.19.0.0/24 (route 198.19.0.0/24) plus rfc4193 (fd..) and 6plane (fc..) IPv6.
import assert from "node:assert/strict";
import { exec, type ExecResult, type Lab, waitFor, withLab } from "./netns.ts";
import {
  CLI,
  describeAll,
  explainFailure,
  generateIdentities,
  type LabIdentity,
  makeLabPlanet,
  pathAddress,
  ROOT_IP,
  startNode,
  ZT_PORT,
  type ZtNode,
} from "./zt_lab.ts";

/** The controller node's underlay address. */
export const CONTROLLER_IP = "198.18.0.2";
/** The overlay IPv4 subnet. */
export const OVERLAY_V4 = "198.19.0.0/24";
/** Its broadcast address. */
export const OVERLAY_V4_BROADCAST = "198.19.0.255";
/** Member roles and their underlay addresses. */
export const MEMBER_IPS: Record<string, string> = {
  a: "198.18.0.11",
  b: "198.18.0.12",
  c: "198.18.0.13",
  d: "198.18.0.14",
};
/** Bound on a node coming ONLINE. */
export const ONLINE_MS = 25_000;

/** Identities (root, controller, a, b, c, d) and the lab planet. */
export interface Vl2World {
  /** Identity by role: "root", "ctl", "a".."d". */
  ids: Record<string, LabIdentity>;
  /** A planet whose only root is ids.root at ROOT_IP/9993. */
  planet: Uint8Array;
}

let world: Promise<Vl2World> | undefined;

/** Generates (once per process) the six identities and the lab planet. */
export function vl2World(): Promise<Vl2World> {
  world ??= (async () => {
    const dir = Deno.makeTempDirSync({ prefix: "zt-e2e-vl2-ids-" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // gone
      }
    });
    const roles = ["root", "ctl", "a", "b", "c", "d"];
    const list = await generateIdentities(dir, roles.length);
    const ids = Object.fromEntries(roles.map((r, i) => [r, list[i]]));
    const planet = await makeLabPlanet(dir, ids.root, pathAddress(ROOT_IP));
    return { ids, planet };
  })();
  return world;
}

/** A running VL2 lab. */
export interface Vl2Lab {
  /** The lab. */
  lab: Lab;
  /** The root. */
  root: ZtNode;
  /** The controller node (`zt run` with its embedded controller). */
  ctl: ZtNode;
  /** Members by role. */
  members: Record<string, ZtNode>;
  /** All nodes (for failure logs). */
  all: ZtNode[];
}

/**
 * A root validates at most one new identity per source /24 every 2 s (leaves retry their HELLO
 * every 5 s), so lab nodes, all in one /24, are started this far apart.
 */
const START_SPACING_MS = 2_200;

/**
 * Builds hosts, starts the root, then the controller and the members `roles` (all `zt run`)
 * {@link START_SPACING_MS} apart, and waits until all are online.
 */
export async function startVl2Lab(lab: Lab, roles: string[]): Promise<Vl2Lab> {
  const w = await vl2World();
  const r = await lab.addHost("r", ROOT_IP);
  const c = await lab.addHost("ctl", CONTROLLER_IP);
  const hosts = await Promise.all(roles.map((role) => lab.addHost(role, MEMBER_IPS[role])));
  const root = startNode(lab, { name: "root", ns: r.ns, id: w.ids.root, planet: w.planet });
  const all = [root];
  const members: Record<string, ZtNode> = {};
  try {
    await root.waitOnline(15_000);
    const ctl = startNode(lab, { name: "ctl", ns: c.ns, id: w.ids.ctl, planet: w.planet });
    all.push(ctl);
    for (const [i, role] of roles.entries()) {
      await new Promise((res) => setTimeout(res, START_SPACING_MS));
      const n = startNode(lab, { name: role, ns: hosts[i].ns, id: w.ids[role], planet: w.planet });
      members[role] = n;
      all.push(n);
    }
    await Promise.all(all.map((n) => n.waitOnline(ONLINE_MS)));
    return { lab, root, ctl, members, all };
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : e}\n${describeAll(all)}`);
  }
}

/** One HTTP call to a node's local API (inside its namespace); status and parsed body. */
export async function apiCall(
  node: ZtNode,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const args = [
    "curl",
    "-sS",
    "--max-time",
    "3",
    "-X",
    method,
    "-H",
    `X-ZT1-Auth: ${node.token}`,
    "-w",
    "\n%{http_code}",
  ];
  if (body !== undefined) {
    args.push("-H", "Content-Type: application/json", "-d", JSON.stringify(body));
  }
  args.push(`http://127.0.0.1:${ZT_PORT}${path}`);
  const r = await exec(node.ns, args, { check: false, timeoutMs: 5000 });
  if (r.code !== 0) throw new Error(`${method} ${path} on ${node.name}: ${r.stderr.trim()}`);
  const nl = r.stdout.lastIndexOf("\n");
  const status = Number(r.stdout.slice(nl + 1));
  const text = r.stdout.slice(0, nl);
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status, json };
}

/** Like {@link apiCall} but throws unless the status is 200; returns the body. */
export async function api200(
  node: ZtNode,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const r = await apiCall(node, method, path, body);
  if (r.status !== 200) {
    throw new Error(
      `${method} ${path} on ${node.name}: HTTP ${r.status} ${JSON.stringify(r.json)}`,
    );
  }
  return r.json as Record<string, unknown>;
}

/** The network body the tests create: private, v4 pool in 198.19.0.0/24, rfc4193 and 6plane. */
export const NETWORK_BODY = {
  name: "e2e-net",
  private: true,
  enableBroadcast: true,
  v4AssignMode: { zt: true },
  v6AssignMode: { zt: false, rfc4193: true, "6plane": true },
  ipAssignmentPools: [{ ipRangeStart: "198.19.0.10", ipRangeEnd: "198.19.0.250" }],
  routes: [{ target: OVERLAY_V4, via: null }],
};

/** Creates the test network on the controller; returns its 16-hex-digit ID. */
export async function createNetwork(ctl: ZtNode): Promise<string> {
  const n = await api200(ctl, "POST", `/controller/network/${ctl.address}______`, NETWORK_BODY);
  const id = n.id as string;
  if (!/^[0-9a-f]{16}$/.test(id)) throw new Error(`unexpected network id ${id}`);
  return id;
}

/** Sets a member's authorization over the controller API. */
export async function authorize(
  ctl: ZtNode,
  nwid: string,
  member: ZtNode,
  authorized: boolean,
): Promise<void> {
  const m = await api200(ctl, "POST", `/controller/network/${nwid}/member/${member.address}`, {
    authorized,
  });
  if (m.authorized !== authorized) throw new Error(`member ${member.address} not updated`);
}

/** Renames the network (a config change every member gets pushed). */
export async function renameNetwork(ctl: ZtNode, nwid: string, name: string): Promise<void> {
  const n = await api200(ctl, "POST", `/controller/network/${nwid}`, { name });
  if (n.name !== name) throw new Error("rename failed");
}

/** `zt <args>` run inside `node`'s namespace against its service (`-D <home>`). */
export async function ztIn(node: ZtNode, args: string[], timeoutMs = 20_000): Promise<ExecResult> {
  const [cmd, ...rest] = args;
  return await exec(node.ns, [Deno.execPath(), "run", "-A", CLI, cmd, "-D", node.home, ...rest], {
    check: false,
    timeoutMs,
    env: { NO_COLOR: "1" },
  });
}

/** GET /network/<nwid> of `node`, or undefined if not joined (404). */
export async function networkOf(
  node: ZtNode,
  nwid: string,
): Promise<Record<string, unknown> | undefined> {
  const r = await apiCall(node, "GET", `/network/${nwid}`);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`GET /network/${nwid} on ${node.name}: HTTP ${r.status}`);
  return r.json as Record<string, unknown>;
}

/** Waits until `node`'s network status is `status`; returns the /network answer. */
export async function waitStatus(
  node: ZtNode,
  nwid: string,
  status: string,
  timeoutMs: number,
  also: (n: Record<string, unknown>) => boolean = () => true,
): Promise<Record<string, unknown>> {
  let last: unknown;
  return await waitFor(`${node.name}: network ${nwid} ${status}`, timeoutMs, async () => {
    const n = await networkOf(node, nwid);
    last = n?.status;
    return n && n.status === status && also(n) ? n : undefined;
  }, { intervalMs: 200, detail: () => `last status ${String(last)}\n${node.describe()}` });
}

/** The overlay addresses of a member from its /network answer. */
export interface OverlayIps {
  /** From the IPv4 pool. */
  v4: string;
  /** rfc4193 (fd..). */
  rfc4193: string;
  /** 6plane (fc..). */
  sixPlane: string;
}

/** Splits `assignedAddresses` into the pool IPv4, the rfc4193 and the 6plane address. */
export function overlayIps(n: Record<string, unknown>): OverlayIps {
  const list = (n.assignedAddresses as string[]).map((a) => a.split("/")[0]);
  const v4 = list.find((a) => a.startsWith("198.19.0."));
  const rfc = list.find((a) => a.toLowerCase().startsWith("fd"));
  const six = list.find((a) => a.toLowerCase().startsWith("fc"));
  if (!v4 || !rfc || !six) throw new Error(`missing addresses in ${JSON.stringify(list)}`);
  return { v4, rfc4193: rfc, sixPlane: six };
}

/** One ping (`-c 1`, 1 s) from `node` to `ip` (IPv6 if it has a colon); true if answered. */
export async function pingOnce(node: ZtNode, ip: string, extra: string[] = []): Promise<boolean> {
  const args = [
    "ping",
    ...(ip.includes(":") ? ["-6"] : []),
    "-n",
    "-c",
    "1",
    "-W",
    "1",
    ...extra,
    ip,
  ];
  const r = await exec(node.ns, args, { check: false, timeoutMs: 5000 });
  return r.code === 0;
}

/** Pings until answered (bounded); returns ms until the first answer. */
export async function pingUntil(
  node: ZtNode,
  ip: string,
  timeoutMs: number,
  nodes: ZtNode[] = [node],
): Promise<number> {
  const t0 = Date.now();
  await waitFor(`${node.name} ping ${ip}`, timeoutMs, () => pingOnce(node, ip), {
    intervalMs: 0,
    detail: async () => {
      const r = await exec(node.ns, ["ip", "-d", "addr"], { check: false });
      return `${r.stdout}\n${describeAll(nodes)}`;
    },
  });
  return Date.now() - t0;
}

/** Whether interface `dev` exists in `node`'s namespace. */
export async function linkExists(node: ZtNode, dev: string): Promise<boolean> {
  const r = await exec(node.ns, ["ip", "link", "show", "dev", dev], { check: false });
  return r.code === 0;
}

/** What {@link vl2LabTest} runs: its name, skip reason, member roles and the label it logs. */
export interface Vl2LabTestOptions {
  /** The Deno.test name. */
  name: string;
  /** Why the file is skipped (from `announceSkip`), undefined to run. */
  skip: string | undefined;
  /** Member roles to start (see {@link startVl2Lab}). */
  roles: string[];
  /** Logged as "<label> took N ms". */
  label: string;
}

/**
 * A Deno.test that starts a VL2 lab with `roles`, runs `body` (node logs printed on failure),
 * tears the lab down, then logs the time taken and asserts it stayed under 90 s.
 * `started` is the test's start time (Date.now()).
 */
export function vl2LabTest(
  o: Vl2LabTestOptions,
  body: (v: Vl2Lab, started: number) => Promise<void>,
): void {
  Deno.test({
    name: o.name,
    ignore: o.skip !== undefined,
    fn: async () => {
      const started = Date.now();
      await withLab(async (lab) => {
        const v = await startVl2Lab(lab, o.roles);
        await explainFailure(v.all, () => body(v, started));
      });
      const took = Date.now() - started;
      console.log(`${o.label} took ${took} ms`);
      assert.ok(took < 90_000, `bounded: ${took} ms`);
    },
  });
}
