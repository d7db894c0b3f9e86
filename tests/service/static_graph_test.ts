// The modules every `zt` command loads (the static import graph of cli.ts) must not include what a
// member does not use: prom-client (metrics are written by src/service/prom_text.ts; only `zt relay`
// loads it), npm:postgres (only a PostgreSQL controller database loads it), the embedded controller
// with zod and dns-packet (loaded when its database holds a network, or on first use), the
// userspace stacks (`--userspace`) and the web UI
// API's controller and rules helpers (first use), the rules compiler (the members' rule codec
// only needs its name tables); commander and the other commands are loaded
// only when `zt run`'s arguments are not plain (src/cli/run_args.ts); node:dgram only without FFI. Each of these costs a member RSS.
// Above all no npm module at all (each costs its code plus Deno's npm machinery): the crypto runs
// on libcrypto (@noble only when it is missing), the API on src/service/router.ts (no hono), port
// mapping on src/service/nat_pmp.ts and upnp_igd.ts (no npm port mapping library).
import assert from "node:assert/strict";

interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string; isDynamic?: boolean; code?: { specifier?: string } }[];
  npmPackage?: string;
}

interface Info {
  roots: string[];
  modules: InfoModule[];
  redirects?: Record<string, string>;
}

/** `deno info --json entry`. */
async function denoInfo(entry: string): Promise<Info> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(out.success, "deno info failed");
  return JSON.parse(new TextDecoder().decode(out.stdout)) as Info;
}

/** A dynamic `import()` found in a statically reached module. */
interface DynamicEdge {
  from: string;
  specifier: string;
  target?: string;
}

/** Specifiers statically reachable from `roots` in `info`, and the dynamic imports they make. */
function closure(info: Info, roots: string[]): { seen: Set<string>; dynamic: DynamicEdge[] } {
  const bySpec = new Map(info.modules.map((m) => [m.specifier, m]));
  const redirect = (s: string) => info.redirects?.[s] ?? s;
  const seen = new Set<string>();
  const dynamic: DynamicEdge[] = [];
  const stack = roots.map(redirect);
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const d of bySpec.get(s)?.dependencies ?? []) {
      const target = d.code?.specifier;
      if (d.isDynamic) {
        dynamic.push({ from: s, specifier: d.specifier, target: target && redirect(target) });
        continue;
      }
      if (d.specifier.startsWith("node:")) seen.add(d.specifier); // built-ins have no module entry
      if (target) stack.push(redirect(target));
    }
  }
  return { seen, dynamic };
}

/** Specifiers statically reachable from `entry`, per `deno info --json`. */
async function staticGraph(entry: string): Promise<Set<string>> {
  const info = await denoInfo(entry);
  return closure(info, info.roots).seen;
}

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).href;
const isNpm = (s: string) => s.startsWith("npm:");

Deno.test("cli.ts: no npm module at all in the static import graph", async () => {
  const graph = await staticGraph(CLI);
  assert.ok([...graph].some((s) => s.endsWith("/src/service/service.ts")), "graph walked");
  assert.deepEqual([...graph].filter(isNpm), []);
});

Deno.test("cli.ts: the static graph's sources are one-byte text (no character above U+00FF)", async () => {
  // V8 keeps every module's source for lazy compiling; one character above U+00FF makes it store
  // the whole file as two-byte text (member heap 6.29 -> 5.81 MiB when these were rewritten).
  // Write ASCII in comments ("->", "<=", "-") and \u escapes in strings.
  const graph = await staticGraph(CLI);
  const wide: string[] = [];
  for (const s of graph) {
    if (!s.startsWith("file://")) continue;
    const text = Deno.readTextFileSync(new URL(s));
    const lines = text.split("\n");
    const at = lines.findIndex((l) => /[\u0100-\uffff]/.test(l));
    if (at >= 0) wide.push(`${s.slice(ROOT.length)}:${at + 1}: ${lines[at].trim().slice(0, 80)}`);
  }
  assert.deepEqual(wide, []);
});

