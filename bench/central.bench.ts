// Central server and framing throughput, each against a baseline measured in
// the same run:
// - register+login+createAlbum sequences/s over several concurrent connections
//   to a real server process, against the scrypt cost alone (two hashes per
//   sequence, same parameters and concurrency): the ceiling set by password
//   hashing;
// - createAlbum (a durable write) against a bare SQLite insert of the same rows
//   in WAL mode with synchronous=FULL, one transaction each: the ceiling set
//   by fsync;
// - listAlbums requests/s against a raw TCP echo round trip to another
//   process: the ceiling set by loopback I/O;
// - login of an existing user and listAlbums from 127.0.0.1 while a flood of
//   wrong-password logins comes from 127.0.0.2, against the same without the
//   flood: what a flood from one address costs everyone else;
// - the central store's lookups in process against the same SQL prepared
//   once on a bare connection (central-store-rows.ts);
// - FrameDecoder MB/s on many small frames and on a few large ones, against
//   copying the same chunks into one buffer (the memcpy limit).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import Database from "better-sqlite3";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createHash, scrypt, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { centralStoreRows } from "./central-store-rows.ts";
import type { Benchmark, BenchRow } from "./harness.ts";
import { opsPerSecond } from "./harness.ts";
import { CentralClient } from "../src/client/central-client.ts";
import { EditorReplica } from "../src/client/session/editor-replica.ts";
import { DEFAULT_SCRYPT } from "../src/central/password-hasher.ts";
import { encodeFrame, FrameDecoder } from "../src/protocol/frame-decoder.ts";
import { ClientFrameSchema } from "../src/gen/albumshare/central/v1/central_pb.ts";
import { generateX25519KeyPair } from "../src/common/x25519-key-pair.ts";

const CONNECTIONS = 4;
const SEQUENCE_SECONDS = 8;
const REQUEST_SECONDS = 3;
const repoRoot = fileURLToPath(new URL("../", import.meta.url));

/** Spawns a process and waits for its first stdout line that parses as JSON. */
async function spawnJson(args: string[]): Promise<{ child: ChildProcess; first: unknown }> {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<unknown>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`process exited (${code}) before it was ready`)));
    lines.on("line", (line) => {
      try {
        resolve(JSON.parse(line));
      } catch {
        // not the ready line
      }
    });
  });
  return { child, first };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

/** Runs `worker` on `count` concurrent lanes for `seconds`; returns operations/s. */
async function lanes(
  count: number,
  seconds: number,
  worker: (lane: number, i: number) => Promise<void>,
): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let ops = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: count }, async (_, lane) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await worker(lane, i);
        ops++;
      }
    }),
  );
  return (ops * 1000) / (performance.now() - start);
}

function scryptOnce(): Promise<void> {
  const { N, r, p, keyLength } = DEFAULT_SCRYPT;
  return new Promise((resolve, reject) =>
    scrypt(
      "bench-password",
      randomBytes(16),
      keyLength,
      { N, r, p, maxmem: 256 * N * r },
      (error) => (error ? reject(error) : resolve()),
    ),
  );
}

const ECHO_SERVER = `
const net = require("node:net");
const server = net.createServer((s) => s.pipe(s));
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
`;

/** One request/response round trip of `size` bytes on an echo connection. */
function echoRoundTrip(socket: Socket, payload: Buffer): Promise<void> {
  return new Promise((resolve) => {
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received >= payload.length) {
        socket.off("data", onData);
        resolve();
      }
    };
    socket.on("data", onData);
    socket.write(payload);
  });
}

