// What the client does after each close code, and its resends and ping
// watchdog, driven through a scripted WebSocket (the real-server tests
// cover the paths a real server can be made to take on demand).
import assert from "node:assert/strict";
import { test } from "node:test";
import { client } from "./support/load.mjs";
import { next, sleep, until } from "./support/events.mjs";

/** A WebSocket whose server side the test plays. */
class FakeSocket {
  static made = [];
  readyState = 0;
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;
  sent = [];
  listeners = {};
  constructor(url, _protocols, options) {
    this.url = url;
    this.headers = options?.headers;
    FakeSocket.made.push(this);
  }
  on(event, listener) {
    this.listeners[event] = listener;
  }
  send(data) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1005, reason = "") {
    this.drop(code, reason);
  }
  terminate() {
    this.drop(1006, "");
  }
  // The server's side.
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(value) {
    this.onmessage?.({ data: JSON.stringify(value) });
  }
  drop(code, reason = "") {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

function fakeClient(options = {}) {
  FakeSocket.made = [];
  return client.connect({
    url: "http://acme.example:8000",
    streamId: 7,
    WebSocket: FakeSocket,
    cookie: "sessionid=abc",
    // The handshake-refusal check finds nothing wrong.
    fetch: async () => ({ status: 200, ok: true, json: async () => ({ status: "live", ban: null }), headers: new Headers() }),
    reconnect: { minDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
}

const latest = () => FakeSocket.made.at(-1);
const line = (id, offset, extra = {}) => ({
  type: "chat.message", id, offset, epoch: "e1", username: "bob", message: `line ${id}`,
  message_type: "message", timestamp: "2026-12-03T10:00:00Z", ...extra,
});

test("the socket URL, Cookie and Origin", () => {
  const c = fakeClient();
  assert.equal(latest().url, "ws://acme.example:8000/ws/chat/stream_7/");
  assert.deepEqual(latest().headers, { Origin: "http://acme.example:8000", Cookie: "sessionid=abc" });
  c.close();
});

for (const code of [4408, 1001, 1006, 1011]) {
  test(`close ${code} reconnects and resumes from the last offset`, async () => {
    const c = fakeClient();
    latest().open();
    latest().frame(line(1, 41));
    const closed = next(c, "close");
    latest().drop(code);
    assert.equal((await closed).willReconnect, true);
    await until(() => FakeSocket.made.length === 2, "a new socket");
    assert.equal(latest().url, "ws://acme.example:8000/ws/chat/stream_7/?since_offset=41&epoch=e1");
    c.close();
  });
}

for (const [code, before] of [[4403, null], [4401, null], [1000, { type: "stream.ended" }], [1000, null]]) {
  test(`close ${code}${before ? " after stream.ended" : ""} stops`, async () => {
    const c = fakeClient();
    latest().open();
    if (before) latest().frame(before);
    const closed = next(c, "close");
    latest().drop(code);
    assert.equal((await closed).willReconnect, false);
    assert.equal(c.status, "closed");
    await sleep(50);
    assert.equal(FakeSocket.made.length, 1, "no new socket");
  });
}

test("a refused handshake for an ended stream stops with 4404", async () => {
  const c = fakeClient({
    fetch: async (url) => ({
      status: url.endsWith("/api/session") ? 200 : 404,
      ok: url.endsWith("/api/session"),
      json: async () => ({}),
      headers: new Headers(),
    }),
  });
  latest().drop(1006);
  const info = await next(c, "close");
  assert.deepEqual([info.code, info.refused, info.willReconnect], [4404, true, false]);
});

test("unanswered lines are resent with the same client_id; lines are delivered once", async () => {
  const c = fakeClient();
  const delivered = [];
  c.on("message", (m) => delivered.push(m.id));
  latest().open();
  const id = c.send("hello", { replyTo: 3 });
  assert.deepEqual(latest().sent, [{ message: "hello", client_id: id, reply_to: 3 }]);
  latest().frame(line(1, 1));
  latest().drop(1006);
  await until(() => FakeSocket.made.length === 2, "a new socket");
  latest().open();
  assert.deepEqual(latest().sent, [{ message: "hello", client_id: id, reply_to: 3 }]);
  // The resume could not be served: history again, then the echo.
  latest().frame({ type: "recovered", recovered: false });
  latest().frame(line(1, null, { history: true, offset: undefined, epoch: undefined }));
  latest().frame(line(2, 5, { client_id: id, username: "me" }));
  latest().frame(line(2, 5, { client_id: id, username: "me" }));
  assert.deepEqual(delivered, [1, 2]);
  assert.deepEqual(c.pending, []);
  assert.deepEqual(c.position, { offset: 5, epoch: "e1" });
  c.close();
});

test("a socket without pings for pingTimeoutMs is dropped and reconnected", async () => {
  const c = fakeClient({ pingTimeoutMs: 60 });
  latest().open();
  await sleep(40);
  latest().listeners.ping();
  await sleep(40);
  assert.equal(FakeSocket.made.length, 1, "a ping kept it");
  const closed = await next(c, "close");
  assert.equal(closed.code, 1006);
  assert.equal(closed.willReconnect, true);
  c.close();
});

test("reconnect delays double with jitter up to the cap", async () => {
  const c = fakeClient({ reconnect: { minDelayMs: 100, maxDelayMs: 400 } });
  const delays = [];
  c.on("close", (info) => delays.push(info.delayMs));
  // Attempts that never open do not reset the backoff.
  for (let made = 1; made <= 4; made += 1) {
    await until(() => FakeSocket.made.length === made, "the next attempt", 2000);
    latest().drop(1006);
  }
  await until(() => delays.length === 4, "four delays", 2000);
  c.close();
  [100, 200, 400, 400].forEach((base, i) => {
    assert.ok(delays[i] >= base / 2 && delays[i] <= base, `${delays}`);
  });
});

test("the browser bundle works in a page: window.StampedeClient, the page's own cookies", async () => {
  const { readFileSync } = await import("node:fs");
  const vm = await import("node:vm");
  const { bundlePath } = await import("../scripts/bundle.mjs");
  FakeSocket.made = [];
  const page = { document: {}, WebSocket: FakeSocket, URL, URLSearchParams, crypto, setTimeout, clearTimeout };
  page.window = page;
  vm.createContext(page);
  vm.runInContext(readFileSync(bundlePath, "utf8"), page);
  const chat = page.window.StampedeClient.connect({ url: "https://acme.example", streamId: 3 });
  const socket = FakeSocket.made[0];
  assert.equal(socket.url, "wss://acme.example/ws/chat/stream_3/");
  assert.equal(socket.headers, undefined, "a page sends no headers of its own");
  socket.open();
  const id = chat.send("hi");
  assert.deepEqual(socket.sent, [{ message: "hi", client_id: id }]);
  chat.close();
});
