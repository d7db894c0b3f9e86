// Static checks of the packaging: systemd unit, Dockerfile, compile task, and the README's command list vs the real CLI.
import assert from "node:assert/strict";
import type { Command } from "commander";
import { buildCli } from "../src/cli/program.ts";
import { SYSTEM_HOME } from "../src/service/home.ts";
import { DEFAULT_PRIMARY_PORT } from "../src/service/local_conf.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const read = (rel: string) => Deno.readTextFileSync(`${ROOT}/${rel}`);
const exists = (rel: string) => {
  try {
    Deno.statSync(`${ROOT}/${rel}`);
    return true;
  } catch {
    return false;
  }
};

/** A parsed systemd unit: section → key → values (a key may repeat). */
type Ini = Map<string, Map<string, string[]>>;

/** Parses systemd INI syntax strictly: sections, `key=value`, `#`/`;` comments; throws on anything else. */
function parseUnit(text: string): Ini {
  const out: Ini = new Map();
  let section: Map<string, string[]> | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const sec = /^\[([A-Za-z]+)\]$/.exec(line);
    if (sec) {
      if (out.has(sec[1])) throw new Error(`line ${i + 1}: duplicate section [${sec[1]}]`);
      section = new Map();
      out.set(sec[1], section);
      return;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*)$/.exec(line);
    if (!kv) throw new Error(`line ${i + 1}: not key=value: ${raw}`);
    if (!section) throw new Error(`line ${i + 1}: key outside a section`);
    if (line.endsWith("\\")) throw new Error(`line ${i + 1}: continuation lines not expected`);
    section.set(kv[1], [...(section.get(kv[1]) ?? []), kv[2]]);
  });
  return out;
}

/** One value of `section.key`, asserting it is present exactly once. */
function one(ini: Ini, section: string, key: string): string {
  const v = ini.get(section)?.get(key);
  assert.ok(v && v.length === 1, `[${section}] ${key} must be set once`);
  return v[0];
}

/** Every command path of the CLI (`idtool generate`, `controller network create`, ...), no `help`. */
function commandPaths(c: Command, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const sub of c.commands) {
    if (sub.name() === "help") continue;
    const path = [...prefix, sub.name()];
    const kids = sub.commands.filter((k) => k.name() !== "help");
    if (kids.length === 0) out.push(path);
    else out.push(...commandPaths(sub, path));
  }
  return out;
}

Deno.test("packaging/zt.service: valid unit with the required keys", () => {
  const ini = parseUnit(read("packaging/zt.service"));
  assert.deepEqual([...ini.keys()].sort(), ["Install", "Service", "Unit"]);

  const execStart = one(ini, "Service", "ExecStart").split(/\s+/);
  assert.deepEqual(execStart, ["/usr/local/bin/zt", "run"]);
  // the subcommand really exists
  assert.ok(buildCli().commands.some((c) => c.name() === execStart[1]), "zt run exists");
  assert.equal(one(ini, "Service", "Restart"), "always");
  const caps = one(ini, "Service", "CapabilityBoundingSet").split(/\s+/);
  for (const cap of ["CAP_NET_ADMIN", "CAP_NET_RAW"]) assert.ok(caps.includes(cap), cap);
  // Regression: without it the controller's member-name DNS server (--dns-names) could not bind
  // port 53 under this unit (bind EACCES), and ProtectSystem=full kept allowDNS out of resolv.conf.
  assert.ok(caps.includes("CAP_NET_BIND_SERVICE"), "DNS on port 53");
  if (one(ini, "Service", "ProtectSystem") === "full") {
    const rw = one(ini, "Service", "ReadWritePaths").split(/\s+/);
    assert.ok(rw.includes("-/etc/resolv.conf"), "resolv.conf writable for allowDNS");
  }
  for (const cap of caps) assert.match(cap, /^CAP_[A-Z_]+$/);
  const env = ini.get("Service")!.get("Environment") ?? [];
  assert.ok(env.includes(`ZT_HOME=${SYSTEM_HOME}`), "home is the reference's Linux home");

  const after = one(ini, "Unit", "After").split(/\s+/);
  assert.ok(after.includes("network-online.target"));
  assert.ok(one(ini, "Unit", "Wants").split(/\s+/).includes("network-online.target"));
  assert.equal(one(ini, "Install", "WantedBy"), "multi-user.target");
});

Deno.test("parseUnit rejects broken unit text (the checker can fail)", () => {
  assert.throws(() => parseUnit("ExecStart=/x\n[Service]\n"), /outside a section/);
  assert.throws(() => parseUnit("[Service]\nExecStart /x\n"), /not key=value/);
  assert.throws(() => parseUnit("[Unit]\n[Unit]\n"), /duplicate/);
  const ini = parseUnit("[Service]\nRestart=always\nRestart=no\n");
  assert.throws(() => one(ini, "Service", "Restart"), /set once/);
});

