// Two clients chatting on one real node: lines with their echo, reactions,
// edits, moderation events, refusals, and a clean close.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { readFileSync } from "node:fs";
import { bundlePath } from "../scripts/bundle.mjs";
import { client } from "./support/load.mjs";
import { next, record } from "./support/events.mjs";
import { chatAs, needsServer, startNode } from "./support/servers.mjs";

const { decodeText } = client;
let node;
const open = [];

before(async () => {
  if (needsServer.skip) return;
  node = await startNode();
});

after(async () => {
  for (const c of open) c.close();
  await node?.crash();
});

async function join(username) {
  const c = await chatAs(username, "chat", { url: node.origin });
  open.push(c);
  await next(c, "open");
  return c;
}

test("two clients chat, react, edit and see moderation", needsServer, async () => {
  const alice = await join("alice");
  const bob = await join("bob");
  const mo = await join("mo");
  const aliceLines = record(alice, "message");

  // A line reaches the other client; its own echo settles it.
  const heard = next(bob, "message", (m) => m.username === "alice" && m.message_type === "message");
  const echo = next(alice, "message", (m) => m.username === "alice" && m.message_type === "message");
  const clientId = alice.send("hello <b>bob</b> & co");
  assert.equal(alice.pending.length, 1);
  const line = await heard;
  assert.equal(decodeText(line.message), "hello <b>bob</b> & co");
  assert.equal(line.message, "hello &lt;b&gt;bob&lt;/b&gt; &amp; co");
  assert.equal(typeof line.id, "number");
  assert.equal(typeof line.offset, "number");
  assert.equal((await echo).client_id, clientId);
  assert.deepEqual(alice.pending, []);

  // A reply, a stamp and an edit.
  const reply = next(alice, "message", (m) => m.reply_to?.id === line.id);
  bob.send("hi alice", { replyTo: line.id });
  assert.equal((await reply).username, "bob");
  const stamp = next(alice, "reaction");
  assert.equal(bob.react(1), true);
  assert.equal((await stamp).stamp_id, 1);
  const edited = next(bob, "chat.edited", (e) => e.id === line.id);
  assert.equal(alice.edit(line.id, "hello everyone"), true);
  assert.equal(decodeText((await edited).message), "hello everyone");

  // The moderator pins and deletes; everyone is told.
  const pinned = next(alice, "chat.pin");
  assert.equal(mo.pin(line.id), true);
  assert.equal((await pinned).id, line.id);
  const deleted = next(bob, "chat.delete");
  assert.equal(mo.delete(line.id), true);
  assert.equal((await deleted).id, line.id);

  // A viewer's moderation is refused with an error frame.
  const forbidden = next(bob, "error");
  bob.slowMode(10);
  assert.equal((await forbidden).code, "forbidden");

  // A refused line comes back with its client_id and is not resent.
  const refused = next(alice, "error", (e) => e.code === "empty");
  const emptyId = alice.send("   ");
  assert.equal((await refused).client_id, emptyId);
  assert.deepEqual(alice.pending, []);

  // Each line id reached alice once.
  const ids = aliceLines.filter((m) => m.id != null).map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length);

  // close() stops for good.
  const closed = next(alice, "close");
  alice.close();
  const info = await closed;
  assert.equal(info.willReconnect, false);
  assert.equal(alice.status, "closed");
  assert.throws(() => alice.send("too late"));
});

test("the server serves the browser bundle at /static/stampede-client.js", needsServer, async () => {
  const res = await fetch(`${node.origin}/static/stampede-client.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^text\/javascript/);
  assert.equal(await res.text(), readFileSync(bundlePath, "utf8"));
});
