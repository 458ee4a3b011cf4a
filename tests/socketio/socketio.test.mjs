// The Socket.IO transport, with the real socket.io-client, against the
// server tests/socketio.rs started (it passes the address, the stream and
// the users' session cookies in the environment). A raw WebSocket viewer
// (the `ws` package) shares the room, so both transports are seen to meet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import WebSocket from "ws";

const URL = process.env.STAMPEDE_URL; // http://127.0.0.1:PORT, the tenant's host
const STREAM = Number(process.env.STAMPEDE_STREAM);
const COOKIES = JSON.parse(process.env.STAMPEDE_COOKIES); // {username: "sessionid=…"}
const ROOM = `stream_${STREAM}`;
const WAIT_MS = 10_000;

/** A Socket.IO client of `user` (or anonymous), not yet connected. */
function sio(user, { transports = ["websocket"], origin = URL } = {}) {
  const extraHeaders = { origin };
  if (user) extraHeaders.cookie = COOKIES[user];
  return io(URL, { transports, extraHeaders, reconnection: false, forceNew: true });
}

/** Resolves with the first `event` whose data satisfies `pred`. */
function next(socket, event, pred = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${WAIT_MS} ms`)), WAIT_MS);
    const on = (data) => {
      if (!pred(data)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(data);
    };
    socket.on(event, on);
  });
}

/** Connects and joins the stream's room; resolves with the join's answer. */
async function joined(socket, request = ROOM) {
  await next(socket, "connect");
  return socket.timeout(WAIT_MS).emitWithAck("join", request);
}

/** A raw WebSocket viewer of `user`, open, with a queue of its frames. */
async function rawViewer(user) {
  const ws = new WebSocket(`${URL.replace("http", "ws")}/ws/chat/${ROOM}/`, {
    headers: { cookie: COOKIES[user], origin: URL },
  });
  const frames = [];
  const waiters = [];
  ws.on("message", (data) => {
    frames.push(JSON.parse(data.toString()));
    waiters.splice(0).forEach((wake) => wake());
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return {
    ws,
    send: (frame) => ws.send(JSON.stringify(frame)),
    /** The first frame (from now on, in order) that satisfies `pred`. */
    async next(pred) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const i = frames.findIndex(pred);
        if (i >= 0) return frames.splice(0, i + 1).pop();
        frames.length = 0;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error("no such frame on the raw WebSocket");
        await new Promise((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, left);
        });
      }
    },
  };
}

const isLine = (text) => (f) =>
  f.type === "chat.message" && f.message === text && f.history === undefined;

test("a Socket.IO client and a raw WebSocket viewer chat and react in one room", async () => {
  const bob = await rawViewer("bob");
  const alice = sio("alice");
  try {
    assert.deepEqual(await joined(alice), { ok: true });

    const echo = next(alice, "chat.message", (f) => f.client_id === "sio-1");
    alice.emit("message", { message: "hello <from> socket.io", client_id: "sio-1" });
    const mine = await echo;
    assert.equal(mine.username, "alice");
    assert.equal(mine.message, "hello &lt;from&gt; socket.io");
    assert.equal(typeof mine.offset, "number");
    const seen = await bob.next(isLine("hello &lt;from&gt; socket.io"));
    assert.equal(seen.id, mine.id);

    const heard = next(alice, "chat.message", (f) => f.message === "hello from ws");
    bob.send({ message: "hello from ws" });
    assert.equal((await heard).username, "bob");

    // The text alone is a chat line too.
    alice.emit("message", "just text");
    await bob.next(isLine("just text"));

    const stamps = await (await fetch(`${URL}/api/stamps`, { headers: { cookie: COOKIES.alice } })).json();
    const stampId = stamps.stamps[0]?.id;
    assert.equal(typeof stampId, "number", JSON.stringify(stamps));
    alice.emit("reaction", { stamp_id: stampId });
    const reaction = await bob.next((f) => f.type === "reaction" || f.type === "reaction.burst");
    if (reaction.type === "reaction") assert.equal(reaction.username, "alice");
    else assert.ok(reaction.counts[String(stampId)] >= 1);
  } finally {
    alice.close();
    bob.ws.close();
  }
});

test("long-polling works where WebSockets are blocked", async () => {
  const bob = await rawViewer("bob");
  const alice = sio("alice", { transports: ["polling"] });
  try {
    assert.deepEqual(await joined(alice), { ok: true });
    assert.equal(alice.io.engine.transport.name, "polling");
    alice.emit("chat.message", { message: "over polling" });
    await bob.next(isLine("over polling"));
    const heard = next(alice, "chat.message", (f) => f.message === "polled back");
    bob.send({ message: "polled back" });
    await heard;
  } finally {
    alice.close();
    bob.ws.close();
  }
});

test("refusals are specific and the connection survives them", async () => {
  const anonymous = sio(null);
  const refused = await next(anonymous, "connect_error");
  assert.equal(refused.message, "unauthorized");
  anonymous.close();

  const foreign = sio("alice", { origin: "http://evil.example" });
  assert.equal((await next(foreign, "connect_error")).message, "bad_origin");
  foreign.close();

  const alice = sio("alice");
  try {
    await next(alice, "connect");
    const early = next(alice, "error");
    alice.emit("message", { message: "no room yet" });
    assert.equal((await early).code, "not_found");
    const nowhere = await alice.timeout(WAIT_MS).emitWithAck("join", "stream_999999");
    assert.equal(nowhere.ok, false);
    assert.equal(nowhere.error, "not_found");
    const garbled = await alice.timeout(WAIT_MS).emitWithAck("join", 42);
    assert.equal(garbled.error, "bad_json");

    assert.deepEqual(await alice.timeout(WAIT_MS).emitWithAck("join", { room: ROOM }), { ok: true });
    let error = next(alice, "error");
    alice.emit("message", { message: "x".repeat(501) });
    assert.equal((await error).code, "too_long");
    error = next(alice, "error");
    alice.emit("reaction", 7);
    assert.equal((await error).code, "bad_json");
    error = next(alice, "error");
    alice.emit("reaction", { stamp_id: 999999 });
    assert.equal((await error).code, "unknown_stamp");
    error = next(alice, "error");
    alice.emit("chat.pin", { id: 1 });
    assert.equal((await error).code, "forbidden");
    const fine = next(alice, "chat.message", (f) => f.message === "still here");
    alice.emit("message", { message: "still here" });
    await fine;
  } finally {
    alice.close();
  }
});

test("a banned user's room closes with 4403; a read-only join still reads", async () => {
  const mo = await rawViewer("mo");
  const carol = sio("carol");
  try {
    assert.deepEqual(await joined(carol), { ok: true });
    const banned = next(carol, "error", (f) => f.code === "banned");
    const closed = next(carol, "close");
    mo.send({ type: "ban", username: "carol", reason: "spam" });
    assert.equal((await banned).reason, "spam");
    assert.deepEqual(await closed, { code: 4403, reason: "banned" });
    assert.ok(carol.connected, "the Socket.IO connection stays");

    const again = await carol.timeout(WAIT_MS).emitWithAck("join", ROOM);
    assert.equal(again.ok, false);
    assert.equal(again.error, "banned");
    assert.deepEqual(await carol.timeout(WAIT_MS).emitWithAck("join", { room: ROOM, read_only: true }), { ok: true });
    const line = next(carol, "chat.message", (f) => f.message === "you can still read");
    mo.send({ message: "you can still read" });
    await line;
    const refused = next(carol, "error");
    carol.emit("message", { message: "let me speak" });
    assert.equal((await refused).code, "read_only");
  } finally {
    carol.close();
    mo.ws.close();
  }
});

test("a join resumes from an offset and epoch", async () => {
  const bob = await rawViewer("bob");
  const alice = sio("alice");
  try {
    assert.deepEqual(await joined(alice), { ok: true });
    const first = next(alice, "chat.message", (f) => f.message === "before the gap");
    bob.send({ message: "before the gap" });
    const { offset, epoch } = await first;
    assert.deepEqual(await alice.timeout(WAIT_MS).emitWithAck("leave"), { ok: true });
    bob.send({ message: "missed one" });
    await bob.next(isLine("missed one"));
    const missed = next(alice, "chat.message", (f) => f.message === "missed one");
    const recovered = next(alice, "recovered");
    const answer = await alice.timeout(WAIT_MS).emitWithAck("join", { room: ROOM, since_offset: offset, epoch });
    assert.deepEqual(answer, { ok: true });
    assert.equal((await missed).history, undefined);
    assert.equal((await recovered).recovered, true);
  } finally {
    alice.close();
    bob.ws.close();
  }
});
