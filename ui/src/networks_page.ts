// The Networks page: the embedded controller's networks with member and online counts; create, and delete after confirmation.
/// <reference lib="dom" />
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, onNodeEvent } from "./api.ts";
import { Confirm } from "./confirm.ts";
import { html } from "./html.ts";

interface Summary {
  id: string;
  name: string;
  private: boolean;
  members: number;
  authorized: number;
  online: number;
}
interface ControllerJson {
  controller: boolean;
  address?: string;
  networks: Summary[];
}

/** The Networks page. */
export function NetworksPage() {
  const [c, setC] = useState<ControllerJson | null>(null);
  const [name, setName] = useState("");
  const [msg, setMsg] = useState("");
  const [confirming, setConfirming] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setC(await api<ControllerJson>("GET", "/ui-api/controller"));
    } catch (e) {
      setMsg((e as Error).message);
    }
  }, []);
  useEffect(() => {
    load();
    let t: ReturnType<typeof setTimeout> | undefined;
    const off = onNodeEvent((e) => {
      if (["controllerNetwork", "member", "memberRequest"].includes(e.type)) {
        clearTimeout(t);
        t = setTimeout(load, 150);
      }
    });
    return () => {
      off();
      clearTimeout(t);
    };
  }, [load]);

  const create = async (e: Event) => {
    e.preventDefault();
    if (!c?.address) return;
    try {
      const n = await api<{ id: string }>("POST", `/controller/network/${c.address}______`, {
        name: name.trim(),
      });
      setName("");
      setMsg(`Created ${n.id}.`);
      location.hash = `#/network/${n.id}`;
    } catch (err) {
      setMsg((err as Error).message);
    }
  };
  const del = async (id: string) => {
    try {
      await api("DELETE", `/controller/network/${id}`);
      setConfirming(null);
      setMsg(`Deleted ${id}.`);
      load();
    } catch (err) {
      setMsg((err as Error).message);
    }
  };

  if (!c) {
    return html`
      <h1>Networks</h1>
      <p>Loading…</p>
    `;
  }
  if (!c.controller) {
    return html`
      <h1>Networks</h1>
      <p>This node runs no network controller.</p>
    `;
  }
  return html`
    <h1>Networks</h1>
    <p>Controller <code>${c.address}</code>: networks whose IDs start with this address.</p>
    <form class="inline" onSubmit=${create}>
      <label for="new-name">New network name</label>
      <input id="new-name" value=${name} maxlength="127"
        onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
      <button type="submit">Create network</button>
    </form>
    ${msg && html`<p role="status">${msg}</p>`}
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Network</th>
            <th>Name</th>
            <th>Access</th>
            <th>Members</th>
            <th>Authorized</th>
            <th>Waiting</th>
            <th>Online</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
        ${c.networks.map((n) =>
          html`
            <tr key=${n.id}>
              <td><a href=${`#/network/${n.id}`}><code>${n.id}</code></a></td>
              <td>${n.name}</td>
              <td>${n.private ? "private" : "public"}</td>
              <td>${n.members}</td>
              <td>${n.authorized}</td>
              <td>${n.members - n.authorized}</td>
              <td>${n.online}</td>
              <td>${confirming === n.id
                ? html`
                  <${Confirm} label=${`Confirm deleting ${n.id}`}
                    question=${`Delete ${n.name || n.id} and all its members?`}
                    onYes=${() => del(n.id)} onCancel=${() => setConfirming(null)} />
                `
                : html`
                  <button type="button" class="danger" aria-label=${`Delete network ${n.id}`}
                    onClick=${() => setConfirming(n.id)}>Delete</button>
                `}</td>
            </tr>
          `
        )}
        ${c.networks.length === 0 && html`
          <tr>
            <td colspan="8">No networks yet.</td>
          </tr>
        `}
      </tbody>
      </table>
    </div>
  `;
}