async function serverRows(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "albumshare-bench-central-"));
  const central = await spawnJson([
    join(repoRoot, "bin", "albumshare.js"),
    "central",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--dir",
    dir,
    "--log-level",
    "warn",
  ]);
  const echo = await spawnJson(["-e", ECHO_SERVER]);
  const address = `127.0.0.1:${(central.first as { listening: { port: number } }).listening.port}`;
  const echoPort = (echo.first as { port: number }).port;
  const clients: CentralClient[] = [];
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < CONNECTIONS; i++) clients.push(await CentralClient.connect({ address }));

    const sequences = await lanes(CONNECTIONS, SEQUENCE_SECONDS, async (lane, i) => {
      const client = clients[lane]!;
      const name = `u${lane}-${i}`;
      await client.register(name, "bench-password");
      await client.login(name, "bench-password");
      await client.createAlbum(`a${lane}-${i}`);
      // A connection holds one login; free it for the next sequence.
      await client.logout();
    });
    // Two hashes per sequence (register hashes, login verifies).
    const scryptSequences = await lanes(CONNECTIONS, SEQUENCE_SECONDS, async () => {
      await scryptOnce();
      await scryptOnce();
    });

    for (const [lane, client] of clients.entries()) {
      await client.register(`writer${lane}`, "bench-password");
      await client.login(`writer${lane}`, "bench-password");
    }
    const creates = await lanes(CONNECTIONS, REQUEST_SECONDS, (lane, i) =>
      clients[lane]!.createAlbum(`c${lane}-${i}`),
    );
    // Readers with a handful of albums each, so the reply stays small.
    for (const [lane, client] of clients.entries()) {
      await client.logout();
      await client.register(`reader${lane}`, "bench-password");
      await client.login(`reader${lane}`, "bench-password");
      for (let a = 0; a < 5; a++) await client.createAlbum(`r${lane}-${a}`);
    }
    const lists = await lanes(CONNECTIONS, REQUEST_SECONDS, (lane) =>
      clients[lane]!.listAlbums().then(() => undefined),
    );
    for (let i = 0; i < CONNECTIONS; i++) {
      const socket = connect({ host: "127.0.0.1", port: echoPort });
      await once(socket, "connect");
      socket.setNoDelay(true);
      sockets.push(socket);
    }
    const bareInserts = bareSqliteInserts(join(dir, "bare.sqlite3"));
    const payload = Buffer.alloc(32, 1);
    const echoes = await lanes(CONNECTIONS, REQUEST_SECONDS, (lane) =>
      echoRoundTrip(sockets[lane]!, payload),
    );
    const smallAlbumHandOffs = await handOffRate(clients[0]!, "reader0", "handoff-small", 1);
    const largeAlbumHandOffs = await handOffRate(
      clients[0]!,
      "reader0",
      "handoff-large",
      LARGE_ALBUM_FILES,
    );

    const floodRows = await underFlood(address, clients);
    return [
      ...floodRows,
      {
        name: `register+login+createAlbum(+logout), ${CONNECTIONS} conns`,
        value: sequences,
        unit: "seq/s",
        baseline: scryptSequences,
        baselineName: "2 scrypt hashes alone",
        higherIsBetter: true,
        goal: ">= 0.8x (hashing bound)",
      },
      {
        name: `createAlbum (durable write), ${CONNECTIONS} connections`,
        value: creates,
        unit: "req/s",
        baseline: bareInserts,
        baselineName: "bare SQLite insert, WAL, synchronous=FULL",
        higherIsBetter: true,
        goal: ">= 0.5x (fsync bound)",
      },
      {
        name: `listAlbums (5 albums), ${CONNECTIONS} connections`,
        value: lists,
        unit: "req/s",
        baseline: echoes,
        baselineName: "TCP echo round trip",
        higherIsBetter: true,
        goal: ">= 0.3x",
      },
      {
        name: `handOff of one edit, ${LARGE_ALBUM_FILES.toLocaleString("en-US")}-file album, 1 conn`,
        value: largeAlbumHandOffs,
        unit: "req/s",
        baseline: smallAlbumHandOffs,
        baselineName: "the same on a 1-file album",
        higherIsBetter: true,
        goal: ">= 0.8x (cost of the edit, not the album)",
      },
    ];
  } finally {
    for (const client of clients) client.close();
    for (const socket of sockets) socket.destroy();
    await stop(central.child);
    await stop(echo.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const LARGE_ALBUM_FILES = 10_000;

/**
 * Inserts/s of what createAlbum writes (an album row with a small replica and
 * its member row, one transaction each), straight into SQLite with the
 * central store's durability settings: the fsync ceiling of createAlbum.
 */
function bareSqliteInserts(file: string): number {
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.exec(`
      CREATE TABLE albums (name TEXT PRIMARY KEY, created_by TEXT, created_at INTEGER, replica BLOB);
      CREATE TABLE album_members (album TEXT, user TEXT, PRIMARY KEY (album, user)) WITHOUT ROWID;
    `);
    const album = db.prepare(
      "INSERT INTO albums (name, created_by, created_at, replica) VALUES (?, ?, ?, ?)",
    );
    const member = db.prepare("INSERT INTO album_members (album, user) VALUES (?, ?)");
    const insert = db.transaction((name: string) => {
      album.run(name, "writer0", Date.now(), Buffer.alloc(64, 7));
      member.run(name, "writer0");
    });
    const start = performance.now();
    const deadline = start + REQUEST_SECONDS * 1000;
    let count = 0;
    while (performance.now() < deadline) insert(`bare-${count++}`);
    return (count * 1000) / (performance.now() - start);
  } finally {
    db.close();
  }
}

// The flood runs in a process of its own, so that its sockets do not compete
// with the measuring clients' event loop: N connections from 127.0.0.2, each
// sending a hello, then a wrong-password login again on every answer, at
// most LIMIT times. Frames come pre-encoded (hex) from the parent.
const FLOOD_PROCESS = `
const net = require("node:net");
const [port, count, limit, hello, login] = process.argv.slice(1);
const helloFrame = Buffer.from(hello, "hex"), loginFrame = Buffer.from(login, "hex");
let attempts = 0, open = 0;
for (let i = 0; i < Number(count); i++) {
  const socket = net.connect({ host: "127.0.0.1", port: Number(port), localAddress: "127.0.0.2" });
  socket.on("error", () => {});
  let sent = 0, pending = Buffer.alloc(0);
  const next = () => { if (sent++ < Number(limit)) { attempts++; socket.write(loginFrame); } };
  socket.on("connect", () => { socket.write(helloFrame); if (++open === Number(count)) console.log(JSON.stringify({ open })); });
  socket.on("data", (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      pending = pending.subarray(4 + pending.readUInt32BE(0));
      next();
    }
  });
}
process.on("SIGTERM", () => { console.error(JSON.stringify({ attempts })); process.exit(0); });
`;

const FLOOD_CONNECTIONS = 100;
const FLOOD_ATTEMPTS_EACH = 200;

async function startFlood(port: number): Promise<{ stop(): Promise<void> }> {
  const frame = (requestId: bigint, body: MessageInitShape<typeof ClientFrameSchema>["body"]) =>
    encodeFrame(
      toBinary(ClientFrameSchema, create(ClientFrameSchema, { requestId, body })),
    ).toString("hex");
  const hello = frame(1n, { case: "hello", value: { protocolVersion: 1, agent: "flood" } });
  const login = frame(2n, {
    case: "login",
    value: { name: "flood-user", password: "wrong-password" },
  });
  const flood = await spawnJson([
    "-e",
    FLOOD_PROCESS,
    String(port),
    String(FLOOD_CONNECTIONS),
    String(FLOOD_ATTEMPTS_EACH),
    hello,
    login,
  ]);
  return { stop: () => stop(flood.child) };
}

/** Login and listAlbums rates from 127.0.0.1, without and then during a flood. */
async function underFlood(address: string, clients: CentralClient[]): Promise<BenchRow[]> {
  const port = Number(address.split(":")[1]);
  for (const [lane, client] of clients.entries()) {
    await client.logout();
    await client.register(`steady${lane}`, "bench-password");
  }
  const logins = (): Promise<number> =>
    lanes(CONNECTIONS, SEQUENCE_SECONDS, async (lane) => {
      await clients[lane]!.login(`steady${lane}`, "bench-password");
      await clients[lane]!.logout();
    });
  const lists = (): Promise<number> =>
    lanes(CONNECTIONS, REQUEST_SECONDS, (lane) =>
      clients[lane]!.listAlbums().then(() => undefined),
    );
  const quietLogins = await logins();
  for (const [lane, client] of clients.entries())
    await client.login(`steady${lane}`, "bench-password");
  const quietLists = await lists();
  for (const client of clients) await client.logout();
  const flood = await startFlood(port);
  try {
    const floodedLogins = await logins();
    for (const [lane, client] of clients.entries())
      await client.login(`steady${lane}`, "bench-password");
    const floodedLists = await lists();
    return [
      {
        name: `login (+logout) of an existing user, ${CONNECTIONS} conns, during a flood (${FLOOD_CONNECTIONS} conns of wrong logins from 127.0.0.2, another process)`,
        value: floodedLogins,
        unit: "login/s",
        baseline: quietLogins,
        baselineName: "the same without the flood",
        higherIsBetter: true,
        goal: ">= 0.5x (fair hashing, throttled flood)",
      },
      {
        name: `listAlbums, ${CONNECTIONS} conns, during the same flood`,
        value: floodedLists,
        unit: "req/s",
        baseline: quietLists,
        baselineName: "the same without the flood",
        higherIsBetter: true,
        goal: ">= 0.8x",
      },
    ];
  } finally {
    await flood.stop();
  }
}

/**
 * Hand-offs per second of one small edit each (an addFile delta, as an editor
 * sends every second) into an open session of an album that already holds
 * `files` files. Durable like createAlbum; what should not matter is the
 * album's size.
 */
async function handOffRate(
  client: CentralClient,
  user: string,
  album: string,
  files: number,
): Promise<number> {
  await client.createAlbum(album);
  const opened = await client.getAlbum(album, generateX25519KeyPair().publicKey);
  const replica = new EditorReplica(opened.replica, { slot: opened.slot, user });
  const keyOf = (n: number): string => createHash("sha256").update(`${album}-${n}`).digest("hex");
  for (let n = 0; n < files; n++) {
    replica.addFile({ name: `file-${n}.jpg`, contentKey: keyOf(n), size: 1000 + n });
  }
  const handOff = async (): Promise<void> => {
    const { delta, receipt } = replica.prepareHandOff();
    await client.handOff(album, delta);
    replica.acknowledgeHandOff(receipt);
  };
  await handOff();
  let n = files;
  const rate = await lanes(1, REQUEST_SECONDS, async () => {
    n++;
    replica.addFile({ name: `file-${n}.jpg`, contentKey: keyOf(n), size: 1000 + n });
    await handOff();
  });
  await client.putAlbum(album, replica.prepareHandOff().delta);
  return rate;
}

/** The wire bytes of `frames`, cut into socket-sized chunks. */
function chunked(
  frames: readonly Uint8Array[],
  chunkBytes: number,
): { chunks: Buffer[]; bytes: number } {
  const wire = Buffer.concat(frames.map((frame) => encodeFrame(frame)));
  const chunks: Buffer[] = [];
  for (let at = 0; at < wire.length; at += chunkBytes)
    chunks.push(wire.subarray(at, at + chunkBytes));
  return { chunks, bytes: wire.length };
}

async function codecRow(
  name: string,
  frames: readonly Uint8Array[],
  chunkBytes: number,
): Promise<BenchRow> {
  const { chunks, bytes } = chunked(frames, chunkBytes);
  let sink = 0;
  const decodes = await opsPerSecond(() => {
    const decoder = new FrameDecoder();
    for (const chunk of chunks) sink += decoder.push(chunk).length;
  }, 1500);
  const copies = await opsPerSecond(() => {
    sink += Buffer.concat(chunks, bytes).length;
  }, 1500);
  if (sink < 0) throw new Error("unreachable");
  const mb = bytes / 1e6;
  return {
    name,
    value: decodes * mb,
    unit: "MB/s",
    baseline: copies * mb,
    baselineName: "Buffer.concat of the chunks",
    higherIsBetter: true,
    // Small frames pay per-frame work memcpy does not; large ones should be near it.
    goal: frames.length > 100 ? "(per-frame cost)" : ">= 0.3x",
  };
}

/**
 * Frames/s of the decoder against the least work any decoder must do per
 * frame: read the prefix and slice, from one contiguous buffer.
 */
async function frameRateRow(frames: readonly Uint8Array[]): Promise<BenchRow> {
  const { chunks } = chunked(frames, 64 * 1024);
  const wire = Buffer.concat(chunks);
  let sink = 0;
  const decodes = await opsPerSecond(() => {
    const decoder = new FrameDecoder();
    for (const chunk of chunks) sink += decoder.push(chunk).length;
  }, 1500);
  const splits = await opsPerSecond(() => {
    for (let at = 0; at < wire.length;) {
      const length = wire.readUInt32BE(at);
      sink += wire.subarray(at + 4, at + 4 + length).length;
      at += 4 + length;
    }
  }, 1500);
  if (sink < 0) throw new Error("unreachable");
  return {
    name: `decode ${frames.length.toLocaleString("en-US")} frames of 64 B, 64 KiB reads`,
    value: decodes * frames.length,
    unit: "frames/s",
    baseline: splits * frames.length,
    baselineName: "prefix+slice loop, one buffer",
    higherIsBetter: true,
    goal: ">= 0.3x",
  };
}

async function codecRows(): Promise<BenchRow[]> {
  const small = Array.from({ length: 20_000 }, (_, i) => Buffer.alloc(64, i & 0xff));
  const large = Array.from({ length: 4 }, (_, i) => Buffer.alloc(4 * 1024 * 1024, i));
  return [
    await codecRow("decode 20,000 frames of 64 B, 64 KiB reads", small, 64 * 1024),
    await frameRateRow(small),
    await codecRow("decode 4 frames of 4 MiB, 64 KiB reads", large, 64 * 1024),
  ];
}

const benchmark: Benchmark = {
  id: "central",
  title: "Central server and framing throughput",
  async run() {
    return [...(await serverRows()), ...(await centralStoreRows()), ...(await codecRows())];
  },
};

export default benchmark;
