// When the event log cannot cover the gap (here the node comes back without
// Redis, so there is no log to resume from), the server answers the resume
// with `recovered: false` and the history: the client delivers the lines it
// had not seen and none twice, and its `history` event tells which line was
// deleted meanwhile.
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

test("recovered:false falls back to history without duplicate ids", needsServer, async () => {
  node = await startNode();
  let reachable = true;
  const nowhere = originAt(await freePort());
  const alice = await chatAs("alice", "history", { url: () => (reachable ? node.origin : nowhere) });
  const bob = await chatAs("bob", "history", { url: () => node.origin });
  clients.push(alice, bob);
  await Promise.all([ready(alice), ready(bob)]);
  const lines = record(alice, "message");

  const ids = {};
  for (const text of ["one", "two"]) {
    const heard = next(alice, "message", (m) => m.message === text);
    bob.send(text);
    ids[text] = (await heard).id;
  }
  assert.equal(typeof alice.position.offset, "number");

  reachable = false;
  const dropped = next(alice, "close");
  await node.crash();
  await dropped;
  node = await startNode({ port: node.port, redis: false });
  const echo = next(bob, "message", (m) => m.message === "three");
  await until(() => bob.status === "open", "bob reconnected");
  bob.send("three");
  await echo;
  // A moderator deletes "two" while alice is away: she never sees the
  // chat.delete, only a history without it.
  const mo = await chatAs("mo", "history", { url: () => node.origin });
  clients.push(mo);
  await ready(mo);
  const deleted = next(bob, "chat.delete");
  assert.equal(mo.delete(ids.two), true);
  await deleted;

  const recovered = next(alice, "recovered");
  const replayed = next(alice, "history");
  reachable = true;
  assert.equal((await recovered).recovered, false);
  await until(() => lines.some((m) => m.message === "three"), "the missed line from history");
  const said = lines.filter((m) => m.message_type === "message");
  assert.deepEqual(said.map((m) => m.message), ["one", "two", "three"]);
  assert.equal(said.at(-1).history, true, "the missed line came from the history");
  const seen = lines.filter((m) => m.id != null).map((m) => m.id);
  assert.equal(new Set(seen).size, seen.length, "no line twice");

  // The history's end comes with the next frame: mo says something.
  const bye = next(alice, "message", (m) => m.message === "after the history");
  mo.send("after the history");
  const history = await replayed;
  await bye;
  assert.ok(history.ids.includes(ids.one), "one is in the history");
  assert.ok(!history.ids.includes(ids.two), "two was deleted meanwhile");
  assert.ok(Math.min(...history.ids) <= ids.two, "two is in the history's range");
  assert.ok(!history.ids.includes(bye.id), "a live line is not history");
});
