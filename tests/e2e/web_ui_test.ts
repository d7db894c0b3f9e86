// netns e2e: the web admin UI driven by headless Chromium (playwright-core) inside the controller's namespace — sign in, network setup, live join, authorize, rules with errors and enforcement, delete, wrong token.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import type { BrowserContext, Page } from "playwright-core";
import { announceSkip, exec, type Lab, waitFor, withLab } from "./netns.ts";
import { explainFailure, labWorld, prepareHome, ZT_PORT, ZtNode } from "./zt_lab.ts";
import {
  api200,
  apiCall,
  MEMBER_IPS,
  startVl2Lab,
  type Vl2Lab,
  vl2World,
  waitStatus,
} from "./vl2_lab.ts";
import { REFERENCE, startReferenceNode } from "./reference_node.ts";

/** Debian's Chromium (scripts/setup.sh installs it). */
const CHROMIUM = "/usr/bin/chromium";

/** Why the test cannot run: no e2e (root/netns) or, outside CI, no Chromium. */
function skipReason(): string | undefined {
  const e2e = announceSkip("web_ui_test.ts");
  if (e2e) return e2e;
  if (Deno.env.get("CI")) return undefined; // in CI a missing browser fails the test
  try {
    Deno.statSync(CHROMIUM);
    return undefined;
  } catch {
    const r = `needs ${CHROMIUM} (run scripts/setup.sh)`;
    console.log(`SKIP web_ui_test.ts: ${r}`);
    return r;
  }
}
const SKIP = skipReason();

/** Flags for a headless browser that contacts nothing on its own. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-features=Translate,MediaRouter,OptimizationHints",
];

/** The rules with an error on line 3 (column 2), and the fixed version that is saved. */
const BAD_RULES = "drop ipprotocol 6 dport 23;\naccept\n bogus;\n";
const GOOD_RULES =
  "# telnet is dropped, everything else accepted\ndrop ipprotocol 6 dport 23;\naccept;\n";

/** A listener on b answering "ok" on 23 and 8080 (not a real telnetd). */
const LISTENER = `
const enc = new TextEncoder();
for (const port of [23, 8080]) {
  const l = Deno.listen({ hostname: "0.0.0.0", port });
  (async () => {
    for await (const c of l) c.write(enc.encode("ok\\n")).catch(() => {}).finally(() => c.close());
  })();
}
console.log("listening");
`;

/** Whether `from` opens ip:port over TCP and reads "ok" within `seconds`. */
async function tcpReachable(from: ZtNode, ip: string, port: number, seconds = 3): Promise<boolean> {
  const r = await exec(from.ns, [
    "timeout",
    String(seconds),
    "bash",
    "-c",
    `exec 3<>/dev/tcp/${ip}/${port} && head -c 2 <&3`,
  ], { check: false, timeoutMs: (seconds + 3) * 1000 });
  return r.code === 0 && r.stdout === "ok";
}

/**
 * Launches Chromium inside namespace `ns` (through `ip netns exec`, which keeps the DevTools
 * pipe file descriptors) with a fresh profile under `dir`.
 */
