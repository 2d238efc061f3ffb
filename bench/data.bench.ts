// Benchmark "data": upload and download through the real client and a real
// data server (each in its own process, over loopback, to disk), against a
// baseline measured in the same run: a plain TCP sender and receiver doing
// the same hashing, writing, fsync and rename. Also the peak RSS of client
// and server for several file sizes (goal: at most 128 MiB, flat).
//
// Sizes: ALBUMSHARE_BENCH_DATA_SIZES (default "64M,1G,4G") lists the sizes
// whose peak RSS is measured; ALBUMSHARE_BENCH_DATA_THROUGHPUT (default "1G")
// is the size timed against the baseline. E.g. "64M,256M" and "256M" for a
// run of well under a minute. Files live in the OS temp folder and are
// removed afterwards.
//
// Every transfer runs in processes of its own, so the parent can read each
// one's peak RSS (VmHWM): the data server is `albumshare data` and the client
// the compiled client library (dist/, as the product runs them); the baseline
// roles are this same file, selected by `--role <name> <json options>`.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, open, rename, rm, readFile } from "node:fs/promises";
import { createServer, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Benchmark, BenchRow } from "./harness.ts";

const MiB = 1024 * 1024;
// The RSS rows compare with the same process before its transfer: what the
// runtime, tsx and the loaded modules take, which no transfer can lower.
const IDLE = "same process, idle";
const CHUNK = MiB;
const TOKEN = "bench-cluster-token-0123456789abcdef";
const here = fileURLToPath(import.meta.url);
const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const albumshareBin = join(repoRoot, "bin", "albumshare.js");
const distDir = join(repoRoot, "dist") + "/";

// The client side of a transfer through the real client library, compiled
// (dist/, built by `npm run build`): what `albumshare client` runs, without a
// TypeScript loader in the process whose memory is measured.
const TRANSFER_CLIENT = `
const [role, json] = process.argv.slice(1);
const o = JSON.parse(json);
const { ClusterRingSource } = await import(o.dist + "client/data-transfer/cluster-ring-source.js");
const { DataTransferClient } = await import(o.dist + "client/data-transfer/data-transfer-client.js");
const ringSource = new ClusterRingSource(o.coordinator, o.token);
await ringSource.refresh();
const client = new DataTransferClient(ringSource);
const idleRss = process.memoryUsage.rss();
const start = performance.now();
const result = role === "upload" ? await client.upload(o.file) : await client.download(o.key, o.dest);
const seconds = (performance.now() - start) / 1000;
client.close();
ringSource.close();
process.stdout.write(JSON.stringify({ seconds, bytes: result.size, key: result.key, idleRss }) + "\\n");
`;

/**
 * The measured processes run the compiled code (dist/), as the product does
 * after `npm ci`: build it first, so an edited tree is never measured stale.
 */
function buildDist(): void {
  execFileSync("npm", ["run", "--silent", "build"], { cwd: repoRoot, stdio: "inherit" });
}
const fixtures = fileURLToPath(new URL("../test/data/fixtures/", import.meta.url));

function parseSize(text: string): number {
  const match = /^(\d+)([KMG]?)$/i.exec(text.trim());
  if (!match) throw new Error(`bad size '${text}' (use e.g. 64M, 1G)`);
  const unit = { "": 1, K: 1024, M: MiB, G: 1024 * MiB }[
    match[2]!.toUpperCase() as "" | "K" | "M" | "G"
  ];
  return Number(match[1]) * unit;
}

