// `zt controller`: serve, and manage the embedded controller's networks and members through the local API.
import { Command } from "commander";
import {
  apiRequest,
  type ApiResponse,
  type ApiTarget,
  CliError,
  resolveTarget,
  type TargetEnv,
} from "./api_client.ts";
import { addHomeOption, addTargetOptions, mergedOptions, stringOption } from "./cli_options.ts";
import { formatJson } from "./cli_format.ts";
import { parseJson64 } from "../util/json64.ts";
import {
  formatMember,
  formatMemberList,
  formatNetwork,
  formatNetworkList,
  isObj,
  memberWithStatus,
  type Obj,
  parseLiveStatus,
} from "./controller_format.ts";
import {
  type Body,
  keyList,
  MEMBER_FIELDS,
  NETWORK_FIELDS,
  networkBody,
  parseAssignments,
  type Parsed,
} from "./controller_fields.ts";
import { apiCallFor, setDnsNames } from "./dns_names.ts";
import { normalizeDomain } from "../controller/dns_zone.ts";
import { compileRulesFile, denoRulesIo, type RulesIo } from "./rules.ts";
import { addRunOptions, type RunOptions, runService } from "./run.ts";
import { addTransferCommands } from "./controller_transfer.ts";
import { type CliIo, systemIo } from "./zerotier_cli.ts";

/** The admin operations, as `<object> <verb>`. */
export type ControllerOp =
  | "network list"
  | "network create"
  | "network show"
  | "network set"
  | "network delete"
  | "member list"
  | "member show"
  | "member set"
  | "member authorize"
  | "member deauthorize"
  | "member delete";

/** Outside world of the admin commands (injectable for tests). */
export interface ControllerIo extends CliIo {
  /** Reads rules files (`--rules`). */
  readText: RulesIo["readText"];
}

/** Options of the admin commands, after merging the command tree's (see `mergedOptions`). */
export type ControllerOptions = Record<string, unknown>;

const HEX16 = /^[0-9a-fA-F]{16}$/;
const HEX10 = /^[0-9a-fA-F]{10}$/;

/** A problem with the arguments or an answer of the API: printed as `zt: <message>`, exit 1. */
class AdminError extends Error {}

/** Parses an API body as JSON (undefined if it is not JSON). */
function parseJson(text: string): unknown {
  try {
    return parseJson64(text); // 64-bit integers stay exact
  } catch {
    return undefined;
  }
}

/** The message for an API answer that is not 200 (`notFound` for 404). */
function answerError(r: ApiResponse, notFound: string): AdminError {
  if (r.status === 401) {
    return new AdminError(
      "the service refused the auth token (give -T <token>, or -D <home> of the running service)",
    );
  }
  if (r.status === 404) return new AdminError(notFound);
  const j = parseJson(r.body);
  const d = isObj(j) && typeof j.description === "string" ? j.description : r.body.trim();
  if (r.status === 400) return new AdminError(`the controller refused the change: ${d}`);
  return new AdminError(`the service answered ${r.status}: ${d}`);
}

/** One request; the parsed JSON of a 200 answer, else an {@link AdminError}. */
async function call(
  t: ApiTarget,
  method: "GET" | "POST" | "DELETE",
  path: string,
  notFound: string,
  body?: unknown,
): Promise<unknown> {
  const r = await apiRequest(t, method, path, body);
  if (r.status !== 200) throw answerError(r, notFound);
  const j = parseJson(r.body);
  if (j === undefined) throw new AdminError(`the service answered ${path} with something not JSON`);
  return j;
}

/** A checked network ID (lower case). */
function nwidArg(s: string | undefined): string {
  if (s === undefined || !HEX16.test(s)) {
    throw new AdminError(`invalid network ID "${s ?? ""}" (expected 16 hex digits)`);
  }
  return s.toLowerCase();
}

/** A checked member address (lower case). */
function addressArg(s: string | undefined): string {
  if (s === undefined || !HEX10.test(s)) {
    throw new AdminError(`invalid member address "${s ?? ""}" (expected 10 hex digits)`);
  }
  return s.toLowerCase();
}

