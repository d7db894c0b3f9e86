// One controller network: settings, members (live, searchable, bulk authorize), rules editor with live compile and packet test, join instructions with QR.
/// <reference lib="dom" />
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ago, api, onNodeEvent } from "./api.ts";
import { Confirm } from "./confirm.ts";
import { html } from "./html.ts";
import { QrCode } from "./qr.ts";

/** The stored network (the fields the UI edits). */
interface Network {
  id: string;
  name: string;
  private: boolean;
  enableBroadcast: boolean;
  mtu: number;
  multicastLimit: number;
  ipAssignmentPools: { ipRangeStart: string; ipRangeEnd: string }[];
  routes: { target: string; via: string | null }[];
  v4AssignMode: { zt?: boolean };
  v6AssignMode: { zt?: boolean; rfc4193?: boolean; "6plane"?: boolean };
  dns: { domain?: string; servers?: string[] };
  rulesSource: string;
}

/** A member with what the controller saw of it. */
interface Member {
  id: string;
  address: string;
  name: string;
  authorized: boolean;
  ipAssignments: string[];
  tags: [number, number | null][];
  capabilities: number[];
  ui: {
    online: boolean;
    lastSeen: number;
    physicalAddress: string;
    version: string;
    latency: number;
  };
}

const val = (e: Event) => (e.target as HTMLInputElement).value;
const checked = (e: Event) => (e.target as HTMLInputElement).checked;

/** The settings form. */
function Settings(props: { n: Network; onSaved: (msg: string) => void }) {
  const n = props.n;
  const [f, setF] = useState(() => ({
    name: n.name,
    private: n.private !== false,
    pools: (n.ipAssignmentPools ?? []).map((p) => `${p.ipRangeStart}-${p.ipRangeEnd}`).join("\n"),
    routes: (n.routes ?? []).map((r) => (r.via ? `${r.target} via ${r.via}` : r.target)).join("\n"),
    v4zt: n.v4AssignMode?.zt === true,
    v6zt: n.v6AssignMode?.zt === true,
    rfc4193: n.v6AssignMode?.rfc4193 === true,
    sixplane: n.v6AssignMode?.["6plane"] === true,
    dnsDomain: n.dns?.domain ?? "",
    dnsServers: (n.dns?.servers ?? []).join(", "),
    mtu: String(n.mtu ?? 2800),
    multicastLimit: String(n.multicastLimit ?? 32),
    broadcast: n.enableBroadcast !== false,
  }));
  const [err, setErr] = useState("");
  const set = (k: keyof typeof f, v: string | boolean) => setF({ ...f, [k]: v });
  const save = async (e: Event) => {
    e.preventDefault();
    setErr("");
    const pools = [];
    for (const line of f.pools.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const m = /^(\S+)\s*-\s*(\S+)$/.exec(line);
      if (!m) return setErr(`IP pool "${line}": expected start-end`);
      pools.push({ ipRangeStart: m[1], ipRangeEnd: m[2] });
    }
    const routes = [];
    for (const line of f.routes.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const m = /^(\S+)(?:\s+via\s+(\S+))?$/.exec(line);
      if (!m) return setErr(`route "${line}": expected target [via gateway]`);
      routes.push({ target: m[1], via: m[2] ?? null });
    }
    try {
      await api("POST", `/controller/network/${n.id}`, {
        name: f.name,
        private: f.private,
        ipAssignmentPools: pools,
        routes,
        v4AssignMode: { zt: f.v4zt },
        v6AssignMode: { zt: f.v6zt, rfc4193: f.rfc4193, "6plane": f.sixplane },
        dns: {
          domain: f.dnsDomain.trim(),
          servers: f.dnsServers.split(/[\s,]+/).filter(Boolean),
        },
        mtu: Number(f.mtu),
        multicastLimit: Number(f.multicastLimit),
        enableBroadcast: f.broadcast,
      });
      props.onSaved("Settings saved.");
    } catch (x) {
      setErr((x as Error).message);
    }
  };
  const box = (k: keyof typeof f, label: string) =>
    html`<label class="check"><input type="checkbox" checked=${f[k] as boolean}
      onChange=${(e: Event) => set(k, checked(e))} /> ${label}</label>`;
  return html`<form class="grid" onSubmit=${save} aria-label="Network settings">
    <label for="s-name">Name</label>
    <input id="s-name" value=${f.name} maxlength="127" onInput=${(e: Event) =>
    set("name", val(e))} />
    <span>Access</span><div>${box("private", "Private (members need authorization)")}</div>
    <label for="s-pools">IP pools</label>
    <textarea id="s-pools" rows="2" placeholder="198.19.0.10-198.19.0.250"
      onInput=${(e: Event) => set("pools", val(e))}>${f.pools}</textarea>
    <label for="s-routes">Routes</label>
    <textarea id="s-routes" rows="2" placeholder="198.19.0.0/24  or  10.0.0.0/8 via 198.19.0.1"
      onInput=${(e: Event) => set("routes", val(e))}>${f.routes}</textarea>
    <span>IPv4 assignment</span><div>${box("v4zt", "Auto-assign from the pools")}</div>
    <span>IPv6 assignment</span>
    <div>${box("v6zt", "From the pools")} ${box("rfc4193", "RFC 4193 (/128)")} ${
    box("sixplane", "6PLANE (/80)")
  }</div>
    <label for="s-dns-domain">DNS domain</label>
    <input id="s-dns-domain" value=${f.dnsDomain} onInput=${(e: Event) =>
    set("dnsDomain", val(e))} />
    <label for="s-dns-servers">DNS servers</label>
    <input id="s-dns-servers" value=${f.dnsServers} placeholder="comma separated"
      onInput=${(e: Event) => set("dnsServers", val(e))} />
    <label for="s-mtu">MTU</label>
    <input id="s-mtu" type="number" min="1280" max="10000" value=${f.mtu}
      onInput=${(e: Event) => set("mtu", val(e))} />
    <label for="s-mcl">Multicast limit</label>
    <input id="s-mcl" type="number" min="0" value=${f.multicastLimit}
      onInput=${(e: Event) => set("multicastLimit", val(e))} />
    <span>Broadcast</span><div>${box("broadcast", "Enable broadcast (ff:ff:ff:ff:ff:ff)")}</div>
    <span></span><div><button type="submit">Save settings</button>
      ${err && html`<span role="alert" class="error"> ${err}</span>`}</div>
  </form>`;
}

