// The page's static files: index.html, app.css, favicon.svg and app.js (the
// typed front end under app/, bundled by esbuild). A compiled server reads the
// bundle `npm run build` wrote next to it; a server running from the sources
// bundles them in memory at start, so an edited tree never serves a stale
// page. Nothing is ever fetched from the network.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { BuildOptions } from "esbuild";

export interface FrontEndAssets {
  html: Buffer;
  css: Buffer;
  icon: Buffer;
  js: Buffer;
}

const sourceDir = fileURLToPath(new URL("./app/", import.meta.url));

/** esbuild options shared by the build script and the in-memory bundle. */
export const FRONT_END_BUILD: BuildOptions = {
  entryPoints: [`${sourceDir}main.ts`],
  bundle: true,
  format: "iife",
  target: "es2022",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
};

export async function loadFrontEnd(): Promise<FrontEndAssets> {
  const html = await readFile(`${sourceDir}index.html`);
  const css = await readFile(`${sourceDir}app.css`);
  const icon = await readFile(`${sourceDir}favicon.svg`);
  if (import.meta.url.endsWith(".js")) {
    return { html, css, icon, js: await readFile(`${sourceDir}app.js`) };
  }
  return { html, css, icon, js: await bundleFrontEnd() };
}

/** Bundles the front end in memory (esbuild is a build-time tool: loaded only here). */
export async function bundleFrontEnd(): Promise<Buffer> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({ ...FRONT_END_BUILD, write: false });
  return Buffer.from(result.outputFiles![0]!.contents);
}
