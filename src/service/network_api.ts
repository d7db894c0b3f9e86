// The local API's /network routes (spec §11.1): list, get, join/configure (POST) and leave (DELETE), as an ApiRoutes extension.
import { Address } from "../vl1/address.ts";
import type { NetworkInfo } from "../vl2/network.ts";
import type { Networks } from "../vl2/networks.ts";
import type { NetworkLocalConf } from "../vl2/network_local_conf.ts";
import { macToString } from "../vl2/mac.ts";
import { type Json, sortKeys } from "./api_status.ts";
import type { Context } from "./router.ts";
import { type ApiRoutes, sendJson } from "./api_server.ts";

/** The `/network` object of one network (spec §11.1), keys sorted like the reference. */
export function networkJson(i: NetworkInfo): Json {
  const id = i.nwid.toString(16).padStart(16, "0");
  const subs = i.multicastSubscriptions.slice().sort((a, b) => a.mac - b.mac || a.adi - b.adi);
  const o: Record<string, unknown> = {
    id,
    nwid: id,
    mac: macToString(i.mac),
    name: i.name,
    status: i.status,
    type: i.type,
    mtu: i.mtu,
    dhcp: i.dhcp,
    bridge: i.bridge,
    broadcastEnabled: i.broadcastEnabled,
    portError: i.portError,
    netconfRevision: i.netconfRevision,
    portDeviceName: i.portDeviceName,
    allowManaged: i.localConf.allowManaged,
    allowGlobal: i.localConf.allowGlobal,
    allowDefault: i.localConf.allowDefault,
    allowDNS: i.localConf.allowDNS,
    assignedAddresses: i.assignedAddresses.map((a) => a.toString()),
    routes: i.routes.map((r) => ({
      target: r.target.toString(),
      via: r.via ? r.via.toIpString() : null,
      flags: r.flags,
      metric: r.metric,
    })),
    multicastSubscriptions: subs.map((s) => ({ mac: macToString(s.mac), adi: s.adi })),
    dns: { domain: i.dns.domain, servers: i.dns.servers.map((s) => s.toIpString()) },
  };
  if (i.sso) {
    o.authenticationURL = i.sso.authenticationUrl;
    o.authenticationExpiryTime = i.sso.authenticationExpiryTime;
    o.ssoEnabled = true;
  }
  return sortKeys(o);
}

/** A JSON body value read as a boolean the lenient way (true/false, numbers, "1"/"true"...). */
function jsonBool(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") {
    const s = v.trim().toLowerCase();
    if (s === "true" || s === "1" || s === "t") return true;
    if (s === "false" || s === "0" || s === "f" || s === "") return false;
  }
  return undefined;
}

/** The four settings a POST may carry (absent or unreadable ones are left alone). */
export function localConfFromBody(body: unknown): Partial<NetworkLocalConf> {
  const out: Partial<NetworkLocalConf> = {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) return out;
  const b = body as Record<string, unknown>;
  for (const k of ["allowManaged", "allowGlobal", "allowDefault", "allowDNS"] as const) {
    const v = jsonBool(b[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Parses a `<nwid16>` route parameter (non-zero). */
function nwidParam(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F]{16}$/.test(s)) return undefined;
  const v = BigInt("0x" + s);
  return v === 0n ? undefined : v;
}

/**
 * The /network routes over the node's {@link Networks} (`get()` returns undefined when the node
 * has no VL2, then the list is empty and joins fail with 500). `now` is the service clock.
 * A malformed `<nwid16>` -> 404 `{}`; a POST/PUT body that is not a JSON object -> 400
 * `{error, description}` and nothing is joined or changed (an empty body is a plain join).
 */
export function networkApiRoutes(
  get: () => Networks | undefined,
  now: () => number,
  /** Why this node must not join networks (a non-joining controller instance), if so: 409. */
  joinRefusal: () => string | undefined = () => undefined,
): ApiRoutes {
  return (app) => {
    app.get("/network", (c) => sendJson(c, (get()?.infos() ?? []).map(networkJson)));

    app.get("/network/:nwid", (c) => {
      const id = nwidParam(c.req.param("nwid"));
      const nw = id === undefined ? undefined : get()?.get(id);
      return nw ? sendJson(c, networkJson(nw.info())) : sendJson(c, {}, 404);
    });

    const post = async (c: Context) => {
      const id = nwidParam(c.req.param("nwid") ?? "");
      if (id === undefined) return sendJson(c, {}, 404);
      const ctl = new Address(Number(id >> 24n));
      if (ctl.isReserved() && get()?.get(id) === undefined) {
        return sendJson(c, {
          error: 400,
          description: `network ${id.toString(16).padStart(16, "0")} cannot be joined: its ` +
            `controller address ${ctl} is reserved`,
        }, 400);
      }
      const nets = get();
      if (!nets) return sendJson(c, { error: 500, description: "no VL2 layer" }, 500);
      let body: unknown = undefined;
      const text = await c.req.text();
      if (text.trim() !== "") {
        try {
          body = JSON.parse(text);
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          return sendJson(c, { error: 400, description: `body is not valid JSON: ${why}` }, 400);
        }
        if (typeof body !== "object" || body === null || Array.isArray(body)) {
          return sendJson(c, { error: 400, description: "body must be a JSON object" }, 400);
        }
      }
      const refused = nets.get(id) ? undefined : joinRefusal();
      if (refused) return sendJson(c, { error: 409, description: refused }, 409);
      nets.join(now(), id);
      const conf = localConfFromBody(body);
      const info = Object.keys(conf).length > 0
        ? nets.setLocalConf(id, conf)!
        : nets.get(id)!.info();
      return sendJson(c, networkJson(info));
    };
    app.post("/network/:nwid", post);
    app.put("/network/:nwid", post);

    app.delete("/network/:nwid", (c) => {
      const id = nwidParam(c.req.param("nwid"));
      if (id === undefined) return sendJson(c, {}, 404);
      const left = get()?.leave(now(), id) ?? false;
      return sendJson(c, left ? { result: true } : {});
    });
  };
}