/** `1000=1, 1001=2` → tag pairs, or an error message. */
function parseTags(text: string): [number, number][] | string {
  const out: [number, number][] = [];
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^(\d+)=(\d+)$/.exec(part);
    if (!m) return `tag "${part}": expected id=value`;
    out.push([Number(m[1]), Number(m[2])]);
  }
  return out;
}

/** `1000, 1001` → capability IDs, or an error message. */
function parseIds(text: string): number[] | string {
  const out: number[] = [];
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    if (!/^\d+$/.test(part)) return `capability "${part}": expected a number`;
    out.push(Number(part));
  }
  return out;
}

/** The members table. */
function Members(props: { nwid: string }) {
  const nwid = props.nwid;
  const [ms, setMs] = useState<Member[] | null>(null);
  const [q, setQ] = useState("");
  const [waitingOnly, setWaitingOnly] = useState(false);
  const [sel, setSel] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState<string | null>(null);
  const [msg, setMsg] = useState("");
  const load = useCallback(async () => {
    try {
      const list = await api<Member[]>("GET", `/ui-api/controller/network/${nwid}/member`);
      list.sort((a, b) => a.id.localeCompare(b.id));
      setMs(list);
    } catch (e) {
      setMsg((e as Error).message);
    }
  }, [nwid]);
  useEffect(() => {
    load();
    let t: ReturnType<typeof setTimeout> | undefined;
    const off = onNodeEvent((e) => {
      if ((e.type === "memberRequest" || e.type === "member") && e.data.nwid === nwid) {
        clearTimeout(t);
        t = setTimeout(load, 50);
      }
    });
    const iv = setInterval(load, 15_000);
    return () => {
      off();
      clearTimeout(t);
      clearInterval(iv);
    };
  }, [load]);
  const post = async (addr: string, body: unknown) => {
    try {
      await api("POST", `/controller/network/${nwid}/member/${addr}`, body);
      setMsg("");
    } catch (e) {
      setMsg(`${addr}: ${(e as Error).message}`);
    }
    load();
  };
  const bulk = async () => {
    for (const a of sel) {
      await api("POST", `/controller/network/${nwid}/member/${a}`, { authorized: true }).catch(
        () => {},
      );
    }
    setSel(new Set());
    setMsg(`Authorized ${sel.size} member(s).`);
    load();
  };
  const del = async (addr: string) => {
    try {
      await api("DELETE", `/controller/network/${nwid}/member/${addr}`);
      setConfirm(null);
      setMsg(`Deleted member ${addr}.`);
    } catch (e) {
      setMsg((e as Error).message);
    }
    load();
  };
  if (!ms) return html`<p>Loading members…</p>`;
  const waiting = ms.filter((m) => !m.authorized);
  const needle = q.trim().toLowerCase();
  const shown = ms.filter((m) =>
    (!waitingOnly || !m.authorized) &&
    (!needle || m.id.includes(needle) || (m.name ?? "").toLowerCase().includes(needle) ||
      (m.ipAssignments ?? []).some((ip) => ip.includes(needle)))
  );
  const toggle = (a: string, on: boolean) => {
    const s = new Set(sel);
    if (on) s.add(a);
    else s.delete(a);
    setSel(s);
  };
  return html`
    <p class=${waiting.length ? "waiting-note" : ""} role="status" data-testid="waiting-count">
      ${waiting.length} member${waiting.length === 1 ? "" : "s"} waiting for authorization</p>
    <div class="toolbar">
      <label for="m-search">Search members</label>
      <input id="m-search" type="search" value=${q} placeholder="address, name or IP"
        onInput=${(e: Event) => setQ(val(e))} />
      <label class="check"><input type="checkbox" checked=${waitingOnly}
        onChange=${(e: Event) =>
          setWaitingOnly(checked(e))} /> Only waiting for authorization</label>
      <button type="button" disabled=${sel.size === 0}
        onClick=${bulk}>Authorize selected (${sel.size})</button>
    </div>
    ${msg && html`<p role="status">${msg}</p>`}
    <div class="table-wrap">
      <table class="members">
        <thead>
          <tr>
            <th><span class="sr-only">Select</span></th>
            <th>Member</th>
            <th>Name</th>
            <th>Authorized</th>
            <th>IPs</th>
            <th>Status</th>
            <th>Last seen</th>
            <th>Version</th>
            <th>Physical address</th>
            <th>Latency</th>
            <th>Tags / capabilities</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
        ${shown.map((m) =>
          html`
            <tr key=${m.id} data-member=${m.id} class=${m.authorized ? "" : "waiting"}>
              <td><input type="checkbox" aria-label=${`Select ${m.id}`} checked=${sel.has(m.id)}
                        onChange=${(e: Event) => toggle(m.id, checked(e))} /></td>
              <td><code>${m.id}</code></td>
              <td><input class="name" aria-label=${`Name of ${m.id}`} value=${m.name ?? ""}
                        onChange=${(e: Event) => post(m.id, { name: val(e) })} /></td>
              <td><label class="switch"><input type="checkbox" role="switch" aria-label=${`Authorize ${m.id}`}
                        checked=${m.authorized} onChange=${(e: Event) =>
                          post(m.id, { authorized: checked(e) })} />
                        <span aria-hidden="true"></span></label></td>
              <td><input class="ips" aria-label=${`IPs of ${m.id}`} value=${(m.ipAssignments ?? [])
                .join(", ")}
                        onChange=${(e: Event) =>
                          post(m.id, {
                            ipAssignments: val(e).split(/[\s,]+/).filter(Boolean),
                          })} /></td>
              <td>${m.authorized
                ? html`<span class="badge ok">authorized</span>`
                : html`<span class="badge warn">waiting</span>`} ${m.ui.online
                ? html`<span class="badge ok">online</span>`
                : html`<span class="badge">offline</span>`}</td>
              <td>${ago(m.ui.lastSeen)}</td>
              <td>${m.ui.version || "?"}</td>
              <td><code>${m.ui.physicalAddress || "-"}</code></td>
              <td>${m.ui.latency >= 0 ? `${m.ui.latency} ms` : "?"}</td>
              <td><input class="tags" aria-label=${`Tags of ${m.id}`} placeholder="id=value"
                value=${(m.tags ?? []).map(([id, v]) => `${id}=${v ?? ""}`).join(", ")}
                onChange=${(e: Event) => {
                  const t = parseTags(val(e));
                  if (typeof t === "string") setMsg(`${m.id}: ${t}`);
                  else post(m.id, { tags: t });
                }} />
                <input class="caps" aria-label=${`Capabilities of ${m.id}`} placeholder="ids"
                value=${(m.capabilities ?? []).join(", ")}
                onChange=${(e: Event) => {
                  const c = parseIds(val(e));
                  if (typeof c === "string") setMsg(`${m.id}: ${c}`);
                  else post(m.id, { capabilities: c });
                }} /></td>
              <td>${confirm === m.id
                ? html`
                  <${Confirm} label=${`Confirm deleting member ${m.id}`} question=${`Delete ${m.id}?`}
                    onYes=${() => del(m.id)} onCancel=${() => setConfirm(null)} />
                `
                : html`
                  <button type="button" class="danger" aria-label=${`Delete member ${m.id}`}
                    onClick=${() => setConfirm(m.id)}>Delete</button>
                `}</td>
            </tr>
          `
        )}
        ${shown.length === 0 && html`
          <tr>
            <td colspan="12">No members${needle || waitingOnly ? " match" : " yet"}.</td>
          </tr>
        `}
      </tbody>
      </table>
    </div>
  `;
}

