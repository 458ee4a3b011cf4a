// The server drops the socket (its process is SIGKILLed and started again
// on the same port and Redis): the client reconnects, resumes from its last
// offset/epoch, gets exactly what it missed, resends its unanswered line
// with the same client_id, and delivers no line twice.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { next, ready, record, until } from "./support/events.mjs";
import { chatAs, freePort, needsServer, originAt, startNode } from "./support/servers.mjs";

const clients = [];
let node;

after(async () => {
  for (const c of clients) c.close();
  await node?.crash();
});

test("a client resumes after the server drops its socket", needsServer, async () => {
  node = await startNode();
  // Alice's reconnects go nowhere until `reachable`: the gap in which she
  // misses lines, whatever the machine's speed.
  let reachable = true;
  const nowhere = originAt(await freePort());
  const alice = await chatAs("alice", "resume", { url: () => (reachable ? node.origin : nowhere) });
  const bob = await chatAs("bob", "resume", { url: node.origin });
  clients.push(alice, bob);
  await Promise.all([ready(alice), ready(bob)]);
  const lines = record(alice, "message");
  const opens = record(alice, "open");
  const recovered = record(alice, "recovered");

  const first = next(alice, "message", (m) => m.message === "before the crash");
  bob.send("before the crash");
  await first;
  const position = alice.position;
  assert.equal(typeof position.offset, "number");

  reachable = false;
  const dropped = next(alice, "close");
  await node.crash();
  const info = await dropped;
  assert.equal(info.willReconnect, true, `close ${info.code} should reconnect`);
  assert.equal(alice.status, "reconnecting");
  // Typed while disconnected: held until a socket opens.
  const waiting = alice.send("typed while away");
  assert.deepEqual(alice.pending.map((p) => p.clientId), [waiting]);

  node = await startNode({ port: node.port });
  // Bob (reconnecting on his own) says two things alice is not there for.
  for (const text of ["missed one", "missed two"]) {
    const echo = next(bob, "message", (m) => m.message === text);
    await until(() => bob.status === "open", "bob reconnected");
    bob.send(text);
    await echo;
  }

  const resumed = next(alice, "open");
  const ownEcho = next(alice, "message", (m) => m.client_id === waiting);
  const heardByBob = next(bob, "message", (m) => m.client_id === waiting);
  reachable = true;
  assert.equal((await resumed).resumed, true);
  await ownEcho;
  await heardByBob;
  await until(() => lines.some((m) => m.message === "missed two"), "the missed lines");

  assert.deepEqual(recovered.map((r) => r.recovered), [true]);
  assert.equal(opens.length, 1);
  const texts = lines.filter((m) => m.message_type === "message").map((m) => m.message);
  assert.deepEqual(texts, ["before the crash", "missed one", "missed two", "typed while away"]);
  assert.ok(lines.every((m) => m.history !== true), "a resume sends no history");
  const ids = lines.filter((m) => m.id != null).map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, "no line twice");
  assert.deepEqual(alice.pending, []);
});
