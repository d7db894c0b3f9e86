// `zt controller`: serve (the node service with its embedded controller) and small admin commands over the local API.
import { Command } from "commander";
import { resolveHomeDir } from "../service/home.ts";
import { runService } from "./run.ts";

/** Where and how to reach the local API. */
export interface ApiTarget {
  /** API port on 127.0.0.1. */
  port: number;
  /** authtoken.secret. */
  token: string;
}

/** What an admin command produced: text for stdout, or an error message (exit status 1). */
export type AdminResult = { ok: true; out: string } | { ok: false; error: string };

/** Options shared by the admin commands. */
interface TargetOptions {
  home?: string;
  port?: string;
  token?: string;
  json?: boolean;
}

/** Reads port (`zerotier-one.port`) and token (`authtoken.secret`) from the home, unless given. */
export function resolveTarget(o: TargetOptions): ApiTarget | string {
  const home = resolveHomeDir({
    arg: o.home,
    env: (n) => Deno.env.get(n),
    isRoot: Deno.uid() === 0,
  });
  const read = (f: string): string | undefined => {
    if (!home) return undefined;
    try {
      return Deno.readTextFileSync(`${home}/${f}`).trim();
    } catch {
      return undefined;
    }
  };
  const portText = o.port ?? read("zerotier-one.port");
  if (portText === undefined) {
    return `no API port: is the service running? (give -p <port> or --home <dir>)`;
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) return `bad port "${portText}"`;
  const token = o.token ?? read("authtoken.secret");
  if (token === undefined) return `no auth token: give -T <token> or --home <dir>`;
  return { port: Number(portText), token };
}

