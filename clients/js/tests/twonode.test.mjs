// Two nodes on one database and Redis. A client on node A loses it (SIGKILL)
// and reconnects to node B, resuming by offset/epoch: the rooms' log is in
// Redis, so B replays what the client missed.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { next, ready, record, until } from "./support/events.mjs";
import { chatAs, freePort, needsServer, originAt, startNode } from "./support/servers.mjs";

const clients = [];
const nodes = [];

after(async () => {
  for (const c of clients) c.close();
  for (const n of nodes) await n.crash();
});

test("a client fails over from node A to node B and resumes", needsServer, async () => {
  const [a, b] = await Promise.all([startNode(), startNode()]);
  nodes.push(a, b);
  // The first attempt goes to A; later ones to B once it is `reachable`.
  let reachable = false;
  const nowhere = originAt(await freePort());
  const tried = [];
  const dave = await chatAs("dave", "twonode", {
    url: (attempt) => {
      const url = attempt === 0 ? a.origin : reachable ? b.origin : nowhere;
      tried.push(url);
      return url;
    },
  });
  const erin = await chatAs("erin", "twonode", { url: b.origin });
  clients.push(dave, erin);
  await Promise.all([ready(dave), ready(erin)]);
  const lines = record(dave, "message");

  const seen = next(dave, "message", (m) => m.message === "on both nodes");
  erin.send("on both nodes");
  await seen;

  const dropped = next(dave, "close");
  await a.crash();
  assert.equal((await dropped).willReconnect, true);
  for (const text of ["while dave moves", "still moving"]) {
    const echo = next(erin, "message", (m) => m.message === text);
    erin.send(text);
    await echo;
  }

  const opened = next(dave, "open");
  const recovered = next(dave, "recovered");
  reachable = true;
  const open = await opened;
  assert.deepEqual(open, { url: b.origin, resumed: true });
  assert.equal((await recovered).recovered, true);
  await until(() => lines.some((m) => m.message === "still moving"), "the missed lines");
  assert.deepEqual(
    lines.filter((m) => m.message_type === "message").map((m) => m.message),
    ["on both nodes", "while dave moves", "still moving"],
  );
  assert.equal(tried[0], a.origin);
  assert.equal(tried.at(-1), b.origin);
});

test("a list of nodes is tried in turn", needsServer, async () => {
  const [b] = nodes.slice(1);
  const dead = originAt(await freePort());
  // The first node of the list is down: the client moves on to the next.
  const erin = await chatAs("erin", "twonode", { url: [dead, b.origin], loginAt: b.origin });
  clients.push(erin);
  const open = await next(erin, "open");
  assert.equal(open.url, b.origin);
});
