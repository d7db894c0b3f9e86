const specs = Deno.args;
for (const s of specs) await import(s);
(globalThis as any).gc?.();
await new Promise((r) => setTimeout(r, 200));
(globalThis as any).gc?.();
const st = Deno.readTextFileSync("/proc/self/smaps_rollup");
const g = (k: string) => (Number(new RegExp(k + ":\\s+(\\d+)").exec(st)![1]) / 1024).toFixed(1);
const mu = Deno.memoryUsage();
console.log((specs.join(" ") || "(none)").replace(/\/work\/wt\/mem\//g, ""), "rss", g("Rss"), "anon", g("Anonymous"), "file", (Number(g("Rss")) - Number(g("Anonymous"))).toFixed(1), "heapTotal", (mu.heapTotal/1048576).toFixed(1), "ext", (mu.external/1048576).toFixed(1));
