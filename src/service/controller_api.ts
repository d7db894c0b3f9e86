// The controller's HTTP routes (spec §10.1) as a Router sub-app the service mounts on its local API.
import { type Context, Router } from "./router.ts";
import type { Controller } from "../controller/controller.ts";
import type { Json } from "../util/json.ts";
import { canonicalJson, parseJson } from "../util/json.ts";
import { StoreUnavailableError } from "../controller/store.ts";

const HEX16 = /^[0-9a-fA-F]{16}$/;
const HEX10 = /^[0-9a-fA-F]{10}$/;
const NEW_NWID = /^[0-9a-fA-F]{10}_{6}$/;

/** Sends sorted-key compact JSON (`{}` for undefined), or JSONP when `?jsonp=fn` is given. */
function send(c: Context, body: Json | undefined, status = 200): Response {
  return jsonResponse(c, body === undefined ? "{}" : canonicalJson(body), status);
}

/**
 * A JSON response with body `text`, or JSONP `fn(text);` when the request has `?jsonp=fn` with a
 * plain identifier (as the reference's API does).
 */
export function jsonResponse(c: Context, text: string, status = 200): Response {
  const fn = c.req.query("jsonp");
  if (fn !== undefined && /^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$/.test(fn)) {
    return new Response(`${fn}(${text});`, {
      status,
      headers: { "content-type": "application/javascript" },
    });
  }
  return new Response(text, { status, headers: { "content-type": "application/json" } });
}

/**
 * A 404 with an empty body: the reference's controller sets only the status for unknown
 * networks and members, and its HTTP server sends nothing for paths no route matches.
 */
function notFound(): Response {
  return new Response(null, { status: 404 });
}

/** A 400 answer naming the problem. */
function bad(c: Context, description: string): Response {
  return send(c, { error: 400, description }, 400);
}

/** Reads the request body as JSON (`{}` when empty); a string result is the error message. */
async function readBody(c: Context): Promise<{ body: unknown } | string> {
  const text = await c.req.text();
  if (text.trim() === "") return { body: {} };
  try {
    return { body: parseJson(text) };
  } catch {
    return "body: invalid JSON";
  }
}

/**
 * Builds the controller routes (spec §10.1). Authentication is the mounting service's job.
 *
 * - `GET /controller` -> `{"controller":true,"apiVersion":4,"clock":ms,"databaseReady":true}`
 *   (tab-indented, as the reference writes it)
 * - `GET /controller/network` -> sorted array of network IDs
 * - `POST|PUT /controller/network` and `/controller/network/<ourAddr10>______` -> create with a
 *   random ID; `POST|PUT /controller/network/<nwid16>` -> create or update
 * - `GET|DELETE /controller/network/<nwid16>` -> the network (DELETE: the deleted one)
 * - `GET /controller/network/<nwid16>/member` -> `{"<addr10>": revision, ...}`
 * - `GET|POST|PUT|DELETE /controller/network/<nwid16>/member/<addr10>`
 * - `GET /unstable/controller/network` -> `{"data":[network + meta counts],"meta":{networkCount}}`
 * - `GET /unstable/controller/network/<nwid16>/member` -> `{"data":[members],"meta":{...}}`
 * - `GET /unstable/controller/network/<nwid16>/member-status` (zt only) ->
 *   `{"clock":ms,"members":{"<addr10>":{"lastSeen","online","physicalAddress","clientVersion"}}}`
 *
 * Invalid bodies answer 400 `{"error":400,"description":"<field>: <problem>"}` and change
 * nothing; unknown networks/members and malformed IDs in the URL (which the reference's route
 * regexes do not match) answer 404 with an empty body, as the reference does. Scalar fields
 * are coerced with the reference's rules (see model.ts and coerce.ts).
 */