async function launchInNamespace(ns: string, dir: string): Promise<BrowserContext> {
  Deno.mkdirSync(dir, { recursive: true });
  const wrapper = `${dir}/chromium-in-${ns}.sh`;
  Deno.writeTextFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`);
  Deno.chmodSync(wrapper, 0o755);
  const profile = `${dir}/profile-${ns}`;
  Deno.mkdirSync(profile, { recursive: true });
  return await chromium.launchPersistentContext(profile, {
    executablePath: wrapper,
    ignoreHTTPSErrors: true, // the remote test's certificate names localhost, not the lab address
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    timeout: 30_000,
  });
}

/**
 * `page.goto(url)`, again (at most 3 tries) when Chromium aborts the load with ERR_NETWORK_CHANGED:
 * it does so when its namespace's interfaces or addresses change under it (a lab veth's IPv6
 * link-local address leaving DAD), which says nothing about the server.
 */
async function gotoSettled(page: Page, url: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await page.goto(url);
      return;
    } catch (e) {
      if (attempt >= 3 || !String(e).includes("ERR_NETWORK_CHANGED")) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Where screenshots go (ZT_UI_SCREENSHOTS, else a temp dir that is kept and printed). */
function screenshotDir(): string {
  const d = Deno.env.get("ZT_UI_SCREENSHOTS") ??
    Deno.makeTempDirSync({ prefix: "zt-ui-screenshots-" });
  Deno.mkdirSync(d, { recursive: true });
  return d;
}

/** Controls without an accessible name, evaluated in the page (a string: tests have no DOM types). */
const UNNAMED_CONTROLS = `(() => {
  const out = [];
  for (const e of document.querySelectorAll("input, select, textarea, button, a[href]")) {
    const byLabel = [...(e.labels ?? [])].map((l) => l.textContent ?? "").join("").trim();
    const byIds = (e.getAttribute("aria-labelledby") ?? "").split(" ").filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? "").join("").trim();
    const name = e.getAttribute("aria-label") || byLabel || byIds ||
      (e.tagName === "BUTTON" || e.tagName === "A" ? (e.textContent ?? "").trim() : "");
    if (!name) out.push(e.outerHTML.slice(0, 120));
  }
  return out;
})()`;

/** Form controls, buttons and links on the page without an accessible name. */
function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(UNNAMED_CONTROLS) as Promise<string[]>;
}

/** The row of a member in the members table. */
function memberRow(page: Page, address: string) {
  return page.locator(`tr[data-member="${address}"]`);
}

/** Runs the body in a fresh VL2 lab (root, controller, members a and b); node logs on failure. */
function webUiLabTest(name: string, body: (v: Vl2Lab) => Promise<void>): void {
  Deno.test({
    name,
    ignore: SKIP !== undefined,
    fn: async () => {
      await withLab(async (lab) => {
        const v = await startVl2Lab(lab, ["a", "b"]);
        await explainFailure(v.all, () => body(v));
      });
    },
  });
}

webUiLabTest(
  "e2e web UI: sign in, create, configure, live join, authorize, rules (error, save, enforced), delete, wrong token",
  async (v) => {
    const { ctl, lab } = v;
    const { a, b } = v.members;
    const shots = screenshotDir();
    const ctx = await launchInNamespace(ctl.ns, lab.path("browser"));
    const pageErrors: string[] = [];
    try {
      const page = await ctx.newPage();
      page.on("pageerror", (e) => pageErrors.push(e.message));
      page.on("console", (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) pageErrors.push(m.text());
      });
      page.setDefaultTimeout(15_000); // slack for a loaded CI machine
      const shot = (name: string) =>
        page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
      const base = `http://127.0.0.1:${ZT_PORT}/ui/`;

      // a wrong token is refused, and nothing of the node is shown
      await page.goto(base);
      await page.getByLabel("Auth token").fill("not-the-token");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").filter({ hasText: "refused" }).waitFor();
      assert.equal(await page.getByTestId("node-address").count(), 0);
      const direct = await page.evaluate(async () =>
        (await fetch("/status", { headers: { "X-ZT1-Auth": "not-the-token" } })).status
      );
      assert.equal(direct, 401);
      await shot("signin");

      // sign in: the node page
      await page.getByLabel("Auth token").fill(ctl.token);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByTestId("node-address").filter({ hasText: ctl.address }).waitFor();
      assert.equal(await page.evaluate(() => location.href.includes("not-the-token")), false);
      await page.getByText("ONLINE", { exact: true }).waitFor({ timeout: 20_000 });
      await page.locator("tr", { hasText: v.root.address }).first().waitFor();
      await shot("node");

      // create a network
      await page.getByRole("link", { name: "Networks" }).click();
      await page.getByLabel("New network name").fill("e2e-ui");
      await page.getByRole("button", { name: "Create network" }).click();
      await page.getByRole("heading", { name: /e2e-ui/ }).waitFor();
      const nwid = /#\/network\/([0-9a-f]{16})$/.exec(page.url())?.[1] ?? "";
      assert.match(nwid, new RegExp(`^${ctl.address}[0-9a-f]{6}$`));

      // a pool and a route, IPv4 auto-assign
      await page.getByLabel("IP pools").fill("198.19.0.10-198.19.0.250");
      await page.getByLabel("Routes").fill("198.19.0.0/24");
      await page.getByLabel("Auto-assign from the pools").check();
      await page.getByRole("button", { name: "Save settings" }).click();
      await page.getByText("Settings saved.").waitFor();
      assert.equal(await page.getByLabel("IP pools").inputValue(), "198.19.0.10-198.19.0.250");
      const saved = await api200(ctl, "GET", `/controller/network/${nwid}`);
      assert.deepEqual(saved.ipAssignmentPools, [
        { ipRangeStart: "198.19.0.10", ipRangeEnd: "198.19.0.250" },
      ]);
      assert.deepEqual(
        (saved.routes as { target: string }[]).map((r) => r.target),
        ["198.19.0.0/24"],
      );
      assert.deepEqual(saved.v4AssignMode, { zt: true });

      // a member joins: it shows up live (no reload) as waiting
      for (const m of [a, b]) {
        const t0 = Date.now();
        await api200(m, "POST", `/network/${nwid}`, {});
        const row = memberRow(page, m.address);
        await row.filter({ hasText: "waiting" }).waitFor({ timeout: 10_000 });
        console.log(`web UI: ${m.name} shown as waiting ${Date.now() - t0} ms after its join`);
        if (m === a) {
          await shot("member-waiting");
          // authorize it with its switch, from the keyboard
          const sw = page.getByRole("switch", { name: `Authorize ${m.address}` });
          await sw.focus();
          await page.keyboard.press("Space");
        } else {
          // b: search, select and bulk-authorize
          await page.getByLabel("Search members").fill(m.address);
          await memberRow(page, a.address).waitFor({ state: "detached" });
          await page.getByRole("checkbox", { name: `Select ${m.address}` }).check();
          await page.getByRole("button", { name: "Authorize selected (1)" }).click();
          await page.getByLabel("Search members").fill("");
        }
        await row.filter({ hasText: "authorized" }).waitFor();
        assert.equal(
          await page.getByRole("switch", { name: `Authorize ${m.address}` }).isChecked(),
          true,
        );
      }
      assert.deepEqual(await unnamedControls(page), [], "every control has an accessible name");
      const [na, nb] = await Promise.all([
        waitStatus(a, nwid, "OK", 20_000, (x) => x.portDeviceName !== ""),
        waitStatus(b, nwid, "OK", 20_000, (x) => x.portDeviceName !== ""),
      ]);
      const ipA = (na.assignedAddresses as string[]).map((s) => s.split("/")[0])
        .find((s) => s.startsWith("198.19.0."));
      const ipB = (nb.assignedAddresses as string[]).map((s) => s.split("/")[0])
        .find((s) => s.startsWith("198.19.0."));
      assert.ok(ipA && ipB, `pool addresses: ${ipA} ${ipB}`);
      // the IP the controller assigned shows in the member's row
      await waitFor(
        "a's IP in the UI",
        10_000,
        async () => (await page.getByLabel(`IPs of ${a.address}`).inputValue()).includes(ipA!),
      );
      await memberRow(page, a.address).filter({ hasText: "online" }).waitFor();
      await memberRow(page, a.address).filter({ hasText: `${MEMBER_IPS.a}/` }).waitFor();
      await shot("members");

      // before any rules: both ports of a listener on b answer a
      const srv = lab.spawn(b.ns, [Deno.execPath(), "eval", LISTENER], {
        logFile: lab.path("b-listener.log"),
      });
      await waitFor("listener on b", 10_000, () => tcpReachable(b, "127.0.0.1", 8080, 2));
      await waitFor("a → b:8080 over the network", 20_000, () => tcpReachable(a, ipB!, 8080, 3));
      assert.ok(await tcpReachable(a, ipB!, 23, 5), "a → b:23 passes before the rules");

      // a rules source with an error: line and column shown, nothing saved
      const before = (await api200(ctl, "GET", `/controller/network/${nwid}`)).rulesSource;
      await page.getByLabel("Rules source").fill(BAD_RULES);
      const err = page.getByTestId("rules-error");
      await err.filter({ hasText: "Line 3, column 2" }).waitFor();
      assert.equal(await page.getByRole("button", { name: "Save rules" }).isDisabled(), true);
      await shot("rules-error");
      assert.equal(
        (await api200(ctl, "GET", `/controller/network/${nwid}`)).rulesSource,
        before,
        "the bad source was not saved",
      );

      // the fixed source compiles (compiled rules beside it) and saves
      await page.getByLabel("Rules source").fill(GOOD_RULES);
      await page.getByText(/Compiles: 4 rules/).waitFor();
      assert.match(await page.locator("pre.compiled").innerText(), /ACTION_DROP/);
      await page.getByRole("button", { name: "Save rules" }).click();
      await page.getByText("Rules saved.").waitFor();
      await page.getByText(/Compiles: 4 rules/).waitFor(); // the editor, reset to the saved source
      const after = await api200(ctl, "GET", `/controller/network/${nwid}`);
      assert.equal(after.rulesSource, GOOD_RULES);

      // the packet-test panel explains the drop
      await page.getByLabel("Packet", { exact: true }).fill(`tcp ${ipA}:40000 > ${ipB}:23`);
      await page.getByLabel("From member").fill(a.address);
      await page.getByLabel("To member").fill(b.address);
      await page.getByRole("button", { name: "Test packet" }).click();
      await page.locator("pre.explain").filter({ hasText: "verdict: drop" }).waitFor();
      await shot("rules");

      // enforced between the members once the new config arrives: telnet dropped, 8080 passes
      await waitFor(
        "telnet a → b dropped",
        20_000,
        async () => !(await tcpReachable(a, ipB!, 23, 2)),
      );
      assert.ok(await tcpReachable(a, ipB!, 8080, 5), "a → b:8080 still passes");
      assert.equal(await tcpReachable(a, ipB!, 23, 3), false, "telnet a → b stays dropped");
      await srv.stop("SIGTERM", 2000);

      // delete a member (it leaves first, so it does not ask again)
      await api200(a, "DELETE", `/network/${nwid}`);
      await page.getByRole("button", { name: `Delete member ${a.address}` }).click();
      await page.getByRole("alertdialog", { name: `Confirm deleting member ${a.address}` })
        .getByRole("button", { name: "Yes, delete" }).click();
      await memberRow(page, a.address).waitFor({ state: "detached" });
      assert.equal(
        (await apiCall(ctl, "GET", `/controller/network/${nwid}/member/${a.address}`)).status,
        404,
      );
      assert.equal(await memberRow(page, b.address).count(), 1);
      // tags and capabilities are editable per member
      // (a live refresh of the list, e.g. from a's deletion, can re-render the row between the
      // edit and the blur and drop the edit: then it is typed again)
      const editTag = async () => {
        await page.getByLabel(`Tags of ${b.address}`).fill("1000=5");
        await page.getByLabel(`Capabilities of ${b.address}`).focus(); // change fires on blur
      };
      await editTag();
      let edited = Date.now();
      await waitFor("b's tag saved", 10_000, async () => {
        const m = await api200(ctl, "GET", `/controller/network/${nwid}/member/${b.address}`);
        if (JSON.stringify(m.tags) === "[[1000,5]]") return true;
        if (Date.now() - edited > 2500) {
          await editTag();
          edited = Date.now();
        }
        return false;
      });

      // the networks list; a second network deleted after confirmation
      await page.getByRole("link", { name: "← Networks" }).click();
      await page.getByLabel("New network name").fill("short-lived");
      await page.getByRole("button", { name: "Create network" }).click();
      await page.getByRole("heading", { name: /short-lived/ }).waitFor();
      const tmp = /#\/network\/([0-9a-f]{16})$/.exec(page.url())?.[1] ?? "";
      await page.getByRole("link", { name: "← Networks" }).click();
      await page.locator("tr", { hasText: nwid }).filter({ hasText: "e2e-ui" }).waitFor();
      // the confirmation takes the focus; Escape cancels it
      await page.getByRole("button", { name: `Delete network ${tmp}` }).click();
      const confirmTmp = page.getByRole("alertdialog", { name: `Confirm deleting ${tmp}` });
      await confirmTmp.waitFor();
      // it takes the focus once rendered (an effect after paint): wait for that, then Escape
      await page.waitForFunction(
        `document.activeElement?.closest('[role="alertdialog"]') != null`,
        undefined,
        { timeout: 10_000 },
      );
      await page.keyboard.press("Escape");
      await confirmTmp.waitFor({ state: "detached" });
      await page.getByRole("button", { name: `Delete network ${tmp}` }).click();
      await shot("networks");
      await page.getByRole("alertdialog", { name: `Confirm deleting ${tmp}` })
        .getByRole("button", { name: "Yes, delete" }).click();
      await page.locator("tr", { hasText: tmp }).waitFor({ state: "detached" });
      assert.equal((await apiCall(ctl, "GET", `/controller/network/${tmp}`)).status, 404);
      assert.equal(await page.locator("tr", { hasText: nwid }).count(), 1);
      assert.deepEqual(await unnamedControls(page), []);
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${base}#/network/${nwid}`);
      await page.getByRole("heading", { name: /e2e-ui/ }).waitFor();
      await page.getByText(/Compiles: 4 rules/).waitFor();
      await shot("network-phone");
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(`${base}#/node`);
      await page.getByRole("heading", { name: "Traffic" }).waitFor();
      await page.locator("figure.chart").first().waitFor({ timeout: 15_000 });
      await shot("node-traffic");
      await page.getByLabel("Show").selectOption("packets");
      await page.getByText("Peers (packets/s)").waitFor();
      // honours prefers-color-scheme
      const bg = () => page.evaluate("getComputedStyle(document.body).backgroundColor");
      const light = await bg();
      await page.emulateMedia({ colorScheme: "dark" });
      const dark = await bg();
      assert.notEqual(dark, light);
      const lum = (c: unknown) =>
        String(c).match(/\d+/g)!.slice(0, 3).map(Number).reduce((a, b) => a + b, 0);
      assert.ok(lum(dark) < lum(light), `dark background ${dark} vs light ${light}`);
      await shot("node-dark");
      await page.emulateMedia({ colorScheme: "light" });

      // signing out forgets the token: the next visit asks again
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByLabel("Auth token").waitFor();
      assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      assert.deepEqual(pageErrors, [], "no script errors or CSP violations in the page");
      console.log(`web UI screenshots in ${shots}`);
    } finally {
      await ctx.close();
    }
  },
);

