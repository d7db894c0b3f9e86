// `deno task bench`: runs every benchmark module in bench/ (each exports `run()`), or those named.

const only = Deno.args;
const dir = new URL("./", import.meta.url);
const names: string[] = [];
for (const e of Deno.readDirSync(dir)) {
  if (e.isFile && e.name.endsWith("_bench.ts")) names.push(e.name);
}
names.sort();
for (const name of names) {
  const short = name.replace(/_bench\.ts$/, "");
  if (only.length > 0 && !only.includes(short)) continue;
  console.log(`## ${short}`);
  const mod = await import(new URL(name, dir).href) as { run?: () => Promise<void> };
  if (typeof mod.run !== "function") {
    console.log(`(no run() exported by ${name})`);
    continue;
  }
  await mod.run();
}
