// A moderator bans a viewer over the socket: the viewer gets the `banned`
// error and close 4403, and does not reconnect. A later connection of the
// banned viewer is refused at the handshake and stops at once too.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { next, ready, record, sleep } from "./support/events.mjs";
import { chatAs, needsServer, startNode } from "./support/servers.mjs";

const clients = [];
let node;

after(async () => {
  for (const c of clients) c.close();
  await node?.crash();
});

test("a banned viewer is closed with 4403 and stays closed", needsServer, async () => {
  node = await startNode();
  const carol = await chatAs("carol", "ban", { url: node.origin });
  const mo = await chatAs("mo", "ban", { url: node.origin });
  clients.push(carol, mo);
  await Promise.all([ready(carol), ready(mo)]);
  const opens = record(carol, "open");

  const banned = next(carol, "error", (e) => e.code === "banned");
  const closed = next(carol, "close");
  const notice = next(mo, "message", (m) => m.message_type === "moderation");
  assert.equal(mo.ban("carol", { durationSecs: 600, reason: "spam" }), true);
  const error = await banned;
  assert.equal(error.reason, "spam");
  assert.equal(typeof error.until, "string");
  const info = await closed;
  assert.equal(info.code, 4403);
  assert.equal(info.willReconnect, false);
  assert.equal(carol.status, "closed");
  await notice;
  await sleep(1000); // longer than any reconnect delay of these clients
  assert.equal(opens.length, 0, "no reconnect after 4403");

  // Connecting again: the handshake is refused (a browser sees 1006); the
  // client asks the server why, and stops.
  const again = await chatAs("carol", "ban", { url: node.origin });
  clients.push(again);
  const refused = await next(again, "close");
  assert.deepEqual(
    { code: refused.code, refused: refused.refused, willReconnect: refused.willReconnect },
    { code: 4403, refused: true, willReconnect: false },
  );

  // Read-only sockets are for banned viewers: that one opens.
  const reader = await chatAs("carol", "ban", { url: node.origin, readOnly: true });
  clients.push(reader);
  await next(reader, "open");
});
