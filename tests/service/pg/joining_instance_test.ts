// Instances sharing one controller identity: only settings.controllerJoiningInstance joins networks.
import assert from "node:assert/strict";
import { joinRefusal } from "../../../src/service/controller_service.ts";
import { type LocalConf, parseLocalConf } from "../../../src/service/local_conf.ts";
import { Logger } from "../../../src/service/logger.ts";
import { createNode } from "../../../src/service/node_factory.ts";
import { Service } from "../../../src/service/service.ts";
import { WorldType } from "../../../src/vl1/world.ts";
import { fixtureText } from "../../fixtures.ts";
import { freePort, TEST_PLANET_ID, testWorld } from "../live_service.ts";

function conf(s: Record<string, unknown>): LocalConf {
  const r = parseLocalConf(JSON.stringify({ settings: s }));
  assert.ok(r.ok);
  return r.conf;
}

Deno.test("joinRefusal: unset → everyone joins; named → only that instance", () => {
  assert.equal(joinRefusal(conf({})), undefined);
  assert.equal(
    joinRefusal(conf({ controllerInstanceName: "a", controllerJoiningInstance: "a" })),
    undefined,
  );
  assert.match(
    joinRefusal(conf({ controllerInstanceName: "b", controllerJoiningInstance: "a" }))!,
    /instance b does not join networks .*controllerJoiningInstance is a/,
  );
});

Deno.test("service: a non-joining instance answers 409 to a join, the named one joins", async () => {
  for (const [name, want] of [["b", 409], ["a", 200]] as const) {
    const home = Deno.makeTempDirSync({ prefix: "zt-joiner-test-" });
    Deno.writeTextFileSync(`${home}/identity.secret`, fixtureText("identities/c.secret"));
    Deno.writeTextFileSync(`${home}/authtoken.secret`, "tok-c");
    Deno.writeFileSync(`${home}/planet`, testWorld(WorldType.PLANET, TEST_PLANET_ID));
    Deno.writeTextFileSync(
      `${home}/local.conf`,
      JSON.stringify({
        settings: {
          bind: ["127.0.0.1"],
          controllerInstanceName: name,
          controllerJoiningInstance: "a",
        },
      }),
    );
    const port = freePort();
    const svc = await Service.start({
      home,
      port,
      log: new Logger("error", () => {}),
      apiHosts: ["127.0.0.1"],
      createNode,
    });
    try {
      const r = await fetch(`http://127.0.0.1:${port}/network/5b1c20a311fca1ca`, {
        method: "POST",
        headers: { "X-ZT1-Auth": "tok-c" },
      });
      const text = await r.text();
      assert.equal(r.status, want, text);
      if (want === 409) assert.match(JSON.parse(text).description, /does not join networks/);
    } finally {
      await svc.stop();
      Deno.removeSync(home, { recursive: true });
    }
  }
});
