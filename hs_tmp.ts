import v8 from "node:v8";
if (Deno.args[0]) await import(Deno.args[0]);
(globalThis as any).gc?.(); await new Promise((r) => setTimeout(r, 100)); (globalThis as any).gc?.();
for (const s of v8.getHeapSpaceStatistics()) console.log(s.space_name.padEnd(28), (s.space_size/1048576).toFixed(2), (s.space_used_size/1048576).toFixed(2));
const h = v8.getHeapStatistics(); console.log("total", (h.total_heap_size/1048576).toFixed(2), "used", (h.used_heap_size/1048576).toFixed(2), "malloced", (h.malloced_memory/1048576).toFixed(2), "ext", (h.external_memory/1048576).toFixed(2), "code+meta", ((h as any).total_global_handles_size/1048576).toFixed(2));
const c = (v8 as any).getHeapCodeStatistics?.(); if (c) console.log("code stats", JSON.stringify(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, ((v as number)/1048576).toFixed(2)]))));
