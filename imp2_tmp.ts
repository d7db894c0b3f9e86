for (const s of Deno.args) await import(s);
(globalThis as any).gc?.();
await new Promise((r) => setTimeout(r, 300));
(globalThis as any).gc?.();
const sm = Deno.readTextFileSync("/proc/self/smaps");
const rows: [number, string][] = [];
let cur = "";
for (const line of sm.split("\n")) {
  if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) cur = line;
  const m = /^Rss:\s+(\d+) kB/.exec(line);
  if (m) rows.push([Number(m[1]), cur]);
}
rows.sort((a, b) => b[0] - a[0]);
let tot = 0; for (const r of rows) tot += r[0];
console.log("total", (tot/1024).toFixed(1));
for (const r of rows.slice(0, 20)) console.log((r[0]/1024).toFixed(1), r[1].slice(0, 140));
const mu = Deno.memoryUsage(); console.log(JSON.stringify(mu));
