// Counters, gauges and histograms in the Prometheus text format, byte-compatible with prom-client's output for what the service uses.
//
// The service used prom-client 15; loading it (and its dependencies) cost a member ~7 MiB of RSS
// for a handful of families. This module keeps the same class names, call shapes and text
// output (tests/service/prom_text_test.ts compares both on the same operations).

/** Label names to values. */
export type Labels = Record<string, string>;

/** One exported sample line. */
interface Sample {
  name: string;
  /** Labels printed first (the histogram's `le`). */
  own: Record<string, string | number>;
  labels: Labels;
  value: number;
}

/** Common fields of a family. */
interface FamilyConfig {
  /** Metric name. */
  name: string;
  /** Help text. */
  help: string;
  /** Label names (values are set per sample). */
  labelNames?: readonly string[];
  /** Registries to register in. */
  registers?: Registry[];
}

/** Backslash and newline escaped (HELP text, label values). */
function escapeString(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A number as the text format prints it (`Nan`, `+Inf`, `-Inf` as prom-client spells them). */
function valueText(v: number): string {
  if (Number.isNaN(v)) return "Nan";
  if (!Number.isFinite(v)) return v < 0 ? "-Inf" : "+Inf";
  return `${v}`;
}

/** Key of a label set: `name:value,` over the sorted label names. */
function hashOf(labels: Labels, sortedNames: readonly string[]): string {
  let h = "";
  for (const k of sortedNames) {
    const v = labels[k];
    if (v !== undefined) h += `${k}:${v},`;
  }
  return h;
}

/** Base of the three families. */
abstract class Family {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly sortedNames: readonly string[];
  abstract readonly type: string;

  constructor(c: FamilyConfig) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(c.name)) throw new Error("Invalid metric name");
    this.name = c.name;
    this.help = c.help;
    this.labelNames = c.labelNames ?? [];
    this.sortedNames = [...this.labelNames].sort();
    for (const r of c.registers ?? []) r.registerMetric(this);
  }

  /** Label set key (label names outside the family are an error, as in prom-client). */
  protected key(labels: Labels): string {
    for (const k of Object.keys(labels)) {
      if (!this.labelNames.includes(k)) {
        throw new Error(`Added label "${k}" is not included in initial labelset`);
      }
    }
    return hashOf(labels, this.sortedNames);
  }

  /** The samples, in first-seen order. */
  abstract samples(): Sample[];
}

/** A family with one value per label set (counters and gauges). */
abstract class ValueFamily extends Family {
  protected values = new Map<string, { labels: Labels; value: number }>();

  /** Without label names the family starts with one sample at 0. */
  constructor(c: FamilyConfig) {
    super(c);
    this.reset();
  }

  /** Drops every sample (an unlabelled family goes back to 0). */
  reset(): void {
    this.values = new Map();
    if (this.labelNames.length === 0) this.values.set("", { labels: {}, value: 0 });
  }

  /** @inheritdoc */
  samples(): Sample[] {
    return [...this.values.values()].map((e) => ({
      name: this.name,
      own: e.labels,
      labels: {},
      value: e.value,
    }));
  }
}

/** A counter (only goes up). */
export class Counter extends ValueFamily {
  readonly type = "counter";

  /** Adds `value` (default 1) to the sample of `labels` (or the unlabelled one). */
  inc(labels?: Labels | number, value?: number): void {
    let l: Labels = {};
    if (typeof labels === "object" && labels !== null) l = labels;
    else value = labels;
    if (value && !Number.isFinite(value)) throw new TypeError(`Value is not a valid number`);
    if (value !== undefined && value < 0) {
      throw new Error("It is not possible to decrease a counter");
    }
    const v = value ?? 1;
    const h = this.key(l);
    const cur = this.values.get(h);
    if (cur) cur.value += v;
    else this.values.set(h, { labels: l, value: v });
  }
}

/** A gauge (set to any value). */
export class Gauge extends ValueFamily {
  readonly type = "gauge";