/** Underlay addresses of the remote-access test: open node, locked node, UI-off node, browser. */
const OPEN_IP = "198.18.0.5";
const LOCKED_IP = "198.18.0.6";
const OFF_IP = "198.18.0.8";
const BROWSER_IP = "198.18.0.7";
/** The HTTPS port of the open node. */
const TLS_PORT = 9443;

/** Starts `zt run` in `ns` with extra local.conf settings and files in its home. */
function startWith(
  lab: Lab,
  name: string,
  ns: string,
  id: Awaited<ReturnType<typeof labWorld>>["ids"][number],
  planet: Uint8Array,
  settings: Record<string, unknown>,
  files: Record<string, string> = {},
): ZtNode {
  const home = lab.path(name);
  const token = `tok-${name}-${id.address}`;
  prepareHome(home, id, planet, token);
  const conf = JSON.parse(Deno.readTextFileSync(`${home}/local.conf`));
  Object.assign(conf.settings, settings);
  Deno.writeTextFileSync(`${home}/local.conf`, JSON.stringify(conf, null, 2));
  for (const [f, text] of Object.entries(files)) Deno.writeTextFileSync(`${home}/${f}`, text);
  return new ZtNode(lab, { name, ns, home, id, token, runner: "zt-run" });
}

/** The HTTP status of a GET from `ns` (0: no HTTP answer). */
async function statusFrom(ns: string, url: string): Promise<number> {
  const r = await exec(ns, [
    "curl",
    "-sk",
    "-o",
    "/dev/null",
    "--max-time",
    "3",
    "-w",
    "%{http_code}",
    url,
  ], {
    check: false,
    timeoutMs: 6000,
  });
  return Number(r.stdout) || 0;
}

