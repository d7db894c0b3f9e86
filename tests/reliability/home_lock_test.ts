// The home lock: a second node on a home in use exits at once naming the holder's pid (also with -d); a lock left by kill -9 is free again; sweeps wait for the lock.
import assert from "node:assert/strict";
import { HomeLock, HomeLockedError } from "../../src/service/home_lock.ts";
import { api, CLI, kill9Pid, makeLabHome, sleep, spawnZt, until, waitUp } from "./ops_lab.ts";

Deno.test("home lock in one process: flock per open file, free again after release", () => {
  const home = Deno.makeTempDirSync({ prefix: "zt-rel-lock-" });
  try {
    const a = HomeLock.acquire(home);
    assert.equal(Deno.readTextFileSync(`${home}/zerotier-one.pid`), String(Deno.pid));
    assert.throws(
      () => HomeLock.acquire(home),
      (e: unknown) =>
        e instanceof HomeLockedError && e.pid === Deno.pid &&
        e.message.includes(`pid ${Deno.pid} holds the lock`),
    );
    assert.throws(() => HomeLock.check(home), HomeLockedError);
    // the sweep runs for the holder only
    Deno.writeTextFileSync(`${home}/identity.public.tmp-1-1`, "partial");
    assert.equal(a.sweepTemps(), 1);
    a.release();
    assert.throws(() => Deno.statSync(`${home}/zerotier-one.pid`), Deno.errors.NotFound);
    assert.throws(() => a.sweepTemps(), /not held/);
    HomeLock.check(home);
    const b = HomeLock.acquire(home);
    b.release();
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("zt run: a second node on a home in use exits non-zero at once naming the pid; after kill -9 a new one starts", async () => {
  const h = makeLabHome("zt-rel-lock-");
  const started: number[] = [];
  try {
    const a = spawnZt(h.home);
    started.push(a.pid);
    await waitUp(a, h.port);
    assert.equal(Deno.readTextFileSync(`${h.home}/zerotier-one.pid`), String(a.pid));
    const portFile = Deno.readTextFileSync(`${h.home}/zerotier-one.port`);
    // a crash leftover: only the lock holder may sweep it
    const tmp = `${h.home}/peers.d.tmp-4242-1`;
    Deno.writeTextFileSync(tmp, "partial");

    // a second node on another port, same home: refused before it touches anything
    const b = spawnZt(h.home, ["-p", "0"]);
    const rb = await Promise.race([b.done, sleep(10000).then(() => undefined)]);
    if (!rb) b.kill9();
    assert.ok(rb, "the second node did not exit within 10 s");
    assert.equal(rb.code, 1, rb.stderr);
    assert.match(rb.stderr, new RegExp(`in use by another node \\(pid ${a.pid} holds the lock`));
    assert.equal(Deno.readTextFileSync(`${h.home}/zerotier-one.pid`), String(a.pid));
    assert.equal(Deno.readTextFileSync(`${h.home}/zerotier-one.port`), portFile);
    assert.equal(Deno.readTextFileSync(tmp), "partial", "a refused node must not sweep");
    assert.equal((await api(h.port, "GET", "/status")).status, 200, "the first still serves");

    // -d checks in the foreground too
    const d = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "run", "-d", h.home],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(d.code, 1);
    assert.match(new TextDecoder().decode(d.stderr), new RegExp(`pid ${a.pid} holds the lock`));

    // kill -9: the kernel drops the flock, the stale pid file does not block
    a.kill9();
    await a.done;
    assert.equal(Deno.readTextFileSync(`${h.home}/zerotier-one.pid`), String(a.pid));
    const c = spawnZt(h.home);
    started.push(c.pid);
    await waitUp(c, h.port);
    assert.equal(Deno.readTextFileSync(`${h.home}/zerotier-one.pid`), String(c.pid));
    assert.throws(() => Deno.statSync(tmp), Deno.errors.NotFound, "the holder sweeps");
    c.child.kill("SIGTERM");
    const rc = await c.done;
    assert.equal(rc.code, 0, rc.stderr);
    assert.throws(() => Deno.statSync(`${h.home}/zerotier-one.pid`), Deno.errors.NotFound);

    // zt run -d: the detached child takes the lock itself
    const dd = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "run", "-d", h.home],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(dd.code, 0, new TextDecoder().decode(dd.stderr));
    const daemonPid = Number(new TextDecoder().decode(dd.stdout).trim());
    started.push(daemonPid);
    assert.ok(daemonPid > 0);
    const locked = await until(() => {
      try {
        return Deno.readTextFileSync(`${h.home}/zerotier-one.pid`) === String(daemonPid);
      } catch {
        return false;
      }
    });
    assert.ok(locked, "the daemon did not take the lock");
    const e = spawnZt(h.home, ["-p", "0"]);
    const re = await Promise.race([e.done, sleep(10000).then(() => undefined)]);
    if (!re) e.kill9();
    assert.ok(re, "the node beside the daemon did not exit within 10 s");
    assert.equal(re.code, 1);
    assert.match(re.stderr, new RegExp(`pid ${daemonPid} holds the lock`));
  } finally {
    for (const pid of started) kill9Pid(pid);
    await sleep(100);
    h.remove();
  }
});
