// POST/PUT/DELETE /moon/<id10> on the local API: orbit and deorbit moons (spec §11.1).
import { Address } from "../vl1/address.ts";
import type { Context } from "./router.ts";
import { type ApiRoutes, sendJson } from "./api_server.ts";
import { moonJson } from "./api_status.ts";

/** The route's id pattern (QUIRK kept: exactly 10 hex digits, as the reference's regex). */
const ID10 = /^[0-9a-fA-F]{10}$/;

/** A `400` answer with a message. */
function badRequest(description: string) {
  return { error: 400, description };
}

/** Parses the `seed` member: a hex address of 1..10 digits, non-zero. */
export function parseSeed(v: unknown): Address | undefined {
  if (typeof v !== "string" || !/^[0-9a-fA-F]{1,10}$/.test(v)) return undefined;
  const a = Address.parse(v.padStart(10, "0"));
  return a && !a.isReserved() ? a : undefined;
}

/**
 * Moon routes: `POST|PUT /moon/<id10>` with body `{"seed":"<hex address>"}` orbits the moon (if
 * not orbiting it yet) and answers the reference's "waiting" object; when already orbiting it
 * answers the moon object. `DELETE /moon/<id10>` deorbits and answers `{"result":true}`.
 * Bad JSON or a missing/bad seed -> 400 with a description; nothing changes.
 * (GET /moon and /moon/<id10> are core routes of the app.)
 */
export function moonRoutes(): ApiRoutes {
  return (app, state) => {
    const orbit = async (c: Context) => {
      const id = c.req.param("id") ?? "";
      if (!ID10.test(id)) return sendJson(c, {}, 404);
      const worldId = BigInt("0x" + id);
      if (Address.parse(id)!.isReserved()) {
        return sendJson(
          c,
          badRequest(`moon id ${id.toLowerCase()} is a reserved address (0 or ff..........)`),
          400,
        );
      }
      const text = await c.req.text();
      let body: unknown = {};
      if (text.trim() !== "") {
        try {
          body = JSON.parse(text);
        } catch (e) {
          return sendJson(
            c,
            badRequest(`body is not valid JSON: ${e instanceof Error ? e.message : e}`),
            400,
          );
        }
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        return sendJson(c, badRequest("body must be a JSON object"), 400);
      }
      const existing = state.node.moons().find((w) => w.id === worldId);
      if (existing) return sendJson(c, moonJson(existing));
      const seed = parseSeed((body as Record<string, unknown>).seed);
      if (!seed) {
        return sendJson(
          c,
          badRequest(
            '"seed" must be the moon\'s root address (1-10 hex digits, not a reserved address)',
          ),
          400,
        );
      }
      state.node.orbit(state.now(), worldId, seed);
      return sendJson(c, {
        id: worldId.toString(16).padStart(16, "0"),
        roots: [],
        signature: null,
        timestamp: 0,
        updatesMustBeSignedBy: null,
        waiting: true,
      });
    };
    app.post("/moon/:id", orbit);
    app.put("/moon/:id", orbit);
    app.delete("/moon/:id", (c) => {
      const id = c.req.param("id");
      if (!ID10.test(id)) return sendJson(c, {}, 404);
      state.node.deorbit(BigInt("0x" + id));
      return sendJson(c, { result: true });
    });
  };
}