Deno.test({
  name: "packaging/zt.service: systemd-analyze verify finds nothing wrong",
  ignore: !["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].some((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  }),
  fn: async () => {
    const dir = Deno.makeTempDirSync({ prefix: "zt-unit-" });
    try {
      // point ExecStart at an executable that exists here (the real one is installed later)
      const fake = `${dir}/zt`;
      Deno.writeTextFileSync(fake, "#!/bin/sh\nexit 0\n");
      Deno.chmodSync(fake, 0o755);
      Deno.writeTextFileSync(
        `${dir}/zt.service`,
        read("packaging/zt.service").replace("/usr/local/bin/zt", fake),
      );
      const r = await new Deno.Command("systemd-analyze", {
        args: ["verify", `${dir}/zt.service`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      const aboutUs = text.split("\n").filter((l) => l.includes("zt.service"));
      assert.deepEqual(aboutUs, [], text);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function dockerInstructions(text: string): { op: string; args: string }[] {
  const joined = text.split("\n").filter((l) => !/^\s*#/.test(l)).join("\n").replace(
    /\\\n/g,
    " ",
  );
  return joined.split("\n").map((l) => l.trim()).filter((l) => l !== "").map((l) => {
    const sp = l.search(/\s/);
    return { op: l.slice(0, sp).toUpperCase(), args: l.slice(sp + 1).trim() };
  });
}

Deno.test("Dockerfile: multi-stage, copies existing files only, no baked state, zt run on the home volume", async () => {
  const text = read("Dockerfile");
  const ins = dockerInstructions(text);
  const froms = ins.filter((i) => i.op === "FROM");
  assert.ok(froms.length >= 2, "multi-stage build");
  assert.match(froms[0].args, /denoland\/deno/);
  assert.doesNotMatch(froms[froms.length - 1].args, /denoland\/deno/, "runtime is not the SDK");

  const copied: string[] = [];
  for (const c of ins.filter((i) => i.op === "COPY")) {
    if (/--from=/.test(c.args)) continue;
    const parts = c.args.split(/\s+/).filter((p) => !p.startsWith("--"));
    const sources = parts.slice(0, -1);
    assert.ok(sources.length > 0, `COPY ${c.args}`);
    for (const s of sources) {
      assert.ok(exists(s), `COPY source ${s} does not exist`);
      assert.doesNotMatch(
        s,
        /identity|authtoken|metricstoken|planet|moon|local\.conf|networks\.d|controller\.d|peers\.d/,
        `COPY ${s} would bake node state into the image`,
      );
      copied.push(s.replace(/\/$/, ""));
    }
  }
  // no identity strings or tokens inline either
  assert.doesNotMatch(text, /[0-9a-f]{10}:0:[0-9a-f]{64}/);

  // every local module the CLI loads is inside something the build copies
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "cli.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(info.success, new TextDecoder().decode(info.stderr));
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: { specifier: string }[];
  };
  const local = graph.modules.map((m) => m.specifier).filter((s) => s.startsWith("file://"))
    .map((s) => decodeURIComponent(new URL(s).pathname).slice(ROOT.length + 1));
  assert.ok(local.length > 50, "module graph looks complete");
  for (const f of local) {
    assert.ok(copied.some((c) => f === c || f.startsWith(c + "/")), `${f} is not copied`);
  }
  for (const f of ["deno.json", "deno.lock"]) assert.ok(copied.includes(f), f);

  const runs = ins.filter((i) => i.op === "RUN").map((i) => i.args).join("\n");
  assert.match(runs, /deno compile [^\n]*cli\.ts/, "compiles cli.ts");
  assert.match(runs, /deno run [^\n]*scripts\/build_js\.ts/, "builds the JavaScript tree");
  assert.match(runs, /deno" run [^\n]*dist\/js\/cli\.js/, "falls back to running it from source");

  const entry = ins.filter((i) => i.op === "ENTRYPOINT");
  assert.equal(entry.length, 1);
  const argv = JSON.parse(entry[0].args) as string[];
  assert.deepEqual(argv, ["zt", "run"]);
  assert.ok(buildCli().commands.some((c) => c.name() === argv[1]));

  const volumes = ins.filter((i) => i.op === "VOLUME").flatMap((i) => i.args.split(/\s+/));
  assert.deepEqual(volumes, [SYSTEM_HOME]);
  const exposed = ins.filter((i) => i.op === "EXPOSE").flatMap((i) => i.args.split(/\s+/));
  assert.ok(exposed.includes(`${DEFAULT_PRIMARY_PORT}/udp`), exposed.join(" "));
});

Deno.test("deno task compile builds cli.ts into dist/zt", () => {
  const cfg = JSON.parse(read("deno.json")) as { tasks: Record<string, string> };
  const args = cfg.tasks.compile.split(/\s+/);
  assert.deepEqual(args.slice(0, 2), ["deno", "compile"]);
  assert.equal(args[args.length - 1], "cli.ts");
  assert.equal(args[args.indexOf("--output") + 1], "dist/zt");
  assert.match(read("cli.ts"), /if \(import\.meta\.main\)/);
});

Deno.test("README documents every zt command and links only to files that exist", () => {
  const readme = read("README.md");
  const missing = commandPaths(buildCli())
    .map((p) => `zt ${p.join(" ")}`)
    .filter((cmd) => !readme.includes("`" + cmd));
  assert.deepEqual(missing, [], "commands missing from README.md's Commands table");
  for (const doc of ["README.md", "packaging/README.md", "docs/architecture.md"]) {
    const dir = doc.includes("/") ? doc.slice(0, doc.lastIndexOf("/") + 1) : "";
    for (const m of read(doc).matchAll(/\]\((?!https?:|#|mailto:)([^)#\s]+)/g)) {
      assert.ok(exists(dir + m[1]), `${doc} links to missing ${m[1]}`);
    }
  }
  assert.ok(read("packaging/README.md").includes("packaging/zt.service"));
});
