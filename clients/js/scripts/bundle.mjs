// Bundles the package for browsers: one IIFE that sets window.StampedeClient,
// written to templates/static/stampede-client.js, which the server embeds and
// serves at /static/stampede-client.js. It is committed (a server build needs
// no Node), and tests/generated.test.mjs fails when it differs from what this
// produces, so it is never hand-edited.
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = new URL("..", import.meta.url);
export const bundlePath = fileURLToPath(new URL("../../templates/static/stampede-client.js", root));

const BANNER = `// @stampede/client for browsers (window.StampedeClient), built by
// \`npm run build\` in clients/js from its TypeScript sources. Do not edit.`;

/** The text of the browser bundle. */
export async function bundle() {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("src/index.ts", root))],
    // Paths in the bundle's comments are relative to this, wherever npm runs.
    absWorkingDir: fileURLToPath(root),
    bundle: true,
    format: "iife",
    globalName: "StampedeClient",
    platform: "browser",
    target: "es2020",
    charset: "utf8",
    legalComments: "none",
    banner: { js: BANNER },
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(bundlePath, await bundle());
  console.log(`wrote ${bundlePath}`);
}