export function controllerApi(ctl: Controller): Router {
  const app = new Router();

  /**
   * Runs a change; with a remote database (PostgreSQL) answers only once it is committed, and
   * 503 `{"error":503,"description":...}` when it cannot be.
   */
  const write = async (c: Context, op: () => Response): Promise<Response> => {
    if (!ctl.store.commit) return op();
    try {
      return await ctl.store.commit(op);
    } catch (e) {
      if (!(e instanceof StoreUnavailableError)) throw e;
      return send(c, { error: 503, description: e.message }, 503);
    }
  };

  app.get("/controller", () =>
    new Response(
      `{\n\t"controller": true,\n\t"apiVersion": 4,\n\t"clock": ${ctl.now()},\n\t"databaseReady": true\n}\n`,
      { headers: { "content-type": "application/json" } },
    ));

  app.get("/controller/network", (c) => send(c, ctl.listNetworks()));

  app.get("/unstable/controller/network", (c) => {
    const data: Json[] = [];
    for (const id of ctl.listNetworks()) {
      const n = ctl.getNetwork(id);
      if (!n) continue;
      const counts = ctl.memberCounts(id);
      n.meta = { authorizedMemberCount: counts.authorized, totalMemberCount: counts.total };
      data.push(n);
    }
    return send(c, { data, meta: { networkCount: data.length } });
  });

  const create = async (c: Context, nwid: string | undefined) => {
    const b = await readBody(c);
    if (typeof b === "string") return bad(c, b);
    return write(c, () => {
      const r = ctl.postNetwork(nwid, b.body);
      if (!r.ok) return r.status === 404 ? notFound() : bad(c, r.error);
      return send(c, r.value);
    });
  };
  app.on(["POST", "PUT"], "/controller/network", (c) => create(c, undefined));

  app.get("/controller/network/:nwid", (c) => {
    const nwid = c.req.param("nwid");
    if (!HEX16.test(nwid)) return notFound();
    const n = ctl.getNetwork(nwid);
    return n ? send(c, n) : notFound();
  });

  app.on(["POST", "PUT"], "/controller/network/:nwid", (c) => {
    const nwid = c.req.param("nwid");
    if (!HEX16.test(nwid) && !NEW_NWID.test(nwid)) return notFound();
    return create(c, nwid);
  });

  app.delete("/controller/network/:nwid", (c) => {
    const nwid = c.req.param("nwid");
    if (!HEX16.test(nwid)) return notFound();
    return write(c, () => {
      const n = ctl.deleteNetwork(nwid);
      return n ? send(c, n) : notFound();
    });
  });

  app.get("/controller/network/:nwid/member", (c) => {
    const nwid = c.req.param("nwid");
    if (!HEX16.test(nwid)) return notFound();
    const ms = ctl.listMembers(nwid);
    if (!ms) return notFound();
    const out: Record<string, Json> = {};
    for (const m of ms) out[String(m.id)] = typeof m.revision === "number" ? m.revision : 0;
    return send(c, out);
  });

  app.get("/unstable/controller/network/:nwid/member", (c) => {
    const nwid = c.req.param("nwid");
    if (!HEX16.test(nwid)) return notFound();
    const ms = ctl.listMembers(nwid);
    if (!ms) return notFound();
    const authorized = ms.filter((m) => m.authorized === true).length;
    return send(c, { data: ms, meta: { authorizedCount: authorized, totalCount: ms.length } });
  });

  // zt extension: what config requests told the controller (last seen, online, physical address,
  // clientVersion) per member, since it started; the CLI's `member list` shows it
  app.get("/unstable/controller/network/:nwid/member-status", (c) => {
    const nwid = c.req.param("nwid");
    if (!HEX16.test(nwid) || !ctl.getNetwork(nwid)) return notFound();
    const now = ctl.now();
    return send(c, { clock: now, members: ctl.memberLiveStatus(nwid, now) });
  });

  /** The member route's ids, or undefined when malformed (the reference's regex: no route). */
  const memberIds = (c: Context): { nwid: string; addr: string } | undefined => {
    const nwid = c.req.param("nwid") ?? "";
    const addr = c.req.param("addr") ?? "";
    return HEX16.test(nwid) && HEX10.test(addr) ? { nwid, addr } : undefined;
  };

  app.get("/controller/network/:nwid/member/:addr", (c) => {
    const ids = memberIds(c);
    if (!ids) return notFound();
    const m = ctl.getMember(ids.nwid, ids.addr);
    return m ? send(c, m) : notFound();
  });

  app.on(["POST", "PUT"], "/controller/network/:nwid/member/:addr", async (c) => {
    const ids = memberIds(c);
    if (!ids) return notFound();
    const b = await readBody(c);
    if (typeof b === "string") return bad(c, b);
    return write(c, () => {
      const r = ctl.postMember(ids.nwid, ids.addr, b.body);
      if (!r.ok) return r.status === 404 ? notFound() : bad(c, r.error);
      return send(c, r.value);
    });
  });

  app.delete("/controller/network/:nwid/member/:addr", (c) => {
    const ids = memberIds(c);
    if (!ids) return notFound();
    return write(c, () => {
      const m = ctl.deleteMember(ids.nwid, ids.addr);
      return m ? send(c, m) : notFound();
    });
  });

  return app;
}
