// GET /metrics on the local API: the Prometheus text exposition (auth: metricstoken or authtoken, spec §11.1).
import type { ApiRoutes } from "./api_server.ts";

/** Content type of the Prometheus text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Routes for `/metrics`. `render` returns the current exposition text (the service updates its
 * figures first; the reference serves its last `metrics.prom`). The token check (metrics token or
 * auth token, no client IP restriction) is the core app's middleware.
 */
export function metricsRoutes(render: () => Promise<string>): ApiRoutes {
  return (app) => {
    app.get("/metrics", async () => {
      const text = await render();
      return new Response(text, { status: 200, headers: { "content-type": METRICS_CONTENT_TYPE } });
    });
  };
}
