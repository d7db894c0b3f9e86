// CI driver: fmt check, lint, type check, layer check, then the whole test suite; ends with `N passed, N failed`.

const decoder = new TextDecoder();

async function run(args: string[], capture = false): Promise<{ ok: boolean; tail: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdout: capture ? "piped" : "inherit",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  let tail = "";
  if (capture && child.stdout) {
    for await (const chunk of child.stdout) {
      await Deno.stdout.write(chunk);
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
    }
  }
  const status = await child.status;
  return { ok: status.success, tail };
}

let failed = 0;
let passed = 0;
for (
  const [name, args] of [
    ["fmt", ["fmt", "--check"]],
    ["lint", ["lint"]],
    ["check", ["task", "check"]],
    ["layers", ["run", "--allow-read", "scripts/layer_check.ts"]],
  ] as const
) {
  const r = await run([...args]);
  console.log(`ci: ${name} ${r.ok ? "ok" : "FAILED"}`);
  if (r.ok) passed++;
  else failed++;
}

const t = await run(["test", "--allow-all", "--parallel", "tests/"], true);
const all = [
  ...t.tail.matchAll(
    /(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?:[^|\n]*\| (\d+) ignored)?/g,
  ),
];
let ignored = 0;
if (all.length > 0) {
  const last = all[all.length - 1];
  passed += Number(last[1]);
  failed += Number(last[2]);
  ignored = Number(last[3] ?? 0);
}
if (!t.ok && all.length === 0) failed++;
console.log(`${passed} passed, ${failed} failed${ignored > 0 ? `, ${ignored} skipped` : ""}`);
Deno.exit(failed === 0 && t.ok ? 0 : 1);
