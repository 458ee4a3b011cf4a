// `onBan: "readOnly"` (what the watch page uses): a banned viewer goes on
// reading on a read-only socket from where it was, missing nothing, and
// chats again after `setReadOnly(false)` once unbanned. A ban met at the
// handshake switches to read-only the same way.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { next, ready } from "./support/events.mjs";
import { chatAs, needsServer, startNode } from "./support/servers.mjs";

const clients = [];
let node;

after(async () => {
  for (const c of clients) c.close();
  await node?.crash();
});

test("a banned viewer reads on read-only from where it was, then chats again", needsServer, async () => {
  node = await startNode();
  const dave = await chatAs("dave", "readonly", { url: node.origin, onBan: "readOnly" });
  const mo = await chatAs("mo", "readonly", { url: node.origin });
  const erin = await chatAs("erin", "readonly", { url: node.origin });
  clients.push(dave, mo, erin);
  await Promise.all([ready(dave), ready(mo), ready(erin)]);

  // A line gives dave a position in the room's log to resume from.
  const before = next(dave, "message", (m) => m.message === "before the ban");
  erin.send("before the ban");
  await before;
  assert.equal(typeof dave.position.offset, "number");

  const banned = next(dave, "banned");
  const reopened = next(dave, "open");
  assert.equal(mo.ban("dave", { durationSecs: 600, reason: "cool off" }), true);
  const ban = await banned;
  assert.equal(ban.reason, "cool off");
  assert.equal(typeof ban.until, "string");
  assert.equal(dave.isReadOnly, true);
  // Said while dave's socket is being replaced: the resume brings it.
  const during = next(dave, "message", (m) => m.message === "said during the switch");
  erin.send("said during the switch");
  assert.equal((await reopened).resumed, true, "the read-only socket resumes");
  await during;
  assert.notEqual(dave.status, "closed");

  const refused = next(dave, "error", (e) => e.code === "read_only");
  dave.send("let me talk");
  await refused;

  const lifted = next(dave, "ban.lifted");
  assert.equal(mo.unban("dave"), true);
  await lifted;
  const writable = next(dave, "open", (o) => o.resumed);
  dave.setReadOnly(false);
  await writable;
  assert.equal(dave.isReadOnly, false);
  const echo = next(erin, "message", (m) => m.message === "back again");
  dave.send("back again");
  await echo;
});

test("a ban met at the handshake also switches to read-only", needsServer, async () => {
  node ??= await startNode();
  const mo = await chatAs("mo", "readonly", { url: node.origin });
  clients.push(mo);
  await ready(mo);
  const notice = next(mo, "message", (m) => m.message_type === "moderation");
  assert.equal(mo.ban("carol", { durationSecs: 600, reason: "later" }), true);
  await notice;

  const carol = await chatAs("carol", "readonly", { url: node.origin, onBan: "readOnly" });
  clients.push(carol);
  const closed = next(carol, "close");
  const banned = next(carol, "banned");
  const opened = next(carol, "open");
  const info = await closed;
  assert.deepEqual(
    { code: info.code, refused: info.refused, willReconnect: info.willReconnect },
    { code: 4403, refused: true, willReconnect: true },
  );
  assert.equal((await banned).reason, "later");
  await opened;
  assert.equal(carol.isReadOnly, true);
  assert.equal(carol.status, "open");
});