/** The value of a {@link Parsed}, or an {@link AdminError} with its message. */
function must<T>(p: Parsed<T>): T {
  if (!p.ok) throw new AdminError(p.error);
  return p.value;
}

/** Repeatable-option values, or `false` for the `--no-` form. */
function listOpt(o: ControllerOptions, key: string): string[] | false | undefined {
  const v = o[key];
  return v === false ? false : Array.isArray(v) ? v.map(String) : undefined;
}

/**
 * The network POST body of `network set`/`create`: KEY=VALUE settings, `--pool`, `--route`,
 * `--dns` (and their `--no-` forms) and `--rules FILE` compiled here (so includes resolve
 * relative to the file). Any error throws before a request is made.
 */
function networkChanges(args: string[], o: ControllerOptions, io: ControllerIo): Body {
  const pool = listOpt(o, "pool");
  const route = listOpt(o, "route");
  const dns = listOpt(o, "dns");
  const body = must(networkBody(args, {
    pool: pool === false ? undefined : pool,
    pools: pool === false ? false : undefined,
    route: route === false ? undefined : route,
    routes: route === false ? false : undefined,
    dns: dns === false ? undefined : dns,
    noDns: dns === false,
  }));
  const rules = stringOption(o, "rules");
  if (rules !== undefined) {
    const r = compileRulesFile(io, rules);
    if (!r.ok) throw new AdminError(`--rules: ${r.error}`);
    body.rulesSource = r.source;
    body.rules = r.compiled.rules;
    body.capabilities = r.compiled.capabilities.map((c) => ({
      id: c.id,
      default: c.default,
      rules: c.rules,
    }));
    body.tags = r.compiled.tags.map((t) => ({ id: t.id, default: t.default }));
  }
  return body;
}

/** The live status of a network's members (empty when the service does not offer it). */
async function liveStatus(t: ApiTarget, nwid: string) {
  const r = await apiRequest(t, "GET", `/unstable/controller/network/${nwid}/member-status`);
  return parseLiveStatus(r.status === 200 ? parseJson(r.body) : undefined);
}

const NO_CONTROLLER =
  "this service has no controller API (is it a zt node with the controller on?)";

/** Not-found text of a network. */
function noNetwork(nwid: string): string {
  return `network ${nwid} not found on this controller (see zt controller network list)`;
}

