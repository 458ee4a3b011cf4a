// The generated files are what their generators make from the current
// sources: src/frames.ts from schema/events.json (itself checked against
// the server by tests/js_client.rs), and the browser bundle the server
// serves from src/. Neither may be edited by hand or go stale.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { bundle, bundlePath } from "../scripts/bundle.mjs";
import { framesPath, generate } from "../scripts/generate.mjs";

const STALE = "is stale: run `npm run generate && npm run build` in clients/js and commit the result";

test("src/frames.ts is generated from schema/events.json", async () => {
  assert.ok(readFileSync(framesPath, "utf8") === (await generate()), `src/frames.ts ${STALE}`);
});

test("the served browser bundle is built from src/", async () => {
  assert.ok(readFileSync(bundlePath, "utf8") === (await bundle()), `${bundlePath} ${STALE}`);
});

test("the sources type-check", () => {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const root = new URL("..", import.meta.url);
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.json", "--noEmit"], { cwd: root, stdio: "inherit" });
});

test("the browser bundle does not pull in Node's ws", async () => {
  // esbuild would have inlined ws or left a require() for it.
  assert.doesNotMatch(await bundle(), /require\(|WebSocketServer|permessage-deflate/);
});