interface CompileJson {
  ok: boolean;
  rules?: unknown[];
  capabilities?: unknown[];
  tags?: unknown[];
  error?: { line: number; column: number; message: string };
}

/** The rules editor: compiled on every edit (nothing saved), saved only when it compiles. */
function Rules(props: { n: Network; onSaved: (msg: string) => void }) {
  const n = props.n;
  const [src, setSrc] = useState(n.rulesSource ?? "");
  const [res, setRes] = useState<CompileJson | null>(null);
  const [msg, setMsg] = useState("");
  const seq = useRef(0);
  useEffect(() => {
    const my = ++seq.current;
    const t = setTimeout(async () => {
      try {
        const r = await api<CompileJson>("POST", "/ui-api/rules/compile", { source: src });
        if (my === seq.current) setRes(r);
      } catch (e) {
        if (my === seq.current) {
          setRes({ ok: false, error: { line: 0, column: 0, message: (e as Error).message } });
        }
      }
    }, 200);
    return () => clearTimeout(t);
  }, [src]);
  const save = async () => {
    try {
      await api("POST", `/controller/network/${n.id}`, { rulesSource: src });
      props.onSaved("Rules saved.");
    } catch (e) {
      setMsg(`Not saved: ${(e as Error).message}`);
    }
  };
  const current = res !== null && seq.current > 0;
  return html`
    <div class="rules">
      <div>
          <label for="rules-src">Rules source</label>
          <textarea id="rules-src" rows="14" spellcheck="false" value=${src}
            aria-describedby="rules-result"
            onInput=${(e: Event) => {
              setSrc(val(e));
              setMsg("");
            }}></textarea>
          <div id="rules-result">
            ${res && !res.ok && res.error
              ? html`
                <p role="alert" class="error"
                  data-testid="rules-error">Line ${res.error.line}, column ${res.error
                    .column}: ${res.error.message}</p>
              `
              : res?.ok
              ? html`<p class="ok-text">Compiles: ${res.rules?.length} rules, ${res.capabilities?.length} capabilities, ${res.tags?.length} tags.</p>`
              : html`<p>Compiling…</p>`}
          </div>
          <button type="button" disabled=${!current || !res?.ok ||
            src === n.rulesSource} onClick=${save}>Save rules</button>
          ${msg && html`<span role="status"> ${msg}</span>`}
        </div>
      <div>
        <h3 id="h-compiled">Compiled rules</h3>
        <pre class="compiled" aria-labelledby="h-compiled" tabindex="0">${res?.ok
          ? JSON.stringify(
            { rules: res.rules, capabilities: res.capabilities, tags: res.tags },
            null,
            1,
          )
          : ""}</pre>
      </div>
    </div>
  `;
}