  /** Sets the sample of `labels` (or the unlabelled one) to `value`. */
  set(labels: Labels | number, value?: number): void {
    let l: Labels = {};
    let v: number | undefined = value;
    if (typeof labels === "object" && labels !== null) l = labels;
    else v = labels;
    if (typeof v !== "number") throw new TypeError(`Value is not a valid number`);
    this.values.set(this.key(l), { labels: l, value: v });
  }
}

/** A histogram with fixed upper bounds (cumulative `_bucket`, `_sum`, `_count`). */
export class Histogram extends Family {
  readonly type = "histogram";
  readonly #bounds: readonly number[];
  #values = new Map<string, { labels: Labels; buckets: number[]; sum: number; count: number }>();

  /** A histogram over `buckets` (upper bounds, ascending). */
  constructor(c: FamilyConfig & { buckets?: readonly number[] }) {
    super(c);
    if (this.labelNames.includes("le")) throw new Error("le is a reserved label keyword");
    this.#bounds = [...(c.buckets ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])];
    this.reset();
  }

  /** Records one observation for `labels` (or the unlabelled sample). */
  observe(labels: Labels | number, value?: number): void {
    let l: Labels = {};
    let v = value;
    if (typeof labels === "object" && labels !== null) l = labels;
    else v = labels;
    if (v === undefined || !Number.isFinite(v)) throw new TypeError(`Value is not a valid number`);
    const h = this.key(l);
    let e = this.#values.get(h);
    if (!e) {
      e = { labels: l, buckets: this.#bounds.map(() => 0), sum: 0, count: 0 };
      this.#values.set(h, e);
    }
    e.sum += v;
    e.count += 1;
    const i = this.#bounds.findIndex((b) => v! <= b);
    if (i >= 0) e.buckets[i]++;
  }

  /** Drops every sample. */
  reset(): void {
    this.#values = new Map();
    if (this.labelNames.length === 0) {
      this.#values.set("", { labels: {}, buckets: this.#bounds.map(() => 0), sum: 0, count: 0 });
    }
  }

  /** @inheritdoc */
  samples(): Sample[] {
    const out: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const e of this.#values.values()) {
      let acc = 0;
      this.#bounds.forEach((b, i) => {
        acc += e.buckets[i];
        out.push({ name: bucket, own: { le: b }, labels: e.labels, value: acc });
      });
      out.push({ name: bucket, own: { le: "+Inf" }, labels: e.labels, value: e.count });
      out.push({ name: `${this.name}_sum`, own: {}, labels: e.labels, value: e.sum });
      out.push({ name: `${this.name}_count`, own: {}, labels: e.labels, value: e.count });
    }
    return out;
  }
}

/** `name="value"` pairs of `labels` (values escaped), skipping names in `skip`. */
function labelPairs(labels: Record<string, string | number>, skip?: Labels): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (skip && Object.hasOwn(skip, k)) continue;
    out.push(`${k}="${typeof v === "string" ? escapeString(v).replace(/"/g, '\\"') : v}"`);
  }
  return out;
}

/** A set of families, printed in registration order. */
export class Registry {
  readonly #families = new Map<string, Family>();

  /** Adds a family (a different one with the same name is an error). */
  registerMetric(f: Family): void {
    const cur = this.#families.get(f.name);
    if (cur && cur !== f) {
      throw new Error(`A metric with the name ${f.name} has already been registered.`);
    }
    this.#families.set(f.name, f);
  }

  /** The text exposition of every family (format version 0.0.4). */
  metrics(): Promise<string> {
    const blocks: string[] = [];
    for (const f of this.#families.values()) {
      const name = escapeString(f.name);
      const lines = [`# HELP ${name} ${escapeString(f.help)}`, `# TYPE ${name} ${f.type}`];
      for (const s of f.samples()) {
        const parts = labelPairs(s.own, s.labels);
        const shared = labelPairs(s.labels).join(",");
        if (shared) parts.push(shared);
        const ls = parts.length > 0 ? `{${parts.join(",")}}` : "";
        lines.push(`${s.name}${ls} ${valueText(s.value)}`);
      }
      blocks.push(lines.join("\n"));
    }
    return Promise.resolve(`${blocks.join("\n\n")}\n`);
  }
}