/** Runs one admin operation; returns the text to print. @throws AdminError, CliError. */
async function runOp(
  op: ControllerOp,
  args: string[],
  o: ControllerOptions,
  io: ControllerIo,
  env: TargetEnv | undefined,
): Promise<string> {
  const json = o.json === true;
  // everything about the arguments is checked before the first request
  const nwid = op === "network list" || op === "network create" ? "" : nwidArg(args[0]);
  const address = op.startsWith("member ") && op !== "member list" ? addressArg(args[1]) : "";
  let body: Body | undefined;
  const dnsNames = op === "network set" ? stringOption(o, "dnsNames") : undefined;
  if (op === "network create" || op === "network set") {
    const settings = op === "network create" ? [...args] : args.slice(1);
    const name = stringOption(o, "name");
    if (name !== undefined) settings.unshift(`name=${name}`);
    if (o.public === true) settings.unshift("private=false");
    body = networkChanges(settings, o, io);
    if (dnsNames !== undefined) {
      if (o.dns !== undefined) throw new AdminError("give --dns or --dns-names, not both");
      if (normalizeDomain(dnsNames) === undefined) {
        throw new AdminError(
          `--dns-names: "${dnsNames}" is not a DNS domain (e.g. zt.example.com)`,
        );
      }
    }
    if (op === "network set" && Object.keys(body).length === 0 && dnsNames === undefined) {
      throw new AdminError(
        `nothing to set: give KEY=VALUE (keys: ${
          keyList(NETWORK_FIELDS)
        }), --pool, --route, --dns, --dns-names or --rules`,
      );
    }
  } else if (op === "member set") {
    body = must(parseAssignments(args.slice(2), MEMBER_FIELDS));
    if (Object.keys(body).length === 0) {
      throw new AdminError(`nothing to set: give KEY=VALUE (keys: ${keyList(MEMBER_FIELDS)})`);
    }
  }

  const t = resolveTarget({
    home: stringOption(o, "home"),
    port: stringOption(o, "port"),
    token: stringOption(o, "token"),
    host: stringOption(o, "host"),
  }, env);
  const netPath = `/controller/network/${nwid}`;
  const memPath = `${netPath}/member/${address}`;
  const noMember = `${address} is not a member of ${nwid} (it has not asked to join, nor been set)`;

  switch (op) {
    case "network list": {
      const j = await call(t, "GET", "/unstable/controller/network", NO_CONTROLLER);
      const data = isObj(j) && Array.isArray(j.data) ? j.data.filter(isObj) : [];
      return json ? formatJson(data) : formatNetworkList(data);
    }
    case "network create": {
      const n = await call(t, "POST", "/controller/network", NO_CONTROLLER, body) as Obj;
      return json ? formatJson(n) : `${n.id}\n`;
    }
    case "network show": {
      const n = await call(t, "GET", netPath, noNetwork(nwid)) as Obj;
      if (json) return formatJson(n);
      const ms = await call(t, "GET", `/unstable${netPath}/member`, noNetwork(nwid));
      const meta = isObj(ms) && isObj(ms.meta) ? ms.meta : {};
      return formatNetwork(n, {
        authorized: Number(meta.authorizedCount ?? 0),
        total: Number(meta.totalCount ?? 0),
      });
    }
    case "network set": {
      // POST would create a network that does not exist: a typo must not do that
      const current = await call(t, "GET", netPath, noNetwork(nwid));
      let n: Obj | undefined;
      if (body && Object.keys(body).length > 0) {
        // The controller replaces an object field (an assign mode) with just the keys posted, as
        // the reference does: a dotted key changes one key, so the others are sent as they are.
        const merged: Obj = { ...(body as Obj) };
        if (isObj(current)) {
          for (const [k, v] of Object.entries(merged)) {
            const was = current[k];
            if (isObj(v) && isObj(was)) merged[k] = { ...was, ...v };
          }
        }
        n = await call(t, "POST", netPath, noNetwork(nwid), merged) as Obj;
      }
      if (dnsNames !== undefined) {
        // domain + the controller node's own overlay addresses as dns.servers, in one POST
        const r = await setDnsNames(apiCallFor(t), nwid, dnsNames);
        if (!r.ok) throw new AdminError(`--dns-names: ${r.error}`);
        n = r.network;
      }
      return json ? formatJson(n!) : formatNetwork(n!);
    }
    case "network delete": {
      const n = await call(t, "DELETE", netPath, noNetwork(nwid));
      return json ? formatJson(n) : `deleted network ${nwid}\n`;
    }
    case "member list": {
      const j = await call(t, "GET", `/unstable${netPath}/member`, noNetwork(nwid));
      const live = await liveStatus(t, nwid);
      const ms = (isObj(j) && Array.isArray(j.data) ? j.data.filter(isObj) : [])
        .map((m) => memberWithStatus(m, live.members.get(String(m.id))))
        .sort((a, b) => String(a.id).localeCompare(String(b.id)));
      return json ? formatJson(ms) : formatMemberList(ms, live.clock);
    }
    case "member show": {
      const m = await call(t, "GET", memPath, noMember) as Obj;
      const live = await liveStatus(t, nwid);
      const merged = memberWithStatus(m, live.members.get(address));
      return json ? formatJson(merged) : formatMember(merged, live.clock);
    }
    case "member set":
    case "member authorize":
    case "member deauthorize": {
      const b = op === "member set" ? body : { authorized: op === "member authorize" };
      const m = await call(t, "POST", memPath, noNetwork(nwid), b) as Obj;
      const live = await liveStatus(t, nwid);
      const merged = memberWithStatus(m, live.members.get(address));
      if (json) return formatJson(merged);
      if (op === "member set") return formatMember(merged, live.clock);
      return `${address} ${op === "member authorize" ? "authorized" : "deauthorized"} on ${nwid}\n`;
    }
    case "member delete": {
      const m = await call(t, "DELETE", memPath, noMember);
      return json ? formatJson(m) : `deleted member ${address} of ${nwid}\n`;
    }
  }
}

