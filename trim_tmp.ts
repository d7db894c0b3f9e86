await import("./cli.ts");
const libc = Deno.dlopen("libc.so.6", { malloc_trim: { parameters: ["usize"], result: "i32" } });
const rssOf = () => { const s = Deno.readTextFileSync("/proc/self/status"); return ["VmRSS","RssAnon","RssFile"].map(k => k + " " + (Number(new RegExp(k + ":\\s+(\\d+)").exec(s)![1])/1024).toFixed(1)).join(" "); };
console.log("before", rssOf());
const t0 = performance.now();
const r = libc.symbols.malloc_trim(0n);
console.log("trim", r, (performance.now() - t0).toFixed(2), "ms");
console.log("after", rssOf());
