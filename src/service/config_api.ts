// GET /config and POST/PUT /config/settings on the local API: read and merge-edit local.conf (spec §11.1, §11.3).
import { redactLocalConf } from "./pg/pg_conninfo.ts";
import type { Context } from "./router.ts";
import { type ApiRoutes, sendJson } from "./api_server.ts";
import { type Json, sortKeys } from "./api_status.ts";
import { writeFileAtomicSync } from "./atomic_write.ts";
import { parseLocalConf } from "./local_conf.ts";
import { checkSettingsPatch } from "./settings_schema.ts";
import { parseJson64, stringifyJson64 } from "../util/json64.ts";

/** Plain-object check. */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads `<home>/local.conf` as JSON: `{}` if missing; an error message if unreadable/bad. */
export function readLocalConfJson(
  path: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ok: true, value: {} };
    return { ok: false, error: `cannot read ${path}: ${e instanceof Error ? e.message : e}` };
  }
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    const v = parseJson64(text); // 64-bit values (trustedPathId) survive a rewrite exactly
    if (!isObject(v)) return { ok: false, error: `${path} is not a JSON object` };
    return { ok: true, value: v };
  } catch (e) {
    return { ok: false, error: `${path}: ${e instanceof Error ? e.message : e}` };
  }
}

/**
 * Merges `patch`'s top-level keys into `conf.settings` (a copy; other sections untouched).
 * Returns the new local.conf object.
 */
export function mergeSettings(
  conf: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const settings = isObject(conf.settings) ? { ...conf.settings } : {};
  for (const [k, v] of Object.entries(patch)) {
    // defineProperty, not assignment: a "__proto__" key must stay data, never a prototype
    Object.defineProperty(settings, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { ...conf, settings };
}

/** The local.conf text the reference writes: keys sorted, 4-space indent. */
export function formatLocalConf(conf: Record<string, unknown>): string {
  return stringifyJson64(sortKeys(conf), 4);
}

/**
 * Config routes. `GET /config` -> local.conf as JSON (`{}` if none). `POST|PUT /config/settings`
 * with a JSON object body merges each key into `settings` and rewrites local.conf atomically
 * (4-space indent), answering `{}`. Bad JSON, a non-object body, an unknown key or an invalid
 * value (see settings_schema.ts), or a result that is not a valid local.conf -> 400
 * `{error, field?, description}` naming the field, and the file is left as it was. After a
 * write, `written` runs (the service re-reads local.conf at once: live settings apply, the
 * others are logged as needing a restart).
 */
export function configRoutes(home: string, written: () => void = () => {}): ApiRoutes {
  const path = `${home}/local.conf`;
  return (app) => {
    app.get("/config", (c) => {
      const r = readLocalConfJson(path);
      if (!r.ok) return sendJson(c, { error: 500, description: r.error }, 500);
      // a PostgreSQL password in settings.controllerDbPath is shown as ***
      return sendJson(c, sortKeys(redactLocalConf(r.value)));
    });
    const update = async (c: Context) => {
      const text = await c.req.text();
      let patch: unknown;
      try {
        patch = parseJson64(text);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        return sendJson(c, { error: 400, description: `body is not valid JSON: ${why}` }, 400);
      }
      if (!isObject(patch)) {
        return sendJson(c, { error: 400, description: "body must be a JSON object" }, 400);
      }
      const problem = checkSettingsPatch(patch);
      if (problem) {
        return sendJson(c, { error: 400, field: problem.field, description: problem.message }, 400);
      }
      const cur = readLocalConfJson(path);
      if (!cur.ok) return sendJson(c, { error: 500, description: cur.error }, 500);
      const next = mergeSettings(cur.value, patch);
      const out = formatLocalConf(next);
      const check = parseLocalConf(out, "local.conf");
      if (!check.ok) {
        return sendJson(c, { error: 400, description: `rejected: ${check.error}` }, 400);
      }
      writeFileAtomicSync(path, new TextEncoder().encode(out), { skipUnchanged: true });
      written();
      return sendJson(c, {} as Json);
    };
    app.post("/config/settings", update);
    app.put("/config/settings", update);
  };
}
