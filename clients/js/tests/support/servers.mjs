// Real `stampede serve` processes for the tests, on the database, Redis and
// fixtures that tests/js_client.rs prepared (STAMPEDE_JS_FIXTURES). Run
// through `cargo test --test js_client`; plain `npm test` skips these tests
// and says why.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import WebSocket from "ws";
import { client } from "./load.mjs";
import { until } from "./events.mjs";

const raw = process.env.STAMPEDE_JS_FIXTURES;

/** The fixtures, or null outside the Rust harness. */
export const fixtures = raw ? JSON.parse(raw) : null;

/** Options for `test()`: skipped, with the reason, without fixtures. */
export const needsServer = fixtures
  ? {}
  : { skip: "needs real servers: run `cargo test --test js_client` from the repository root" };

const running = new Set();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** A port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The tenant's origin on `port`. */
export const originAt = (port) => `http://${fixtures.host}:${port}`;

/**
 * Starts `stampede serve` on `port` and waits for /health. `redis: false`
 * runs it without the channel layer (no event log: nothing to resume from).
 */
export async function startNode({ port, redis = true } = {}) {
  port ??= await freePort();
  const env = { ...process.env, DATABASE_URL: fixtures.databaseUrl, STAMPEDE_LOG: "warn" };
  if (redis) env.REDIS_URL = fixtures.redisUrl;
  else delete env.REDIS_URL;
  const child = spawn(
    fixtures.bin,
    ["serve", "--bind", `127.0.0.1:${port}`, "--chat-rate-limit", "100000"],
    { env, stdio: ["ignore", "ignore", "inherit"] },
  );
  running.add(child);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  exited.then(() => running.delete(child));
  const origin = originAt(port);
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`stampede serve exited with ${child.exitCode}`);
    const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
    if (!res || res.status !== 200) return false;
    if (!redis) return true;
    const health = await res.json();
    return health.channel_layer === "connected";
  }, `stampede serve on ${port} to come up`, 30_000);
  return {
    port,
    origin,
    /** SIGKILL: a crash, no goodbyes; resolves once it is gone. */
    async crash() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Logs a fixture user in on `origin`; the session cookie. */
export function cookieOf(origin, username) {
  const password = fixtures.users[username].password;
  return client.login({ url: origin, username, password });
}

/** A client of the fixture stream `stream` as `username`. */
export async function chatAs(username, stream, { url, loginAt, ...options }) {
  loginAt ??= typeof url === "function" ? url(0) : Array.isArray(url) ? url[0] : url;
  return client.connect({
    url,
    streamId: fixtures.streams[stream],
    WebSocket,
    cookie: await cookieOf(loginAt, username),
    reconnect: { minDelayMs: 50, maxDelayMs: 400 },
    ...options,
  });
}
