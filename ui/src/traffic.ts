// Traffic charts (uPlot): bytes per second per network and per peer from the node's sampled counters.
/// <reference lib="dom" />
import uPlot from "uplot";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, formatBytes } from "./api.ts";
import { html } from "./html.ts";

/** GET /ui-api/traffic. */
interface TrafficJson {
  intervalMs: number;
  samples: {
    t: number;
    networks: Record<string, number[]>;
    peers: Record<string, number[]>;
  }[];
}

/** What the charts show: bytes or packets per second (rx + tx). */
type Unit = "bytes" | "packets";

/** Rates (rx+tx per second) per key between consecutive samples: x in seconds, one y per key. */
function rates(
  t: TrafficJson,
  kind: "networks" | "peers",
  keys: string[],
  unit: Unit,
): number[][] {
  const rx = unit === "bytes" ? 2 : 0, tx = rx + 1;
  const xs: number[] = [];
  const ys: number[][] = keys.map(() => []);
  for (let i = 1; i < t.samples.length; i++) {
    const a = t.samples[i - 1], b = t.samples[i];
    const dt = (b.t - a.t) / 1000;
    if (dt <= 0) continue;
    xs.push(b.t / 1000);
    keys.forEach((k, j) => {
      const p = a[kind][k], q = b[kind][k];
      const d = p && q ? (q[rx] - p[rx]) + (q[tx] - p[tx]) : 0;
      ys[j].push(Math.max(0, d / dt));
    });
  }
  return [xs, ...ys];
}

/** The keys with the most bytes in the last sample (at most `n`). */
function top(t: TrafficJson, kind: "networks" | "peers", n: number): string[] {
  const last = t.samples[t.samples.length - 1];
  if (!last) return [];
  return Object.entries(last[kind])
    .sort((a, b) => (b[1][2] + b[1][3]) - (a[1][2] + a[1][3]))
    .slice(0, n)
    .map(([k]) => k);
}

const COLORS = ["#2a7de1", "#e1672a", "#2aa860", "#b02ae1", "#c9a227", "#e12a5c"];

/** One chart: a uPlot instance redrawn when the data changes. */
function Chart(props: { title: string; keys: string[]; data: number[][]; unit: Unit }) {
  const fmt = (
    v: number,
  ) => (props.unit === "bytes" ? `${formatBytes(v)}/s` : `${v.toFixed(1)} pkt/s`);
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [dark, setDark] = useState(() => matchMedia("(prefers-color-scheme: dark)").matches);
  useEffect(() => {
    const mq = matchMedia("(prefers-color-scheme: dark)");
    const f = () => setDark(mq.matches);
    mq.addEventListener("change", f);
    return () => mq.removeEventListener("change", f);
  }, []);
  useEffect(() => {
    if (!el.current) return;
    const width = Math.max(260, Math.min(760, el.current.clientWidth || 600));
    const axis = { stroke: dark ? "#ccc" : "#333", grid: { stroke: dark ? "#333" : "#ddd" } };
    const opts: uPlot.Options = {
      width,
      height: 180,
      series: [
        {},
        ...props.keys.map((k, i) => ({
          label: k,
          stroke: COLORS[i % COLORS.length],
          value: (_u: uPlot, v: number | null) => (v === null ? "-" : fmt(v)),
        })),
      ],
      axes: [
        axis,
        {
          ...axis,
          size: 70,
          values: (_u, vs) => vs.map((v) => (props.unit === "bytes" ? formatBytes(v) : String(v))),
        },
      ],
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, props.data as uPlot.AlignedData, el.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [props.keys.join(","), props.data, props.unit, dark]);
  return html`
    <figure class="chart">
      <figcaption>${props.title}</figcaption>
      <div ref=${el} role="img" aria-label=${`${props.title} over the last minutes`}></div>
    </figure>
  `;
}

/** Traffic of joined networks and the busiest peers, refreshed every 5 s. */
export function Traffic() {
  const [t, setT] = useState<TrafficJson | null>(null);
  const [error, setError] = useState("");
  const [unit, setUnit] = useState<Unit>("bytes");
  useEffect(() => {
    let stop = false;
    const load = () =>
      api<TrafficJson>("GET", "/ui-api/traffic").then((x) => !stop && setT(x)).catch((e) =>
        !stop && setError((e as Error).message)
      );
    load();
    const iv = setInterval(load, 5000);
    return () => {
      stop = true;
      clearInterval(iv);
    };
  }, []);
  if (error) return html`<p role="alert" class="error">${error}</p>`;
  if (!t) return html`<p>Loading traffic…</p>`;
  if (t.samples.length < 2) {
    return html`<p>Collecting samples (every ${t.intervalMs / 1000} s)…</p>`;
  }
  const nets = top(t, "networks", 6), peers = top(t, "peers", 6);
  const per = unit === "bytes" ? "bytes/s" : "packets/s";
  return html`
    <div>
      <label for="traffic-unit">Show</label>
      <select id="traffic-unit" value=${unit}
        onChange=${(e: Event) => setUnit((e.target as HTMLSelectElement).value as Unit)}>
        <option value="bytes">bytes per second</option>
        <option value="packets">packets per second</option>
      </select>
      <div class="charts">
          ${nets.length > 0 &&
            html`
              <${Chart} title=${`Networks (${per})`} keys=${nets} unit=${unit}
                data=${rates(t, "networks", nets, unit)} />
            `}
          ${peers.length > 0 &&
            html`
              <${Chart} title=${`Peers (${per})`} keys=${peers} unit=${unit}
                data=${rates(t, "peers", peers, unit)} />
            `}
        </div>
    </div>
  `;
}
