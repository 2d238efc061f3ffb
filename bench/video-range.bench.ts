// `npm run bench -- range`: how soon the web server answers a 1 MiB range
// from the middle of a large video it has not cached, which is a video's
// first view after a seek. Ours: a video with a chunk index, answered from
// verified blocks. Baseline, same run, same sizes: a file without one, which
// the web server must fetch and verify whole before it answers. Real
// processes on loopback (central, one data server, a shell adding the files,
// `albumshare web`); each file is asked once, cold; median of 3 each.
import { randomBytes } from "node:crypto";
import { readdir, stat, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { WebSocket } from "ws";
import { eventually } from "../test/support/eventually.ts";
import { LocalSystem } from "../test/session/helpers/local-system.ts";
import { WebProcess } from "../test/web/helpers/web-process.ts";
import type { AlbumView } from "../src/web/live-types.ts";
import type { Benchmark, BenchRow } from "./harness.ts";

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const REPEATS = 3;

/** Contents of SIZE bytes cached whole (a partial download is named differently). */
async function wholeFilesIn(dir: string): Promise<number> {
  let count = 0;
  for (const name of await readdir(dir)) {
    if (/^[0-9a-f]{64}$/.test(name) && (await stat(join(dir, name))).size === SIZE) count++;
  }
  return count;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function albumFiles(web: WebProcess, cookie: string, count: number): Promise<AlbumView> {
  const socket = new WebSocket(`ws://127.0.0.1:${web.port}/api/live?album=bench`, {
    headers: { Origin: web.origin, Cookie: cookie },
  });
  try {
    return await new Promise<AlbumView>((resolve, reject) => {
      socket.on("message", (data: Buffer) => {
        const message = JSON.parse(data.toString("utf8")) as { type: string; album?: AlbumView };
        if (message.type === "album" && message.album!.files.length === count)
          resolve(message.album!);
      });
      socket.once("error", reject);
    });
  } finally {
    socket.close();
  }
}

/** Milliseconds until the whole 1 MiB range from the middle has arrived. */
function timeRange(web: WebProcess, cookie: string, id: string): Promise<number> {
  const start = SIZE / 2 + 12345;
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: "127.0.0.1",
        port: web.port,
        path: `/api/albums/bench/files/${id}/original`,
        headers: {
          Host: `127.0.0.1:${web.port}`,
          Cookie: cookie,
          Range: `bytes=${start}-${start + MiB - 1}`,
        },
      },
      (response) => {
        let bytes = 0;
        response.on("data", (chunk: Buffer) => (bytes += chunk.length));
        response.on("end", () => {
          if (response.statusCode !== 206 || bytes !== MiB)
            reject(new Error(`status ${response.statusCode}, ${bytes} bytes`));
          else resolve(performance.now() - began);
        });
      },
    );
    outgoing.on("error", reject);
    outgoing.end();
  });
}

const bench: Benchmark = {
  id: "range",
  title: "A 1 MiB range from the middle of a 64 MiB video, not cached yet",
  async run(): Promise<BenchRow[]> {
    const system = await LocalSystem.start(1);
    const web = await WebProcess.start(system.central, system.root);
    try {
      const cookie = await web.login("alice");
      await web.json("POST", "/api/albums", { name: "bench" }, { Cookie: cookie });
      const shell = system.client("sam");
      await shell.ok("register sam sam-password");
      await web.json("POST", "/api/albums/bench/members", { name: "sam" }, { Cookie: cookie });
      await shell.ok("login sam sam-password");
      await shell.ok("getAlbum bench");
      const names: string[] = [];
      for (let index = 0; index < REPEATS; index++) {
        for (const name of [`indexed-${index}.webm`, `whole-${index}.bin`]) {
          const path = join(shell.cwd, name);
          await writeFile(path, randomBytes(SIZE));
          await shell.ok(`addFile ${path}`);
          names.push(name);
        }
      }
      await shell.ok("putAlbum");
      await shell.close();
      const view = await albumFiles(web, cookie, names.length);
      const idOf = (name: string): string => view.files.find((file) => file.name === name)!.id;
      const indexed: number[] = [];
      const whole: number[] = [];
      const cacheDir = join(system.root, "web", "cache");
      for (let index = 0; index < REPEATS; index++) {
        indexed.push(await timeRange(web, cookie, idOf(`indexed-${index}.webm`)));
        // The range also started a fetch of the whole video into the cache:
        // let it finish, so it does not slow the baseline down.
        await eventually(
          async () => (await wholeFilesIn(cacheDir)) === 2 * index + 1,
          "the video is cached whole",
          { timeoutMs: 120_000 },
        );
        whole.push(await timeRange(web, cookie, idOf(`whole-${index}.bin`)));
      }
      return [
        {
          name: "range answered from verified blocks (video with a chunk index), median of 3",
          value: median(indexed),
          unit: "ms",
          baseline: median(whole),
          baselineName: "the same range of a file verified whole first",
          goal: "well under the baseline",
        },
      ];
    } finally {
      await web.stop();
      await system.stop();
    }
  },
};

export default bench;