/**
 * Every dynamic import of the member's graph that leads to an npm module, with when it runs.
 * None of them runs when a plain `zt run` member starts with libcrypto, FFI and no controller
 * (port mapping, on by default, is zt's own NAT-PMP and UPnP code).
 */
const LAZY_NPM: Record<string, string> = {
  "cli.ts -> ./src/cli/program.ts": "commands other than a plain `zt run`",
  "src/cli/run.ts -> ../service/userspace_mode.ts": "`zt run --userspace`",
  "src/service/service.ts -> ./controller_service.ts": "a controller database with networks",
  "src/service/service.ts -> ./dns_names.ts": "the controller's member-name DNS server",
  "src/service/ui_routes.ts -> ./ui_api_handlers.ts": "the web UI's first API call",
  "src/crypto/crypto_default.ts -> ./noble_backend.ts": "no libcrypto (or ZT_CRYPTO=js)",
};

Deno.test("cli.ts: the dynamic imports that lead to npm modules are only the known lazy ones", async () => {
  const info = await denoInfo(CLI);
  const { dynamic } = closure(info, info.roots);
  const toNpm = dynamic.filter((d) =>
    isNpm(d.specifier) || (d.target !== undefined &&
      (isNpm(d.target) || [...closure(info, [d.target]).seen].some(isNpm)))
  ).map((d) => `${d.from.slice(ROOT.length)} -> ${d.specifier}`).sort();
  assert.deepEqual(toNpm, Object.keys(LAZY_NPM).sort());
});

/** Runs `code` in a fresh Deno process in the repository (with `env` added); its stdout. */
async function denoEval(code: string, env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    cwd: new URL("../../", import.meta.url).pathname,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("cli.ts: the crypto backend is chosen before any module hashes: libcrypto, @noble with ZT_CRYPTO=js", async () => {
  const probe = `import "${ROOT}cli.ts";
    import { c25519BackendName } from "${ROOT}src/crypto/c25519.ts";
    import { nativeCrypto } from "${ROOT}src/service/native_crypto.ts";
    console.log(c25519BackendName(), nativeCrypto.reason ?? "");`;
  const libcrypto = Deno.env.get("CI") === "true" ||
    ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/lib"].some((d) => {
      try {
        return Deno.statSync(`${d}/libcrypto.so.3`).isFile;
      } catch {
        return false;
      }
    });
  // "a backend was set before" would mean a module hashed (and loaded @noble) before cli.ts chose
  assert.equal(await denoEval(probe), libcrypto ? "libcrypto" : "noble libcrypto.so.3 not found");
  assert.equal(await denoEval(probe, { ZT_CRYPTO: "js" }), "noble ZT_CRYPTO=js");
});

Deno.test("cli.ts: prom-client, postgres, commander, node:dgram, the controller, zod, dns-packet, the userspace stacks, the rules compiler and the UI API helpers are not in the static import graph", async () => {
  const graph = await staticGraph(CLI);
  assert.ok([...graph].some((s) => s.endsWith("/src/service/service.ts")), "graph walked");
  // only `zt relay` loads prom-client; only a PostgreSQL controller database (or export/import)
  // loads npm:postgres
  const lazy = [...graph].filter((s) =>
    /prom-client|npm:\/?postgres@|tcp_relay_server\.ts$|\/pg\/pg_(controller|store|transfer)\.ts$/
      .test(s) ||
    /npm:\/?(zod|dns-packet|commander)@/.test(s) ||
    s === "node:dgram" ||
    /\/src\/controller\/(controller|model|responder)\.ts$/.test(s) ||
    /\/src\/service\/(controller_service|dns_names|dns_server|dns_message)\.ts$/.test(s) ||
    /\/src\/service\/(userspace_mode|userspace_net|socks_proxy|ui_api_handlers)\.ts$/.test(s) ||
    /\/src\/netstack\//.test(s) ||
    /\/src\/vl2\/rules_compiler\/(compile|parser|lexer)\.ts$/.test(s)
  );
  assert.deepEqual(lazy, []);
});
