// The package, compiled from src/ in memory for the tests (esbuild, as ESM
// for Node), so the tests need no prior build and never touch dist/ or the
// committed browser bundle that tests/generated.test.mjs checks.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = new URL("../../", import.meta.url);
const result = await build({
  entryPoints: [fileURLToPath(new URL("src/index.ts", root))],
  absWorkingDir: fileURLToPath(root),
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  write: false,
  logLevel: "silent",
});
const dir = mkdtempSync(join(tmpdir(), "stampede-client-"));
const file = join(dir, "index.mjs");
writeFileSync(file, result.outputFiles[0].text);
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

export const client = await import(pathToFileURL(file).href);
