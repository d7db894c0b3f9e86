// The modules every `zt` command loads (the static import graph of cli.ts) must not include what a
// member does not use: prom-client (metrics are written by src/service/prom_text.ts; only `zt relay`
// loads it), npm:postgres (only a PostgreSQL controller database loads it), the embedded controller
// with zod and dns-packet (loaded when its database holds a network, or on first use), the port
// mapping library (first mapping attempt), the userspace stacks (`--userspace`) and the web UI
// API's controller and rules helpers (first use), the rules compiler (the members' rule codec
// only needs its name tables); commander and the other commands are loaded
// only when `zt run`'s arguments are not plain (src/cli/run_args.ts); node:dgram only without FFI. Each of these costs a member RSS.
import assert from "node:assert/strict";

interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string; isDynamic?: boolean; code?: { specifier?: string } }[];
  npmPackage?: string;
}

/** Specifiers statically reachable from `entry`, per `deno info --json`. */
async function staticGraph(entry: string): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(out.success, "deno info failed");
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
    redirects?: Record<string, string>;
  };
  const bySpec = new Map(info.modules.map((m) => [m.specifier, m]));
  const redirect = (s: string) => info.redirects?.[s] ?? s;
  const seen = new Set<string>();
  const stack = info.roots.map(redirect);
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const d of bySpec.get(s)?.dependencies ?? []) {
      if (d.isDynamic) continue;
      if (d.specifier.startsWith("node:")) seen.add(d.specifier); // built-ins have no module entry
      const target = d.code?.specifier;
      if (target) stack.push(redirect(target));
    }
  }
  return seen;
}

Deno.test("cli.ts: prom-client, postgres, commander, node:dgram, the controller, zod, dns-packet, the port mapper, the userspace stacks, the rules compiler and the UI API helpers are not in the static import graph", async () => {
  const graph = await staticGraph(new URL("../../cli.ts", import.meta.url).pathname);
  assert.ok([...graph].some((s) => s.endsWith("/src/service/service.ts")), "graph walked");
  // only `zt relay` loads prom-client; only a PostgreSQL controller database (or export/import)
  // loads npm:postgres
  const lazy = [...graph].filter((s) =>
    /prom-client|npm:\/?postgres@|tcp_relay_server\.ts$|\/pg\/pg_(controller|store|transfer)\.ts$/
      .test(s) ||
    /npm:\/?(zod|dns-packet|@achingbrain\/nat-port-mapper|commander)@/.test(s) ||
    s === "node:dgram" ||
    /\/src\/controller\/(controller|model|responder)\.ts$/.test(s) ||
    /\/src\/service\/(controller_service|dns_names|dns_server|dns_message)\.ts$/.test(s) ||
    /\/src\/service\/(userspace_mode|userspace_net|socks_proxy|ui_api_handlers)\.ts$/.test(s) ||
    /\/src\/netstack\//.test(s) ||
    /\/src\/vl2\/rules_compiler\/(compile|parser|lexer)\.ts$/.test(s)
  );
  assert.deepEqual(lazy, []);
});