/** The "test a packet" panel (the rules-test explainer over the stored rules). */
function PacketTest(props: { nwid: string }) {
  const [frame, setFrame] = useState("tcp 198.19.0.10:40000 > 198.19.0.11:22");
  const [dir, setDir] = useState("outbound");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [out, setOut] = useState("");
  const run = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api<{ ok: boolean; text?: string; error?: string }>(
        "POST",
        "/ui-api/rules/test",
        {
          nwid: props.nwid,
          frame,
          inbound: dir === "inbound",
          from: from.trim(),
          to: to.trim(),
        },
      );
      setOut(r.ok ? r.text ?? "" : `error: ${r.error}`);
    } catch (x) {
      setOut(`error: ${(x as Error).message}`);
    }
  };
  return html`<form class="grid" onSubmit=${run} aria-label="Test a packet">
    <label for="t-frame">Packet</label>
    <input id="t-frame" value=${frame} onInput=${(e: Event) => setFrame(val(e))} />
    <label for="t-dir">Direction</label>
    <select id="t-dir" value=${dir} onChange=${(e: Event) => setDir(val(e))}>
      <option value="outbound">outbound (sent by the "from" member)</option>
      <option value="inbound">inbound (received by the "to" member)</option>
    </select>
    <label for="t-from">From member</label>
    <input id="t-from" value=${from} placeholder="10 hex digits" onInput=${(e: Event) =>
    setFrom(val(e))} />
    <label for="t-to">To member</label>
    <input id="t-to" value=${to} placeholder="10 hex digits" onInput=${(e: Event) =>
    setTo(val(e))} />
    <span></span><div><button type="submit">Test packet</button></div>
    <span></span><pre role="status" class="explain">${out}</pre>
  </form>`;
}