Deno.test({
  name:
    "e2e web UI from another host: reachable exactly where allowManagementFrom opens the API, over HTTP and HTTPS; webUi false turns it off",
  ignore: SKIP !== undefined,
  fn: async () => {
    const world = await labWorld();
    const tlsDir = new URL("../service/tls/", import.meta.url).pathname;
    await withLab(async (lab) => {
      const [open, locked, off, browserHost] = await Promise.all([
        lab.addHost("open", OPEN_IP),
        lab.addHost("locked", LOCKED_IP),
        lab.addHost("off", OFF_IP),
        lab.addHost("browser", BROWSER_IP),
      ]);
      const allow = { allowManagementFrom: [`${BROWSER_IP}/32`] };
      const nodes = [
        startWith(lab, "open", open.ns, world.ids[0], world.planet, {
          ...allow,
          webUiTlsPort: TLS_PORT,
        }, {
          "webui.crt": Deno.readTextFileSync(`${tlsDir}cert.pem`),
          "webui.key": Deno.readTextFileSync(`${tlsDir}key.pem`),
        }),
        startWith(lab, "locked", locked.ns, world.ids[1], world.planet, {}),
        startWith(lab, "off", off.ns, world.ids[2], world.planet, { ...allow, webUi: false }),
      ];
      const [nOpen] = nodes;
      await explainFailure(nodes, async () => {
        const ui = (ip: string, scheme = "http", port = ZT_PORT) => `${scheme}://${ip}:${port}/ui/`;
        await waitFor(
          "the open node's UI",
          20_000,
          async () => (await statusFrom(browserHost.ns, ui(OPEN_IP))) === 200,
        );
        await waitFor(
          "the UI-off node's API",
          20_000,
          async () =>
            (await statusFrom(browserHost.ns, `http://${OFF_IP}:${ZT_PORT}/health`)) === 200,
        );
        assert.equal(await statusFrom(browserHost.ns, ui(OFF_IP)), 404, "webUi false");
        await waitFor(
          "the locked node's API on loopback",
          20_000,
          async () => (await statusFrom(locked.ns, `http://127.0.0.1:${ZT_PORT}/health`)) === 200,
        );
        assert.equal(await statusFrom(browserHost.ns, ui(LOCKED_IP)), 0, "no API, no UI");
        // from the open node's own loopback the UI works too; HTTPS answers from the browser host
        assert.equal(await statusFrom(open.ns, ui("127.0.0.1")), 200);
        assert.equal(await statusFrom(browserHost.ns, ui(OPEN_IP, "https", TLS_PORT)), 200);

        const ctx = await launchInNamespace(browserHost.ns, lab.path("browser-remote"));
        try {
          for (const url of [ui(OPEN_IP), ui(OPEN_IP, "https", TLS_PORT)]) {
            const page = await ctx.newPage();
            page.setDefaultTimeout(15_000);
            await gotoSettled(page, url);
            await page.getByLabel("Auth token").fill(nOpen.token);
            await page.getByRole("button", { name: "Sign in" }).click();
            await page.getByTestId("node-address").filter({ hasText: nOpen.address }).waitFor();
            await page.close();
          }
        } finally {
          await ctx.close();
        }
      });
    });
  },
});