/**
 * Runs one `zt controller network|member` operation with `args` (the positional arguments) and
 * options `o`; prints the result or `zt: <error>` and returns the exit status (0 or 1).
 */
export async function runControllerCommand(
  op: ControllerOp,
  args: string[],
  o: ControllerOptions,
  io: ControllerIo,
  env?: TargetEnv,
): Promise<number> {
  try {
    io.out(await runOp(op, args, o, io, env));
    return 0;
  } catch (e) {
    if (e instanceof AdminError || e instanceof CliError) {
      io.err(`zt: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Collects a repeatable option's values. */
const collect = (v: string, prev: unknown) => [...(Array.isArray(prev) ? prev : []), v];

/** Help epilogue of `network set`/`create`. */
const NETWORK_SET_HELP = `
Settings (the controller API's field names; dotted for nested objects):
${
  Object.entries(NETWORK_FIELDS).map(([k, f]) => `  ${k.padEnd(22)} ${f.help} (${f.kind})`).join(
    "\n",
  )
}

Lists (each replaces the whole list; the --no- form empties it):
  --pool START-END       IP assignment pool (repeatable)
  --route TARGET[,VIA]   managed route (repeatable)
  --dns DOMAIN SERVER... search domain and servers (put it after the KEY=VALUE settings)
  --rules FILE           rules source, compiled here; errors as FILE:LINE:COL, nothing changed
  --dns-names DOMAIN     (set only) DNS domain + this controller node's own overlay addresses as
                         the servers: it then answers <member name>.DOMAIN for the members

Example:
  zt controller network set 8056c2e21c000001 name=lab v4AssignMode.zt=true \\
     --pool 10.147.17.1-10.147.17.254 --route 10.147.17.0/24`;

/** Adds the network setting switches. */
function networkSetOptions(c: Command): Command {
  return c
    .option("--pool <start-end>", "IP assignment pool (repeatable)", collect)
    .option("--no-pool", "remove all pools")
    .option("--route <target[,via]>", "managed route (repeatable)", collect)
    .option("--no-route", "remove all routes")
    .option("--dns <domain-and-servers...>", "DNS search domain, then server addresses")
    .option("--no-dns", "remove the DNS settings")
    .option("--rules <file>", "rules source file (compiled locally)")
    .addHelpText("after", NETWORK_SET_HELP);
}

/** The `zt controller` command tree; `io` for tests. */
export function controllerCommand(io: ControllerIo = controllerIo()): Command {
  const cmd = addTargetOptions(
    new Command("controller").description(
      "network controller: serve, and manage networks and members through the local API",
    ),
  ).enablePositionalOptions();
  // the same options as `zt run` (--log-file and --planet-fallback included)
  addRunOptions(addHomeOption(
    cmd.command("serve")
      .description("run the node service with its embedded network controller (same as zt run)")
      .argument("[home]", "home directory (default $ZT_HOME, $ZEROTIER_HOME, or per user)"),
  ))
    .option(
      "--db <path|url>",
      "controller database: a directory, postgres:<key=value ...> or postgres://... " +
        "(over settings.controllerDbPath)",
    )
    .action(async (home: string | undefined, _o: unknown, c: Command) => {
      await runService(home, mergedOptions(c) as RunOptions);
    });

  addTransferCommands(cmd, io);

  const leaf = (parent: Command, name: string, description: string) =>
    addTargetOptions(parent.command(name).description(description));
  const run = async (op: ControllerOp, args: string[], c: Command) => {
    const code = await runControllerCommand(op, args, mergedOptions(c), io);
    if (code !== 0) io.exit(code);
  };

  const net = addTargetOptions(cmd.command("network").description("the controller's networks"))
    .enablePositionalOptions();
  leaf(net, "list", "networks: ID, name, access, members (authorized/total), pools, routes")
    .action((_o, c: Command) => run("network list", [], c));
  networkSetOptions(
    leaf(net, "create", "create a network with a fresh ID and print the ID")
      .argument("[settings...]", "KEY=VALUE settings (see network set)")
      .option("--name <name>", "network name")
      .option("--public", "members need no authorization"),
  ).action((settings: string[], _o, c: Command) => run("network create", settings, c));
  leaf(net, "show", "a network's settings (-j: the controller's JSON)")
    .argument("<nwid>", "16-hex-digit network ID")
    .action((nwid: string, _o, c: Command) => run("network show", [nwid], c));
  networkSetOptions(
    leaf(net, "set", "change a network's settings")
      .argument("<nwid>", "16-hex-digit network ID")
      .argument("[settings...]", "KEY=VALUE settings")
      .option(
        "--dns-names <domain>",
        "member names in DNS: set the domain and point the DNS servers at this controller " +
          "node's own address on the network (it must have joined it)",
      ),
  ).action((nwid: string, settings: string[], _o, c: Command) =>
    run("network set", [nwid, ...settings], c)
  );
  leaf(net, "delete", "delete a network and its members")
    .argument("<nwid>", "16-hex-digit network ID")
    .action((nwid: string, _o, c: Command) => run("network delete", [nwid], c));

  const mem = addTargetOptions(cmd.command("member").description("members of a network"))
    .enablePositionalOptions();
  leaf(
    mem,
    "list",
    "members: address, name, authorized, IPs, last seen, version, physical address, online",
  )
    .argument("<nwid>", "16-hex-digit network ID")
    .action((nwid: string, _o, c: Command) => run("member list", [nwid], c));
  leaf(mem, "show", "one member (-j: the controller's JSON plus its live status)")
    .argument("<nwid>", "16-hex-digit network ID")
    .argument("<address>", "10-hex-digit member address")
    .action((nwid: string, a: string, _o, c: Command) => run("member show", [nwid, a], c));
  leaf(mem, "set", "change a member (creates the record if it has not asked yet)")
    .argument("<nwid>", "16-hex-digit network ID")
    .argument("<address>", "10-hex-digit member address")
    .argument("[settings...]", `KEY=VALUE settings (${keyList(MEMBER_FIELDS)})`)
    .addHelpText(
      "after",
      `\nSettings:\n${
        Object.entries(MEMBER_FIELDS).map(([k, f]) => `  ${k.padEnd(16)} ${f.help} (${f.kind})`)
          .join("\n")
      }\n\nExample:\n  zt controller member set 8056c2e21c000001 98bec71608 name=laptop ` +
        `ipAssignments=10.147.17.5`,
    )
    .action((nwid: string, a: string, settings: string[], _o, c: Command) =>
      run("member set", [nwid, a, ...settings], c)
    );
  for (const verb of ["authorize", "deauthorize"] as const) {
    leaf(
      mem,
      verb,
      verb === "authorize"
        ? "authorize a member (its config is pushed at once)"
        : "deauthorize a member (its certificate is revoked at once)",
    )
      .argument("<nwid>", "16-hex-digit network ID")
      .argument("<address>", "10-hex-digit member address")
      .action((nwid: string, a: string, _o, c: Command) => run(`member ${verb}`, [nwid, a], c));
  }
  leaf(mem, "delete", "delete a member's record (an authorized member is revoked)")
    .argument("<nwid>", "16-hex-digit network ID")
    .argument("<address>", "10-hex-digit member address")
    .action((nwid: string, a: string, _o, c: Command) => run("member delete", [nwid, a], c));
  return cmd;
}

/** The real process for the admin commands. */
export function controllerIo(): ControllerIo {
  return { ...systemIo(), readText: denoRulesIo().readText };
}