/** One local API call; parsed JSON, or an error message. */
async function call(
  t: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ ok: true; json: unknown } | { ok: false; error: string }> {
  let r: Response;
  try {
    r = await fetch(`http://127.0.0.1:${t.port}${path}`, {
      method,
      headers: { "X-ZT1-Auth": t.token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return {
      ok: false,
      error: `cannot reach the local API on 127.0.0.1:${t.port} (${
        e instanceof Error ? e.message : e
      })`,
    };
  }
  const text = await r.text();
  if (r.status === 401) return { ok: false, error: "the local API refused the auth token (401)" };
  if (r.status === 404) return { ok: false, error: `not found: ${path}` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: `bad answer from the local API (${r.status})` };
  }
  if (r.status !== 200) {
    const d = (json as { description?: string }).description;
    return { ok: false, error: `${r.status}: ${d ?? text}` };
  }
  return { ok: true, json };
}

const HEX16 = /^[0-9a-fA-F]{16}$/;
const HEX10 = /^[0-9a-fA-F]{10}$/;

/** `network list`: one network ID per line (or the JSON array). */
export async function networkList(t: ApiTarget, json = false): Promise<AdminResult> {
  const r = await call(t, "GET", "/controller/network");
  if (!r.ok) return r;
  const ids = r.json as string[];
  return { ok: true, out: json ? JSON.stringify(ids, null, 2) : ids.join("\n") };
}

/** `network create [--name n]`: creates a network with a fresh ID and prints the ID. */
export async function networkCreate(
  t: ApiTarget,
  body: Record<string, unknown>,
  json = false,
): Promise<AdminResult> {
  const r = await call(t, "POST", "/controller/network", body);
  if (!r.ok) return r;
  const n = r.json as { id: string };
  return { ok: true, out: json ? JSON.stringify(n, null, 2) : n.id };
}

/** `network show <nwid>`: the network object, pretty-printed. */
export async function networkShow(t: ApiTarget, nwid: string): Promise<AdminResult> {
  if (!HEX16.test(nwid)) return { ok: false, error: `bad network ID "${nwid}" (16 hex digits)` };
  const r = await call(t, "GET", `/controller/network/${nwid}`);
  return r.ok ? { ok: true, out: JSON.stringify(r.json, null, 2) } : r;
}

/** `member list <nwid>`: `<address> <authorized|unauthorized> <ip,...>` per member. */
export async function memberList(t: ApiTarget, nwid: string, json = false): Promise<AdminResult> {
  if (!HEX16.test(nwid)) return { ok: false, error: `bad network ID "${nwid}" (16 hex digits)` };
  const r = await call(t, "GET", `/unstable/controller/network/${nwid}/member`);
  if (!r.ok) return r;
  const ms = (r.json as { data: Record<string, unknown>[] }).data;
  if (json) return { ok: true, out: JSON.stringify(ms, null, 2) };
  const lines = ms.map((m) => {
    const ips = Array.isArray(m.ipAssignments) ? m.ipAssignments.join(",") : "";
    return `${m.id} ${m.authorized === true ? "authorized" : "unauthorized"} ${ips || "-"}`;
  });
  return { ok: true, out: lines.join("\n") };
}

/** `member authorize|deauthorize <nwid> <address>`. */
export async function memberSetAuthorized(
  t: ApiTarget,
  nwid: string,
  address: string,
  authorized: boolean,
): Promise<AdminResult> {
  if (!HEX16.test(nwid)) return { ok: false, error: `bad network ID "${nwid}" (16 hex digits)` };
  if (!HEX10.test(address)) return { ok: false, error: `bad address "${address}" (10 hex digits)` };
  const r = await call(t, "POST", `/controller/network/${nwid}/member/${address}`, { authorized });
  if (!r.ok) return r;
  return {
    ok: true,
    out: `${address.toLowerCase()} ${authorized ? "authorized" : "deauthorized"} on ${nwid}`,
  };
}

/** Prints the result and sets the exit status. */
function finish(r: AdminResult): void {
  if (r.ok) {
    if (r.out !== "") console.log(r.out);
  } else {
    console.error(`zt: ${r.error}`);
    Deno.exit(1);
  }
}

/** Runs `fn` against the target from the command's options. */
async function withTarget(
  o: TargetOptions,
  fn: (t: ApiTarget) => Promise<AdminResult>,
): Promise<void> {
  const t = resolveTarget(o);
  finish(typeof t === "string" ? { ok: false, error: t } : await fn(t));
}

/** Adds --home/-p/-T/-j to an admin command. */
function targetOptions(c: Command): Command {
  return c
    .option("--home <dir>", "home directory of the running service (port and token from it)")
    .option("-p, --port <port>", "local API port")
    .option("-T, --token <token>", "local API auth token")
    .option("-j, --json", "print JSON");
}

/** The `zt controller` command tree. */
export function controllerCommand(): Command {
  const cmd = new Command("controller").description(
    "network controller: serve, and manage networks/members through the local API",
  );
  cmd.command("serve")
    .description("run the node service with its embedded network controller (same as zt run)")
    .argument("[home]", "home directory (default $ZT_HOME, $ZEROTIER_HOME, or per user)")
    .option("-p, --port <port>", "primary UDP/API port (0 = random 20000-65499)")
    .option("-U", "skip the privilege check")
    .option("-d, --daemon", "run in the background (prints the pid)")
    .option("--log-level <level>", "debug, info, warn or error (or set ZT_LOG)")
    .action(async (home: string | undefined, o: Parameters<typeof runService>[1]) => {
      await runService(home, o);
    });

  const net = cmd.command("network").description("controller networks");
  targetOptions(net.command("list").description("list network IDs"))
    .action((o: TargetOptions) => withTarget(o, (t) => networkList(t, o.json)));
  targetOptions(
    net.command("create").description("create a network with a fresh ID; prints the ID"),
  )
    .option("--name <name>", "network name")
    .option("--public", "no authorization needed")
    .action((o: TargetOptions & { name?: string; public?: boolean }) =>
      withTarget(o, (t) =>
        networkCreate(t, {
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(o.public ? { private: false } : {}),
        }, o.json))
    );
  targetOptions(net.command("show").description("show a network").argument("<nwid>"))
    .action((nwid: string, o: TargetOptions) => withTarget(o, (t) => networkShow(t, nwid)));

  const mem = cmd.command("member").description("network members");
  targetOptions(mem.command("list").description("list members").argument("<nwid>"))
    .action((nwid: string, o: TargetOptions) => withTarget(o, (t) => memberList(t, nwid, o.json)));
  for (const [name, auth] of [["authorize", true], ["deauthorize", false]] as const) {
    targetOptions(
      mem.command(name).description(`${name} a member`).argument("<nwid>").argument("<address>"),
    ).action((nwid: string, address: string, o: TargetOptions) =>
      withTarget(o, (t) => memberSetAuthorized(t, nwid, address, auth))
    );
  }
  return cmd;
}