function sizeName(bytes: number): string {
  return bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`;
}

// ---- child roles ----------------------------------------------------------

interface ChildResult {
  seconds: number;
  bytes: number;
  /** RSS of the client process once started, before the transfer. */
  idleRss?: number;
}

function report(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function hashAndStore(
  chunks: AsyncIterable<Buffer>,
  dest: string,
  expected: number,
): Promise<string> {
  const aside = `${dest}.part`;
  const handle = await open(aside, "w");
  const hash = createHash("sha256");
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const block = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await handle.write(block, 0, block.length);
  };
  for await (const chunk of chunks) {
    hash.update(chunk);
    pending.push(chunk);
    pendingBytes += chunk.length;
    total += chunk.length;
    if (pendingBytes >= CHUNK) await flush();
    if (total >= expected) break;
  }
  await flush();
  await handle.sync();
  await handle.close();
  await rename(aside, dest);
  const dir = await open(dirname(dest), "r");
  await dir.sync();
  await dir.close();
  return hash.digest("hex");
}

async function hashFile(path: string, size: number): Promise<string> {
  const handle = await open(path, "r");
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (let done = 0; done < size;) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, size - done), done);
    hash.update(buffer.subarray(0, bytesRead));
    done += bytesRead;
  }
  await handle.close();
  return hash.digest("hex");
}

async function sendFile(socket: Socket, path: string, size: number): Promise<void> {
  const handle = await open(path, "r");
  for (let done = 0; done < size;) {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, size - done));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, done);
    done += bytesRead;
    if (!socket.write(buffer.subarray(0, bytesRead))) await once(socket, "drain");
  }
  await handle.close();
}

// The socket's data as an async iterable, pausing the socket while a few
// chunks wait (backpressure). Leaving early does not destroy the socket: the
// receiver still answers on it.
async function* socketData(socket: Socket): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const onData = (data: Buffer): void => {
    queue.push(data);
    if (queue.length >= 64) socket.pause();
    wake?.();
  };
  const onEnd = (): void => {
    ended = true;
    wake?.();
  };
  socket.on("data", onData);
  socket.on("end", onEnd);
  socket.on("close", onEnd);
  try {
    while (true) {
      const data = queue.shift();
      if (data) {
        if (queue.length < 16) socket.resume();
        yield data;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("close", onEnd);
  }
}

// Reads an 8-byte length, then yields exactly that many bytes.
async function* framedContent(socket: Socket): AsyncGenerator<Buffer> {
  let header = Buffer.alloc(0);
  let remaining = -1;
  for await (const data of socketData(socket)) {
    let chunk = data;
    if (remaining < 0) {
      header = Buffer.concat([header, chunk]);
      if (header.length < 8) continue;
      remaining = Number(header.readBigUInt64BE(0));
      chunk = header.subarray(8);
    }
    if (chunk.length > 0) {
      remaining -= chunk.length;
      yield chunk;
    }
    if (remaining <= 0) return;
  }
}

function lengthHeader(size: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeBigUInt64BE(BigInt(size));
  return header;
}

const roles: Record<string, (options: Record<string, unknown>) => Promise<void>> = {
  // Real client: upload a file through the data path.
  async "tcp-sink"(o) {
    const server = createServer((socket) => {
      void (async () => {
        const digest = await hashAndStore(
          framedContent(socket),
          o.dest as string,
          o.size as number,
        );
        socket.end(digest);
      })();
    });
    server.listen(0, "127.0.0.1", () => {
      report({ port: (server.address() as { port: number }).port });
    });
    await once(process, "SIGTERM");
    process.exit(0);
  },
  // Baseline upload: the sender hashes the file (for its key), then sends it.
  async "tcp-upload-client"(o) {
    const start = performance.now();
    const size = o.size as number;
    const key = await hashFile(o.file as string, size);
    const socket = connect(o.port as number, "127.0.0.1");
    await once(socket, "connect");
    socket.write(lengthHeader(size));
    await sendFile(socket, o.file as string, size);
    let reply = "";
    for await (const data of socket) reply += (data as Buffer).toString();
    if (reply !== key) throw new Error("baseline receiver computed another hash");
    report({ seconds: (performance.now() - start) / 1000, bytes: size });
  },
  // Baseline download: the server sends the stored file as it is.
  async "tcp-source"(o) {
    const size = o.size as number;
    const server = createServer((socket) => {
      void (async () => {
        socket.write(lengthHeader(size));
        await sendFile(socket, o.file as string, size);
        socket.end();
      })();
    });
    server.listen(0, "127.0.0.1", () =>
      report({ port: (server.address() as { port: number }).port }),
    );
    await once(process, "SIGTERM");
    process.exit(0);
  },
  // Baseline download: the client hashes, writes, fsyncs and renames.
  async "tcp-download-client"(o) {
    const start = performance.now();
    const socket = connect(o.port as number, "127.0.0.1");
    await once(socket, "connect");
    const digest = await hashAndStore(framedContent(socket), o.dest as string, o.size as number);
    socket.destroy();
    if (digest !== o.key) throw new Error("baseline download hashed to another key");
    report({ seconds: (performance.now() - start) / 1000, bytes: o.size as number });
  },
};

// ---- parent side ----------------------------------------------------------

class Child {
  readonly process: ChildProcess;
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  stderr = "";

  /** `node <args>`; TypeScript scripts need ["--import", "tsx", script, ...]. */
  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.process = spawn(process.execPath, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ALBUMSHARE_TEST_LOG: "warn", ...env },
    });
    createInterface({ input: this.process.stdout! }).on("line", (line) => {
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(line);
      } else this.lines.push(line);
    });
    this.process.stderr!.on(
      "data",
      (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)),
    );
  }

  /** A baseline role of this file (through tsx). */
  static role(role: string, options: object): Child {
    return new Child(["--import", "tsx", here, "--role", role, JSON.stringify(options)]);
  }

  /** The real client library, compiled, as the product runs it. */
  static transferClient(role: "upload" | "download", options: object): Child {
    return new Child([
      "--input-type=module",
      "-e",
      TRANSFER_CLIENT,
      role,
      JSON.stringify({ ...options, dist: pathToFileURL(distDir).href, token: TOKEN }),
    ]);
  }

  async next<T = Record<string, unknown>>(
    match: (value: Record<string, unknown>) => boolean = () => true,
  ): Promise<T> {
    const exit = once(this.process, "exit").then(([code]) => {
      throw new Error(`child exited (${String(code)}) early:\n${this.stderr}`);
    });
    while (true) {
      const line =
        this.lines.shift() ??
        (await Promise.race([new Promise<string>((resolve) => (this.waiting = resolve)), exit]));
      try {
        const value = JSON.parse(line) as Record<string, unknown>;
        if (match(value)) return value as T;
      } catch {
        // not a JSON line
      }
    }
  }

  /** Peak resident set size so far (Linux VmHWM), in bytes. */
  peakRss(): Promise<number> {
    return this.statusField("VmHWM");
  }

  /** Current resident set size (Linux VmRSS), in bytes. */
  rss(): Promise<number> {
    return this.statusField("VmRSS");
  }

  private async statusField(field: string): Promise<number> {
    const status = await readFile(`/proc/${this.process.pid}/status`, "utf8");
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    if (!match) throw new Error(`no ${field} in /proc status`);
    return Number(match[1]) * 1024;
  }

  async exited(): Promise<void> {
    if (this.process.exitCode !== null) return;
    await once(this.process, "exit");
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill("SIGTERM");
    await once(this.process, "exit");
  }
}

async function makeSourceFile(path: string, size: number): Promise<void> {
  // 16 MiB of random bytes, repeated with a changing counter in every MiB, so
  // generating 4 GiB does not dominate the run and the content never repeats.
  const block = Buffer.allocUnsafe(16 * MiB);
  randomFillSync(block);
  const handle = await open(path, "w");
  let done = 0;
  let counter = 0;
  while (done < size) {
    for (let off = 0; off < block.length; off += MiB) block.writeUInt32BE(counter++, off);
    const length = Math.min(block.length, size - done);
    await handle.write(block, 0, length, done);
    done += length;
  }
  // Flushed now, so its write-back does not compete with the measured
  // transfers for the disk (it would hit whichever runs first).
  await handle.sync();
  await handle.close();
}

interface Measured {
  upload: ChildResult;
  download: ChildResult;
  clientUploadRss: number;
  clientDownloadRss: number;
  serverRss: number;
  /** RSS of the data server once a member, before any transfer. */
  serverIdleRss: number;
}

// A fresh cluster (coordinator and one data server) per size, so each
// server's peak RSS belongs to one size and no join waits for a stopped server.
async function measureOurs(root: string, file: string, index: number): Promise<Measured> {
  const dir = join(root, `data-${index}`);
  const central = new Child([
    "--import",
    "tsx",
    join(fixtures, "coordinator-main.ts"),
    JSON.stringify({ dir: join(root, `central-${index}`), clusterToken: TOKEN }),
  ]);
  let server: Child | undefined;
  try {
    const { port } = await central.next<{ port: number }>((e) => e.event === "listening");
    const coordinator = `127.0.0.1:${port}`;
    // The data server as the product runs it: `albumshare data`, with the
    // malloc arena limit `albumshare up` sets for its servers (see up.ts).
    server = new Child(
      [
        albumshareBin,
        "data",
        "--central",
        coordinator,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--dir",
        dir,
        "--cluster-token",
        TOKEN,
        "--log-level",
        "warn",
      ],
      { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? "2" },
    );
    await server.next((e) => e.listening !== undefined);
    const serverIdleRss = await server.rss();
    const uploader = Child.transferClient("upload", { coordinator, file });
    const upload = await uploader.next<ChildResult & { key: string }>();
    const clientUploadRss = await uploader.peakRss();
    await uploader.exited();
    const dest = join(root, `download-${index}`);
    const downloader = Child.transferClient("download", { coordinator, key: upload.key, dest });
    const download = await downloader.next<ChildResult>();
    const clientDownloadRss = await downloader.peakRss();
    await downloader.exited();
    const serverRss = await server.peakRss();
    await rm(dest, { force: true });
    return { upload, download, clientUploadRss, clientDownloadRss, serverRss, serverIdleRss };
  } finally {
    await server?.stop();
    await central.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureBaseline(
  root: string,
  file: string,
  size: number,
): Promise<{ upload: number; download: number; rss: number }> {
  const key = await hashFile(file, size);
  const stored = join(root, "baseline-stored");
  const sink = Child.role("tcp-sink", { dest: stored, size });
  const { port: sinkPort } = await sink.next<{ port: number }>();
  const sender = Child.role("tcp-upload-client", { port: sinkPort, file, size });
  const upload = await sender.next<ChildResult>();
  const rss = Math.max(await sender.peakRss(), await sink.peakRss());
  await sender.exited();
  await sink.stop();
  const source = Child.role("tcp-source", { file: stored, size });
  const { port: sourcePort } = await source.next<{ port: number }>();
  const dest = join(root, "baseline-download");
  const receiver = Child.role("tcp-download-client", { port: sourcePort, dest, size, key });
  const download = await receiver.next<ChildResult>();
  await receiver.exited();
  await source.stop();
  await rm(stored, { force: true });
  await rm(dest, { force: true });
  return { upload: size / MiB / upload.seconds, download: size / MiB / download.seconds, rss };
}

const benchmark: Benchmark = {
  id: "data",
  title:
    "Data servers: 1 GiB upload/download through client and data server vs plain TCP; peak RSS",
  async run(): Promise<BenchRow[]> {
    const rssSizes = (process.env.ALBUMSHARE_BENCH_DATA_SIZES ?? "64M,1G,4G")
      .split(",")
      .map(parseSize);
    const throughputSize = parseSize(process.env.ALBUMSHARE_BENCH_DATA_THROUGHPUT ?? "1G");
    const sizes = [...new Set([throughputSize, ...rssSizes])].sort((a, b) => a - b);
    buildDist();
    const root = await mkdtemp(join(tmpdir(), "albumshare-bench-data-"));
    const rows: BenchRow[] = [];
    try {
      let index = 0;
      for (const size of sizes) {
        const file = join(root, `source-${size}`);
        await makeSourceFile(file, size);
        const ours = await measureOurs(root, file, index++);
        if (size === throughputSize) {
          const baseline = await measureBaseline(root, file, size);
          const name = sizeName(size);
          rows.push(
            {
              name: `upload ${name} (hash, send, verify, fsync)`,
              value: size / MiB / ours.upload.seconds,
              unit: "MiB/s",
              baseline: baseline.upload,
              baselineName: "plain TCP, same work",
              higherIsBetter: true,
              goal: ">= 0.9x baseline",
            },
            {
              name: `download ${name} (verify, fsync)`,
              value: size / MiB / ours.download.seconds,
              unit: "MiB/s",
              baseline: baseline.download,
              baselineName: "plain TCP, same work",
              higherIsBetter: true,
              goal: ">= 0.9x baseline",
            },
          );
        }
        if (rssSizes.includes(size)) {
          const name = sizeName(size);
          rows.push(
            {
              name: `peak RSS client, upload ${name}`,
              value: ours.clientUploadRss / MiB,
              unit: "MiB",
              baseline: (ours.upload.idleRss ?? 0) / MiB,
              baselineName: IDLE,
              higherIsBetter: false,
              goal: "<= 128 MiB, flat",
            },
            {
              name: `peak RSS client, download ${name}`,
              value: ours.clientDownloadRss / MiB,
              unit: "MiB",
              baseline: (ours.download.idleRss ?? 0) / MiB,
              baselineName: IDLE,
              higherIsBetter: false,
              goal: "<= 128 MiB, flat",
            },
            {
              name: `peak RSS data server, ${name} up+down`,
              value: ours.serverRss / MiB,
              unit: "MiB",
              baseline: ours.serverIdleRss / MiB,
              baselineName: IDLE,
              higherIsBetter: false,
              goal: "<= 128 MiB, flat",
            },
          );
        }
        await rm(file, { force: true });
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
    return rows;
  },
};

export default benchmark;

if (process.argv[1] === here && process.argv[2] === "--role") {
  const role = roles[process.argv[3]!];
  if (!role) throw new Error(`unknown role ${process.argv[3]}`);
  await role(JSON.parse(process.argv[4] ?? "{}") as Record<string, unknown>);
}
