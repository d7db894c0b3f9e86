// The Node page: identity, version, online state, planet and moons, peers with their paths, joined networks (join, leave, allow* settings), traffic.
/// <reference lib="dom" />
import { useCallback, useEffect, useState } from "preact/hooks";
import { ago, api, onNodeEvent } from "./api.ts";
import { html } from "./html.ts";
import { Traffic } from "./traffic.ts";

interface Status {
  address: string;
  version: string;
  online: boolean;
  planetWorldId: number;
  planetWorldTimestamp: number;
}
interface Path {
  address: string;
  lastReceive: number;
  preferred: boolean;
  expired: boolean;
}
interface Peer {
  address: string;
  role: string;
  version: string;
  latency: number;
  paths: Path[];
}
interface Moon {
  id: string;
  timestamp: number;
  roots: unknown[];
}
interface Net {
  id: string;
  name: string;
  status: string;
  type: string;
  assignedAddresses: string[];
  portDeviceName: string;
  allowManaged: boolean;
  allowGlobal: boolean;
  allowDefault: boolean;
  allowDNS: boolean;
}

const ALLOWS = [
  ["allowManaged", "managed addresses"],
  ["allowGlobal", "global addresses"],
  ["allowDefault", "default route"],
  ["allowDNS", "DNS"],
] as const;

/** The Node page. */
export function NodePage() {
  const [status, setStatus] = useState<Status | null>(null);
  const [peers, setPeers] = useState<Peer[]>([]);
  const [moons, setMoons] = useState<Moon[]>([]);
  const [nets, setNets] = useState<Net[]>([]);
  const [error, setError] = useState("");
  const [joinId, setJoinId] = useState("");
  const [msg, setMsg] = useState("");
  const load = useCallback(async () => {
    try {
      const [s, p, m, n] = await Promise.all([
        api<Status>("GET", "/status"),
        api<Peer[]>("GET", "/peer"),
        api<Moon[]>("GET", "/moon"),
        api<Net[]>("GET", "/network"),
      ]);
      setStatus(s);
      setPeers(p);
      setMoons(m);
      setNets(n);
      setError("");
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);
  useEffect(() => {
    load();
    let t: ReturnType<typeof setTimeout> | undefined;
    const off = onNodeEvent((e) => {
      if (["peer", "network", "node"].includes(e.type)) {
        clearTimeout(t);
        t = setTimeout(load, 150);
      }
    });
    const iv = setInterval(load, 10_000);
    return () => {
      off();
      clearInterval(iv);
      clearTimeout(t);
    };
  }, [load]);

  const join = async (e: Event) => {
    e.preventDefault();
    const id = joinId.trim().toLowerCase();
    if (!/^[0-9a-f]{16}$/.test(id)) {
      setMsg("A network ID is 16 hexadecimal digits.");
      return;
    }
    try {
      await api("POST", `/network/${id}`, {});
      setMsg(`Joining ${id}…`);
      setJoinId("");
      load();
    } catch (err) {
      setMsg((err as Error).message);
    }
  };
  const leave = async (id: string) => {
    try {
      await api("DELETE", `/network/${id}`);
      setMsg(`Left ${id}.`);
      load();
    } catch (err) {
      setMsg((err as Error).message);
    }
  };
  const setAllow = async (id: string, key: string, v: boolean) => {
    try {
      await api("POST", `/network/${id}`, { [key]: v });
      load();
    } catch (err) {
      setMsg((err as Error).message);
    }
  };

  return html`
    <h1>Node</h1>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${status && html`
      <dl class="facts">
        <dt>Address</dt>
        <dd><code data-testid="node-address">${status.address}</code></dd>
        <dt>Version</dt>
        <dd>${status.version}</dd>
        <dt>State</dt>
        <dd><span class=${status.online ? "badge ok" : "badge bad"}>${status.online
          ? "ONLINE"
          : "OFFLINE"}</span></dd>
        <dt>Planet</dt>
        <dd><code>${status.planetWorldId}</code> (${new Date(status.planetWorldTimestamp)
          .toISOString().slice(0, 10)})</dd>
        <dt>Moons</dt>
        <dd>${moons.length === 0 ? "none" : moons.map((m) =>
          html`
            <code>${m.id}</code> (${m.roots.length} roots)
          `
        )}</dd>
      </dl>
    `}

    <section aria-labelledby="h-nets">
      <h2 id="h-nets">Joined networks</h2>
      <form class="inline" onSubmit=${join}>
        <label for="join-id">Network ID</label>
        <input id="join-id" value=${joinId} pattern="[0-9a-fA-F]{16}" placeholder="16 hex digits"
          onInput=${(e: Event) => setJoinId((e.target as HTMLInputElement).value)} />
        <button type="submit">Join</button>
      </form>
      ${msg && html`<p role="status">${msg}</p>`}
      <div class="table-wrap"><table>
        <thead><tr><th>Network</th><th>Name</th><th>Status</th><th>Addresses</th><th>Allow</th><th></th></tr></thead>
        <tbody>
          ${nets.map((n) =>
            html`
              <tr key=${n.id}>
                <td><code>${n.id}</code><br/><small>${n.portDeviceName}</small></td>
                <td>${n.name}</td>
                <td><span class=${n.status === "OK" ? "badge ok" : "badge warn"}>${n
                  .status}</span></td>
                <td>${n.assignedAddresses.map((a) =>
                  html`
                    <code>${a}</code><br />
                  `
                )}</td>
                <td>${ALLOWS.map(([k, label]) =>
                  html`<label class="check">
              <input type="checkbox" checked=${n[k]}
                aria-label=${`Allow ${label} on ${n.id}`}
                onChange=${(e: Event) =>
                    setAllow(n.id, k, (e.target as HTMLInputElement).checked)} />
              ${label}</label>`
                )}</td>
                <td><button type="button" class="danger" aria-label=${`Leave ${n.id}`}
                            onClick=${() => leave(n.id)}>Leave</button></td>
              </tr>
            `
          )}
          ${nets.length === 0 && html`
            <tr>
              <td colspan="6">No networks joined.</td>
            </tr>
          `}
        </tbody>
      </table></div>
    </section>

    <section aria-labelledby="h-peers">
      <h2 id="h-peers">Peers</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Address</th>
              <th>Role</th>
              <th>Version</th>
              <th>Latency</th>
              <th>Paths</th>
            </tr>
          </thead>
          <tbody>
          ${peers.map((p) =>
            html`
              <tr key=${p.address}>
                <td><code>${p.address}</code></td>
                <td>${p.role}</td>
                <td>${p.version.startsWith("-1") ? "?" : p.version}</td>
                <td>${p.latency >= 0 ? `${p.latency} ms` : "?"}</td>
                <td>${p.paths.length === 0
                  ? html`<span class="badge warn">relayed</span>`
                  : p.paths.map((x) =>
                    html`<div><span class=${x.expired ? "badge bad" : "badge ok"}>direct</span>
                <code>${x.address}</code> ${x.preferred ? "(preferred)" : ""} · received ${
                      ago(x.lastReceive)
                    }</div>`
                  )}</td>
              </tr>
            `
          )}
        </tbody>
        </table>
      </div>
    </section>

    <section aria-labelledby="h-traffic">
      <h2 id="h-traffic">Traffic</h2>
      <${Traffic} />
    </section>
  `;
}