Deno.test({
  name:
    "e2e web UI (reference): an official ZeroTier One 1.14.1 member appears live as waiting and is authorized with its switch",
  ignore: SKIP !== undefined || REFERENCE === undefined,
  fn: async () => {
    await withLab(async (lab) => {
      const v = await startVl2Lab(lab, []);
      const w = await vl2World();
      const host = await lab.addHost("c", MEMBER_IPS.c);
      const ref = startReferenceNode(lab, REFERENCE!, host.ns, w.ids.c, w.planet);
      v.all.push(ref);
      await explainFailure(v.all, async () => {
        await ref.waitOnline(30_000);
        const { ctl } = v;
        const nwid = (await api200(ctl, "POST", `/controller/network/${ctl.address}______`, {
          name: "ui-ref",
          private: true,
          v4AssignMode: { zt: true },
          ipAssignmentPools: [{ ipRangeStart: "198.19.0.10", ipRangeEnd: "198.19.0.250" }],
          routes: [{ target: "198.19.0.0/24", via: null }],
        })).id as string;
        const ctx = await launchInNamespace(ctl.ns, lab.path("browser-ref"));
        try {
          const page = await ctx.newPage();
          page.setDefaultTimeout(15_000);
          await page.goto(`http://127.0.0.1:${ZT_PORT}/ui/#/network/${nwid}`);
          await page.getByLabel("Auth token").fill(ctl.token);
          await page.getByRole("button", { name: "Sign in" }).click();
          await page.getByTestId("node-address").filter({ hasText: ctl.address }).or(
            page.getByRole("heading", { name: /ui-ref/ }),
          ).first().waitFor();
          await page.goto(`http://127.0.0.1:${ZT_PORT}/ui/#/network/${nwid}`);
          await page.getByRole("heading", { name: /ui-ref/ }).waitFor();
          const t0 = Date.now();
          const joined = await apiCall(ref, "POST", `/network/${nwid}`, {});
          assert.equal(joined.status, 200);
          const row = memberRow(page, ref.address);
          await row.filter({ hasText: "waiting" }).waitFor({ timeout: 10_000 });
          console.log(`web UI (reference): shown as waiting ${Date.now() - t0} ms after its join`);
          await page.getByRole("switch", { name: `Authorize ${ref.address}` }).click();
          await row.filter({ hasText: "authorized" }).waitFor();
          const st = await waitStatus(ref, nwid, "OK", 30_000, (n) => n.portDeviceName !== "");
          const ip = (st.assignedAddresses as string[]).find((a) => a.startsWith("198.19.0."));
          assert.ok(ip, `the reference member got a pool address: ${JSON.stringify(st)}`);
          // its IP (an editable field) and its physical address show in its row
          await waitFor(
            "the reference member's IP in the UI",
            10_000,
            async () =>
              (await page.getByLabel(`IPs of ${ref.address}`).inputValue()).includes(
                ip.split("/")[0],
              ),
          );
          await row.filter({ hasText: "online" }).waitFor();
          await row.filter({ hasText: `${MEMBER_IPS.c}/` }).waitFor();
          await page.screenshot({
            path: `${screenshotDir()}/reference-member.png`,
            fullPage: true,
          });
        } finally {
          await ctx.close();
        }
      });
    });
  },
});
