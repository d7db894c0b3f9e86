// The web admin UI's entry: sign-in with the node's auth token, the page shell and hash routing.
/// <reference lib="dom" />
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import {
  api,
  getToken,
  setToken,
  setUnauthorizedHandler,
  startEvents,
  stopEvents,
  streamState,
} from "./api.ts";
import { html } from "./html.ts";
import { NodePage } from "./node_page.ts";
import { NetworksPage } from "./networks_page.ts";
import { NetworkPage } from "./network_page.ts";

/** The current hash route (`#/node`, `#/networks`, `#/network/<id>`). */
function useRoute(): string {
  const [r, setR] = useState(location.hash.slice(1) || "/node");
  useEffect(() => {
    const f = () => setR(location.hash.slice(1) || "/node");
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return r;
}

/** The sign-in form: the token is checked against GET /status before it is kept. */
function SignIn(props: { onSignedIn: () => void; notice: string }) {
  const [token, setTok] = useState("");
  const [error, setError] = useState(props.notice);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      await api("GET", "/status", undefined, token.trim());
      setToken(token.trim());
      props.onSignedIn();
    } catch (err) {
      setError(
        (err as { status?: number }).status === 401
          ? "The node refused this token."
          : `Cannot reach the node: ${(err as Error).message}`,
      );
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main class="signin">
      <h1>zt admin</h1>
      <form onSubmit=${submit}>
        <label for="token">Auth token</label>
        <input id="token" type="password" autocomplete="current-password" required
          value=${token} onInput=${(e: Event) => setTok((e.target as HTMLInputElement).value)} />
        <p class="hint">The node's <code>authtoken.secret</code> (in its home directory). It is kept
          for this browser session only.</p>
        <button type="submit" disabled=${busy}>Sign in</button>
        ${error && html`<p role="alert" class="error">${error}</p>`}
      </form>
    </main>
  `;
}

/** The signed-in shell: navigation, live indicator, the routed page. */
function Shell(props: { onSignOut: () => void }) {
  const route = useRoute();
  const [live, setLive] = useState(streamState.connected);
  useEffect(() => {
    streamState.onChange = setLive;
    startEvents();
    return () => stopEvents();
  }, []);
  let page;
  const m = /^\/network\/([0-9a-f]{16})$/.exec(route);
  if (m) page = html`<${NetworkPage} nwid=${m[1]} />`;
  else if (route === "/networks") page = html`<${NetworksPage} />`;
  else page = html`<${NodePage} />`;
  const link = (href: string, label: string, on: boolean) =>
    html`<a href=${href} aria-current=${on ? "page" : undefined}>${label}</a>`;
  return html`
    <header>
      <span class="brand">zt</span>
      <nav aria-label="Main">
        ${link("#/node", "Node", route === "/node")}
        ${link("#/networks", "Networks", route.startsWith("/network"))}
      </nav>
      <span class=${live ? "live on" : "live"} role="status" aria-live="polite">
        ${live ? "live" : "offline"}</span>
      <button type="button" class="secondary" onClick=${props.onSignOut}>Sign out</button>
    </header>
    <main>${page}</main>
  `;
}

function App() {
  const [signedIn, setSignedIn] = useState(getToken() !== null);
  const [notice, setNotice] = useState("");
  useEffect(() => {
    setUnauthorizedHandler(() => {
      setToken(null);
      stopEvents();
      setNotice("The node refused the token; sign in again.");
      setSignedIn(false);
    });
  }, []);
  const signOut = () => {
    setToken(null);
    stopEvents();
    setNotice("");
    setSignedIn(false);
  };
  return signedIn
    ? html`<${Shell} onSignOut=${signOut} />`
    : html`<${SignIn} notice=${notice} onSignedIn=${() => setSignedIn(true)} />`;
}

render(html`<${App} />`, document.getElementById("app")!);