/** How to join, for zt and the official clients, with a QR code of the network ID. */
function Join(props: { nwid: string }) {
  return html`
    <div class="join">
      <div>
        <p>zt: <code>zt join ${props.nwid}</code></p>
        <p>ZeroTier One (Linux, macOS, Windows): <code>zerotier-cli join ${props.nwid}</code>
            (or "Join New Network" in the tray app).</p>
        <p>Mobile apps: add the network by scanning the code or typing the ID.</p>
      </div>
      <${QrCode} text=${props.nwid} label=${`QR code of network ID ${props.nwid}`} />
    </div>
  `;
}

/** The network page. */
export function NetworkPage(props: { nwid: string }) {
  const [n, setN] = useState<Network | null>(null);
  const [err, setErr] = useState("");
  const [gen, setGen] = useState(0);
  const [saved, setSaved] = useState<{ what: string; msg: string } | null>(null);
  const load = useCallback(async () => {
    try {
      setN(await api<Network>("GET", `/controller/network/${props.nwid}`));
      setErr("");
    } catch (e) {
      setErr((e as Error).message);
    }
  }, [props.nwid]);
  useEffect(() => {
    load();
  }, [load]);
  if (err) {
    return html`
      <h1>Network ${props.nwid}</h1>
      <p role="alert" class="error">${err}</p>
    `;
  }
  if (!n) {
    return html`
      <h1>Network ${props.nwid}</h1>
      <p>Loading…</p>
    `;
  }
  const onSaved = (what: string) => async (msg: string) => {
    setSaved({ what, msg });
    await load(); // the forms are re-created from the saved network
    setGen((g) => g + 1);
  };
  const note = (what: string) =>
    saved?.what === what && html`<p role="status" class="ok-text">${saved.msg}</p>`;
  return html`
    <p><a href="#/networks">← Networks</a></p>
    <h1>${n.name || "(unnamed)"} <code>${n.id}</code></h1>
    <section aria-labelledby="h-members">
      <h2 id="h-members">Members</h2>
      <${Members} nwid=${n.id} />
    </section>
    <section aria-labelledby="h-settings">
      <h2 id="h-settings">Settings</h2>
      <${Settings} key=${`s${gen}`} n=${n} onSaved=${onSaved("settings")} />
      ${note("settings")}
    </section>
    <section aria-labelledby="h-rules">
      <h2 id="h-rules">Rules</h2>
      <${Rules} key=${`r${gen}`} n=${n} onSaved=${onSaved("rules")} />
      ${note("rules")}
    </section>
    <section aria-labelledby="h-test">
      <h2 id="h-test">Test a packet</h2>
      <${PacketTest} nwid=${n.id} />
    </section>
    <section aria-labelledby="h-join">
      <h2 id="h-join">Join instructions</h2>
      <${Join} nwid=${n.id} />
    </section>
  `;
}
