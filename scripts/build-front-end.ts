// Part of `npm run build` (run by `npm ci`): type-checks nothing (tsc did),
// bundles the web app's front end with esbuild and puts it with its page,
// style sheet and icon next to the compiled web server (dist/web/app/).
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { bundleFrontEnd } from "../src/web/front-end-assets.ts";

const source = fileURLToPath(new URL("../src/web/app/", import.meta.url));
const target = fileURLToPath(new URL("../dist/web/app/", import.meta.url));
await mkdir(target, { recursive: true });
await writeFile(`${target}app.js`, await bundleFrontEnd());
await copyFile(`${source}index.html`, `${target}index.html`);
await copyFile(`${source}app.css`, `${target}app.css`);
await copyFile(`${source}favicon.svg`, `${target}favicon.svg`);
