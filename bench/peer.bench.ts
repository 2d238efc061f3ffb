// Peer layer benchmark, with the real album CRDT (EditorReplica) as the
// replica: chat delivery latency (one-way, p50/p99 at 1,000 messages per
// second) and chat throughput with 2, 4 and 8 editors while every editor also
// adds or rates a file every 50 ms (deltas over the same mesh), next to a raw
// ZeroMQ one-way DEALER->ROUTER latency (paced the same way) and stream
// measured in the same run; and the time a newcomer takes to sync a
// 10,000-file album from 3 editors, next to a raw ZeroMQ request/reply
// carrying the encoded state (encode, send, decode). What security costs:
// the 2-editor latency, the throughput and the newcomer sync are also
// measured with the mesh's security off (no CURVE, no ZAP; a benchmark-only
// setting), in the same run.
// Editors run as deployed, one per child process (this file, re-run with
// PEER_BENCH_EDITOR set); one-way latency then compares time stamps of
// different processes (performance.timeOrigin + now(), within ~0.05 ms of each
// other on one machine). The same latency is also measured with every editor
// in this one process (a single clock, but one JS thread doing every editor's
// receive and CRDT work: a pessimistic bound that grows with the editors).
// The development machine is shared, so each latency and throughput case runs
// three times, interleaved, and the table gives the medians (each run is also
// logged to stderr).

import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Dealer, Router } from "zeromq";
import { percentile, type Benchmark, type BenchRow } from "./harness.ts";
import {
  centralCopy,
  compactedSize,
  EditGenerator,
  editorUser,
  replicaDigest,
  sessionAlbum,
  type SessionAlbum,
} from "./fixtures/editing-album.ts";
import { EditorReplica } from "../src/client/session/editor-replica.ts";
import { decodeState, encodeState } from "../src/crdt/index.ts";
import { MeshContext } from "../src/peer/mesh-context.ts";
import { PeerMesh, type PeerAddress } from "../src/peer/peer-mesh.ts";
import { SessionKeys } from "../src/peer/peer-keys.ts";
import { SessionPeer } from "../src/peer/session-peer.ts";
import { eventually } from "../test/support/eventually.ts";

const EDITOR_COUNTS = [2, 4, 8];
const LATENCY_RATE_PER_SECOND = 1000;
const LATENCY_MESSAGES = 3000;
const THROUGHPUT_MESSAGES_PER_EDITOR = 2000;
const ONE_WAY_MESSAGES = 2000;
const RAW_STREAM_MESSAGES = 100_000;
const CHAT_TEXT = "x".repeat(60);
/** Each editor adds a file or rates one this often during the chat measurements. */
const EDIT_PERIOD_MS = 50;
/** Members of the benchmark album (every editor and newcomer slot is one). */
const ALBUM_MEMBERS = 20;
/** Files in the central copy the chat sessions start from. */
const LIVE_ALBUM_FILES = 1000;
const LARGE_ALBUM_FILES = 10_000;
const NEWCOMER_PEERS = 3;
const NEWCOMER_RATINGS = 500;
const NEWCOMER_LAG_EDITS = 100;
const NEWCOMER_CHAT_HISTORY = 200;
/** Newcomers per case; the first is left out (warm-up). */
const NEWCOMER_ROUNDS = 6;
/** Runs of each latency and throughput case; the table gives the medians. */
const LATENCY_REPEATS = Number(process.env.PEER_BENCH_REPEATS ?? 3);
/**
 * PEER_BENCH_ONLY=scaling: only the chat latency at 2, 4 and 8 editors,
 * secured and not (what the mesh size does to it), for a quicker run.
 */
const SCALING_ONLY = process.env.PEER_BENCH_ONLY === "scaling";

// Waits between phases poll often and give up after 10 s, as before the shared helper.
const BENCH_POLL = { pollMs: 5, timeoutMs: 10_000 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// --- raw ZeroMQ baselines ------------------------------------------------------------

/**
 * One-way latency of a 100-byte message, DEALER -> ROUTER, one every
 * `paceMs` (as the chat at 1,000 messages per second): the receiver takes the
 * send time stamp carried in the message from its arrival time. With
 * `sender` a child process (two processes, like two editors), the clocks are
 * wall clocks with sub-millisecond resolution.
 */
async function rawOneWay(between: "processes" | "one process"): Promise<RoundTrip> {
  const router = new Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:0");
  const endpoint = router.lastEndpoint!;
  const samples: number[] = [];
  const receiving = (async () => {
    for (let i = 0; i < ONE_WAY_MESSAGES + 200; i++) {
      const [, payload] = await router.receive();
      const sentAt = Number(payload!.toString("latin1", 0, payload!.indexOf(124)));
      if (i >= 200) samples.push(wallNow() - sentAt);
    }
  })();
  let child: ChildProcess | undefined;
  if (between === "processes") {
    child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, PEER_BENCH_SENDER: endpoint },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
  } else {
    void sendPaced(endpoint);
  }
  await receiving;
  router.close();
  if (child) {
    const exited = once(child, "exit");
    child.kill();
    await exited;
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** The sending side of rawOneWay: time-stamped messages, one per ms, timer-paced. */
async function sendPaced(endpoint: string): Promise<void> {
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(endpoint);
  const padding = "x".repeat(80);
  const periodMs = 1000 / LATENCY_RATE_PER_SECOND;
  const firstAt = performance.now();
  for (let i = 0; i < ONE_WAY_MESSAGES + 200; i++) {
    const wait = firstAt + i * periodMs - performance.now();
    if (wait > 0) await sleep(wait);
    await dealer.send(`${wallNow()}|${padding}`);
  }
  dealer.close();
}

async function rawStream(): Promise<number> {
  const router = new Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:0");
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(router.lastEndpoint!);
  const payload = Buffer.alloc(100, 1);
  const start = performance.now();
  const receiving = (async () => {
    for (let i = 0; i < RAW_STREAM_MESSAGES; i++) await router.receive();
  })();
  for (let i = 0; i < RAW_STREAM_MESSAGES; i++) await dealer.send(payload);
  await receiving;
  const seconds = (performance.now() - start) / 1000;
  dealer.close();
  router.close();
  return RAW_STREAM_MESSAGES / seconds;
}

/**
 * The naive way to hand a newcomer the album: the holder encodes its whole
 * state, sends it over a DEALER/ROUTER request/reply, the newcomer decodes it.
 * Median of 10 (after 2 warm-ups), on a connected pair.
 */
async function rawStateTransfer(encodedState: Uint8Array): Promise<number> {
  const held = decodeState(encodedState);
  const router = new Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:0");
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(router.lastEndpoint!);
  const serve = (async () => {
    for await (const [id] of router) await router.send([id!, encodeState(held)]);
  })();
  const samples: number[] = [];
  for (let i = 0; i < 12; i++) {
    const start = performance.now();
    await dealer.send("give");
    const [bytes] = await dealer.receive();
    const state = decodeState(bytes!);
    if (i >= 2) samples.push(performance.now() - start);
    if (state.files.size !== held.files.size) throw new Error("raw state transfer lost files");
  }
  dealer.close();
  router.close();
  await serve.catch(() => undefined);
  samples.sort((a, b) => a - b);
  return percentile(samples, 50);
}

// --- editors in this process ---------------------------------------------------------

interface Editor {
  peer: SessionPeer;
  replica: EditorReplica;
}

interface Session {
  editors: Editor[];
  stop(): Promise<void>;
}

type Security = "curve" | "none";
/**
 * "shared": the meshes of the process share one ZeroMQ context and ZAP
 * handler (what the product does); "per mesh": each has its own, as before,
 * for the comparison.
 */
type Contexts = "shared" | "per mesh";

/**
 * A new editor's peer engine, playing the central server's part: a fresh
 * key pair, the others admitted, and each of `told` told about the newcomer.
 */
async function joinSession(
  slot: number,
  replica: EditorReplica,
  token: Uint8Array,
  security: Security,
  peers: readonly PeerAddress[],
  told: readonly SessionPeer[],
  contexts: Contexts = "shared",
): Promise<{ peer: SessionPeer; contact: PeerAddress }> {
  const keys = SessionKeys.generate();
  const mesh = new PeerMesh({
    slot,
    keys,
    sessionToken: token,
    security,
    ...(contexts === "per mesh" ? { context: new MeshContext() } : {}),
  });
  await mesh.start();
  const contact = {
    slot,
    user: editorUser(slot),
    address: mesh.address,
    publicKey: keys.publicKey,
  };
  for (const peer of peers) mesh.admit(peer);
  for (const other of told) other.addPeer(contact);
  const peer = new SessionPeer({
    mesh,
    user: editorUser(slot),
    sessionToken: token,
    replica,
    initialPeers: peers,
  });
  await peer.start();
  return { peer, contact };
}

/** `count` editors (slots 1..count) joining one by one, each from `encodedState`. */
async function startSession(
  count: number,
  encodedState: Uint8Array,
  security: Security = "curve",
  contexts: Contexts = "shared",
): Promise<Session & { token: Uint8Array; contacts: PeerAddress[] }> {
  const editors: Editor[] = [];
  const contacts: PeerAddress[] = [];
  const token = new Uint8Array(randomBytes(16));
  for (let slot = 1; slot <= count; slot++) {
    const replica = new EditorReplica(encodedState, { slot, user: editorUser(slot) });
    const { peer, contact } = await joinSession(
      slot,
      replica,
      token,
      security,
      contacts,
      editors.map((e) => e.peer),
      contexts,
    );
    await peer.whenSynced();
    editors.push({ peer, replica });
    contacts.push(contact);
  }
  await eventually(
    () => editors.every(({ peer }) => peer.peers().length === count - 1),
    "the mesh",
    BENCH_POLL,
  );
  return {
    editors,
    token,
    contacts,
    stop: async () => {
      await Promise.all(editors.map(({ peer }) => peer.stop()));
    },
  };
}

/**
 * Every editor makes one edit each EDIT_PERIOD_MS (start times spread over
 * the period) and broadcasts its delta. Returns a stop function giving the
 * edits made per second (all editors).
 */
function startEditing(editors: readonly Editor[], ratableFiles: number): () => number {
  const timers: NodeJS.Timeout[] = [];
  const startedAt = performance.now();
  const generators = editors.map(({ replica }) => new EditGenerator(replica, ratableFiles));
  editors.forEach(({ peer }, i) => {
    const edit = (): void => peer.broadcastDelta(generators[i]!.next());
    const offset = (EDIT_PERIOD_MS * i) / editors.length;
    timers.push(
      setTimeout(() => {
        edit();
        timers.push(setInterval(edit, EDIT_PERIOD_MS));
      }, offset),
    );
  });
  return () => {
    for (const timer of timers) clearTimeout(timer);
    const edits = generators.reduce((sum, generator) => sum + generator.edits, 0);
    return (edits * 1000) / (performance.now() - startedAt);
  };
}

/** Waits until every replica lists the same files and ratings; throws if they do not converge. */
async function checkConverged(editors: readonly Editor[]): Promise<void> {
  const digests = (): Set<string> =>
    new Set(editors.map(({ replica }) => replicaDigest(replica.files())));
  await eventually(() => digests().size === 1, "the replicas to converge", {
    timeoutMs: 5000,
    pollMs: BENCH_POLL.pollMs,
  });
  const refused = editors.reduce((sum, { peer }) => sum + peer.stats.deltasRefused, 0);
  if (refused > 0) throw new Error(`${refused} deltas refused by the replicas`);
}

interface LatencyResult {
  p50: number;
  p99: number;
  /**
   * CPU time (every thread of every editor process: JS, ZeroMQ's I/O
   * threads, GC) per chat message delivered, in microseconds; it includes the
   * edits and repairs of the same period. Unlike latency, it hardly depends
   * on how much of the machine the other tenants leave us.
   */
  cpuMicrosPerMessage: number;
  /** Edits per second during the measurement, all editors (each one delta to every other). */
  editsPerSecond: number;
}

/** One-way chat latency, sendChat() to delivery at each other editor, at a fixed total rate. */
async function chatLatency(
  count: number,
  central: Uint8Array,
  ratableFiles: number,
  security: Security = "curve",
  contexts: Contexts = "shared",
): Promise<LatencyResult> {
  const session = await startSession(count, central, security, contexts);
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  let delivered = 0;
  for (const { peer } of session.editors) {
    peer.on("chat", (entry) => {
      if (entry.slot === peer.slot) return;
      samples.push(performance.now() - sentAt.get(entry.text)!);
      delivered++;
    });
  }
  const expected = LATENCY_MESSAGES * (count - 1);
  const periodMs = 1000 / LATENCY_RATE_PER_SECOND;
  const stopEditing = startEditing(session.editors, ratableFiles);
  const cpuAtStart = process.cpuUsage();
  const start = performance.now();
  let sent = 0;
  while (sent < LATENCY_MESSAGES) {
    const due = Math.min(LATENCY_MESSAGES, Math.floor((performance.now() - start) / periodMs) + 1);
    while (sent < due) {
      const text = `${sent} ${CHAT_TEXT}`;
      sentAt.set(text, performance.now());
      void session.editors[sent % count]!.peer.sendChat(text);
      sent++;
    }
    await sleep(1);
  }
  await eventually(() => delivered >= expected, "every chat message", BENCH_POLL);
  const cpu = process.cpuUsage(cpuAtStart);
  const editsPerSecond = stopEditing();
  await checkConverged(session.editors);
  await session.stop();
  // Leave out the first 10% (connection warm-up, JIT).
  const steady = samples.slice(Math.floor(samples.length / 10)).sort((a, b) => a - b);
  return {
    p50: percentile(steady, 50),
    p99: percentile(steady, 99),
    editsPerSecond,
    cpuMicrosPerMessage: (cpu.user + cpu.system) / delivered,
  };
}

interface NewcomerTimes {
  /** Median ms to decode the central copy into the newcomer's replica (getAlbum's part). */
  decode: number;
  /** Median ms from SessionPeer.start() to whenSynced(): the sync from the peers. */
  sync: number;
}

interface NewcomerResult {
  fromCompacted: NewcomerTimes;
  fromLagging: NewcomerTimes;
  /** Bytes of the sync reply when the central copy lacks only the last edits. */
  laggingReplyBytes: number;
}

/**
 * NEWCOMER_PEERS editors hold `album.full` and have chatted; newcomers (a
 * fresh slot each, one at a time) start from a central copy, as getAlbum
 * gives it, and sync from them: the replica from one peer, what it lacked
 * from the others, the chat history from every peer.
 */
async function newcomerSync(
  album: SessionAlbum,
  compacted: Uint8Array,
  security: Security,
): Promise<NewcomerResult> {
  const session = await startSession(NEWCOMER_PEERS, album.full, security);
  let chatted = 0;
  session.editors[0]!.peer.on("chat", () => chatted++);
  for (let i = 0; i < NEWCOMER_CHAT_HISTORY; i++) {
    await session.editors[i % NEWCOMER_PEERS]!.peer.sendChat(`${i} ${CHAT_TEXT}`);
  }
  await eventually(() => chatted === NEWCOMER_CHAT_HISTORY, "the chat history", BENCH_POLL);
  const expected = replicaDigest(session.editors[0]!.replica.files());
  let slot = NEWCOMER_PEERS;
  const timeJoin = async (central: Uint8Array): Promise<NewcomerTimes> => {
    slot++;
    const begin = performance.now();
    const replica = new EditorReplica(central, { slot, user: editorUser(slot) });
    const decoded = performance.now();
    const { peer: newcomer } = await joinSession(
      slot,
      replica,
      session.token,
      security,
      session.contacts,
      session.editors.map((e) => e.peer),
    );
    const outcome = await newcomer.whenSynced();
    const synced = performance.now();
    if (outcome.timedOut || replicaDigest(replica.files()) !== expected) {
      throw new Error("the newcomer did not get the album");
    }
    if (newcomer.chatHistory().length !== NEWCOMER_CHAT_HISTORY) {
      throw new Error("the newcomer did not get the chat history");
    }
    await newcomer.stop();
    await eventually(
      () => session.editors.every(({ peer }) => peer.peers().length === NEWCOMER_PEERS - 1),
      "the newcomer's Bye",
      BENCH_POLL,
    );
    return { decode: decoded - begin, sync: synced - decoded };
  };
  const medians = async (central: Uint8Array): Promise<NewcomerTimes> => {
    const samples: NewcomerTimes[] = [];
    for (let round = 0; round < NEWCOMER_ROUNDS; round++) {
      const times = await timeJoin(central);
      if (round > 0) samples.push(times);
    }
    return {
      decode: median(samples.map((t) => t.decode)),
      sync: median(samples.map((t) => t.sync)),
    };
  };
  const fromCompacted = await medians(compacted);
  const fromLagging = await medians(album.lagging);
  const lagging = new EditorReplica(album.lagging, { slot: 99, user: editorUser(1) });
  const reply = session.editors[0]!.replica.encodedMissingFor(lagging.encodedContext());
  await session.stop();
  return { fromCompacted, fromLagging, laggingReplyBytes: reply?.byteLength ?? 0 };
}

// --- editors in child processes ---------------------------------------------------------

// Each measurement is armed in every editor first (so no editor misses a
// message sent by a faster one), then started. Editors are slots 1..count;
// `index` (0-based) orders the paced sends.
/** A contact between processes: the key as hex. */
interface ContactMessage {
  slot: number;
  user: string;
  address: string;
  publicKey: string;
}

type ToEditor =
  | { kind: "connect"; peers: ContactMessage[] }
  | { kind: "armPaced"; total: number; count: number; periodMs: number }
  | { kind: "startPaced"; startAt: number }
  | { kind: "armBurst"; perEditor: number; count: number }
  | { kind: "startBurst" }
  | { kind: "digest" }
  | { kind: "stop" };

type FromEditor =
  | { kind: "ready"; address: string; publicKey: string }
  | { kind: "connected" }
  | { kind: "armed" }
  | { kind: "latencies"; samples: number[]; diagnostics: EditorDiagnostics }
  | { kind: "burstDone"; startedAt: number; finishedAt: number }
  | { kind: "digest"; digest: string; editsPerSecond: number; refused: number };

/**
 * What an editor process did during a paced measurement, to tell CPU
 * starvation from lost messages and repairs when the latency collapses.
 */
interface EditorDiagnostics {
  /** CPU time of the whole process (JS and ZeroMQ's threads), ms, per wall-clock second. */
  cpuMsPerSecond: number;
  /** The same, in all (ms). */
  cpuMs: number;
  chatRepairRequests: number;
  crdtRepairRequests: number;
  /** Outgoing messages discarded (outbox full, send timeout). */
  discarded: number;
  /** Incoming messages dropped over a sender's budget. */
  overBudget: number;
  /** Handshakes our ZAP handler refused. */
  zapRefused: number;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
const wallNow = (): number => performance.timeOrigin + performance.now();

/** Where a child editor reads the album it starts from (the parent writes it to its stdin). */
async function readCentralCopy(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

async function runEditorProcess(index: number): Promise<void> {
  // Never outlive the benchmark, even when it fails.
  process.on("disconnect", () => process.exit(0));
  const send = (message: FromEditor): void => void process.send!(message);
  const slot = index + 1;
  const ratableFiles = Number(process.env.PEER_BENCH_RATABLE_FILES);
  const replica = new EditorReplica(await readCentralCopy(), { slot, user: editorUser(slot) });
  const keys = SessionKeys.generate();
  const token = new Uint8Array(Buffer.from(process.env.PEER_BENCH_TOKEN!, "hex"));
  const security = process.env.PEER_BENCH_SECURITY as Security;
  const mesh = new PeerMesh({ slot, keys, sessionToken: token, security });
  const editor = new SessionPeer({ mesh, user: editorUser(slot), sessionToken: token, replica });
  await editor.start();
  send({
    kind: "ready",
    address: editor.address,
    publicKey: Buffer.from(keys.publicKey).toString("hex"),
  });
  const generator = new EditGenerator(replica, ratableFiles);
  let editTimer: NodeJS.Timeout | undefined;
  const editing = { startedAt: 0, stoppedAt: 0 };
  const startEdits = (count: number): void => {
    editing.startedAt = performance.now();
    const edit = (): void => editor.broadcastDelta(generator.next());
    editTimer = setTimeout(
      () => {
        edit();
        editTimer = setInterval(edit, EDIT_PERIOD_MS);
      },
      (EDIT_PERIOD_MS * index) / count,
    );
  };
  const stopEdits = (): void => {
    clearTimeout(editTimer);
    editing.stoppedAt = performance.now();
  };
  let onChat: (text: string, own: boolean) => void = () => undefined;
  let paced = { total: 0, count: 1, periodMs: 1 };
  let measured = { cpu: process.cpuUsage(), at: performance.now(), stats: { ...editor.stats } };
  let burst = { perEditor: 0, count: 1, startedAt: 0 };
  editor.on("chat", (entry) => onChat(entry.text, entry.slot === slot));
  process.on("message", (message: ToEditor) => {
    void (async () => {
      switch (message.kind) {
        case "connect":
          for (const peer of message.peers) {
            if (peer.slot === slot) continue;
            const publicKey = new Uint8Array(Buffer.from(peer.publicKey, "hex"));
            editor.addPeer({ ...peer, publicKey });
          }
          await eventually(
            () => editor.peers().length === message.peers.length - 1,
            "the mesh",
            BENCH_POLL,
          );
          send({ kind: "connected" });
          return;
        case "armPaced": {
          paced = message;
          const samples: number[] = [];
          const expected = message.total - Math.ceil((message.total - index) / message.count);
          onChat = (text, own) => {
            if (own) return;
            samples.push(wallNow() - Number(text.slice(0, text.indexOf("|"))));
            if (samples.length === expected) {
              stopEdits();
              const cpu = process.cpuUsage(measured.cpu);
              const seconds = (performance.now() - measured.at) / 1000;
              send({
                kind: "latencies",
                samples,
                diagnostics: {
                  cpuMsPerSecond: (cpu.user + cpu.system) / 1000 / seconds,
                  cpuMs: (cpu.user + cpu.system) / 1000,
                  chatRepairRequests:
                    editor.stats.chatRepairRequests - measured.stats.chatRepairRequests,
                  crdtRepairRequests:
                    editor.stats.crdtRepairRequests - measured.stats.crdtRepairRequests,
                  discarded: mesh.stats.discarded,
                  overBudget: mesh.stats.overBudget,
                  zapRefused: mesh.admissions.refused,
                },
              });
            }
          };
          send({ kind: "armed" });
          return;
        }
        case "startPaced":
          measured = { cpu: process.cpuUsage(), at: performance.now(), stats: { ...editor.stats } };
          startEdits(paced.count);
          // Timer-paced (no busy wait: the other editors share the cores); the
          // latency is taken from the actual send time carried in the text.
          for (let i = index; i < paced.total; i += paced.count) {
            const wait = message.startAt + i * paced.periodMs - wallNow();
            if (wait > 0) await sleep(wait);
            void editor.sendChat(`${wallNow()}|${CHAT_TEXT}`);
          }
          return;
        case "armBurst": {
          const expected = message.perEditor * message.count;
          let delivered = 0;
          burst = { perEditor: message.perEditor, count: message.count, startedAt: 0 };
          onChat = () => {
            if (++delivered === expected) {
              stopEdits();
              send({ kind: "burstDone", startedAt: burst.startedAt, finishedAt: wallNow() });
            }
          };
          send({ kind: "armed" });
          return;
        }
        case "startBurst":
          burst.startedAt = wallNow();
          startEdits(burst.count);
          for (let i = 0; i < burst.perEditor; i++) {
            void editor.sendChat(`${i}|${CHAT_TEXT}`);
            if (i % 100 === 99) await sleep(0);
          }
          return;
        case "digest":
          send({
            kind: "digest",
            digest: replicaDigest(replica.files()),
            editsPerSecond: (generator.edits * 1000) / (editing.stoppedAt - editing.startedAt),
            refused: editor.stats.deltasRefused,
          });
          return;
        case "stop":
          await editor.stop();
          process.exit(0);
      }
    })();
  });
}

interface EditorProcesses {
  /** Sends to every editor and collects one reply of `kind` from each. */
  ask<K extends FromEditor["kind"]>(
    message: ToEditor,
    kind: K,
  ): Promise<Extract<FromEditor, { kind: K }>[]>;
  /** Waits until every replica lists the same files; returns the edits per second of all. */
  converged(): Promise<number>;
  stop(): Promise<void>;
  kill(): void;
}

async function startEditorProcesses(
  count: number,
  central: Uint8Array,
  ratableFiles: number,
  security: Security,
): Promise<EditorProcesses> {
  const file = fileURLToPath(import.meta.url);
  const token = randomBytes(16).toString("hex");
  const children = Array.from({ length: count }, (_, index) => {
    const child = fork(file, [], {
      execArgv: ["--import", "tsx"],
      env: {
        ...process.env,
        PEER_BENCH_EDITOR: String(index),
        PEER_BENCH_RATABLE_FILES: String(ratableFiles),
        PEER_BENCH_TOKEN: token,
        PEER_BENCH_SECURITY: security,
      },
      stdio: ["pipe", "inherit", "inherit", "ipc"],
    });
    child.stdin!.end(central);
    return child;
  });
  const kill = (): void => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  };
  const next = <K extends FromEditor["kind"]>(
    child: ChildProcess,
    kind: K,
  ): Promise<Extract<FromEditor, { kind: K }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanUp();
        reject(new Error(`editor process gave no ${kind} within 60 s`));
      }, 60_000);
      const cleanUp = (): void => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      const onMessage = (message: FromEditor): void => {
        if (message.kind !== kind) return;
        cleanUp();
        resolve(message as Extract<FromEditor, { kind: K }>);
      };
      const onExit = (): void => {
        cleanUp();
        reject(new Error(`editor process exited waiting for ${kind}`));
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
  const processes: EditorProcesses = {
    ask: async (message, kind) => {
      const replies = children.map((child) => next(child, kind));
      for (const child of children) child.send(message);
      try {
        return await Promise.all(replies);
      } catch (error) {
        kill();
        throw error;
      }
    },
    converged: async () => {
      // The last deltas may still be on their way (or awaiting anti-entropy).
      for (let attempt = 0; attempt < 25; attempt++) {
        await sleep(200);
        const digests = await processes.ask({ kind: "digest" }, "digest");
        const refused = digests.reduce((sum, d) => sum + d.refused, 0);
        if (refused > 0) throw new Error(`${refused} deltas refused by the replicas`);
        if (new Set(digests.map((d) => d.digest)).size === 1) {
          return digests.reduce((sum, d) => sum + d.editsPerSecond, 0);
        }
      }
      kill();
      throw new Error("the editor processes' replicas did not converge");
    },
    stop: async () => {
      await Promise.all(
        children.map(async (child) => {
          const exited = once(child, "exit");
          child.send({ kind: "stop" } satisfies ToEditor);
          await exited;
        }),
      );
    },
    kill,
  };
  try {
    const ready = await Promise.all(children.map((child) => next(child, "ready")));
    const peers = ready.map((r, index) => ({
      slot: index + 1,
      user: editorUser(index + 1),
      address: r.address,
      publicKey: r.publicKey,
    }));
    await processes.ask({ kind: "connect", peers }, "connected");
  } catch (error) {
    kill();
    throw error;
  }
  return processes;
}

async function chatLatencyInProcesses(
  count: number,
  central: Uint8Array,
  ratableFiles: number,
  security: Security,
): Promise<LatencyResult> {
  const editors = await startEditorProcesses(count, central, ratableFiles, security);
  const periodMs = 1000 / LATENCY_RATE_PER_SECOND;
  await editors.ask({ kind: "armPaced", total: LATENCY_MESSAGES, count, periodMs }, "armed");
  const replies = await editors.ask({ kind: "startPaced", startAt: wallNow() + 50 }, "latencies");
  const editsPerSecond = await editors.converged();
  await editors.stop();
  // Leave out each receiver's first 10% (connection warm-up, JIT).
  const steady = replies
    .flatMap(({ samples }) => samples.slice(Math.floor(samples.length / 10)))
    .sort((a, b) => a - b);
  const sum = (key: keyof EditorDiagnostics): number =>
    replies.reduce((total, { diagnostics }) => total + diagnostics[key], 0);
  console.error(
    `peer bench:   ${count} editors (${security}): CPU ${Math.round(sum("cpuMsPerSecond"))} ms/s ` +
      `over all processes; repair requests chat ${sum("chatRepairRequests")}, replica ` +
      `${sum("crdtRepairRequests")}; discarded ${sum("discarded")}, over budget ` +
      `${sum("overBudget")}, ZAP refusals ${sum("zapRefused")}`,
  );
  const delivered = replies.reduce((total, { samples }) => total + samples.length, 0);
  return {
    p50: percentile(steady, 50),
    p99: percentile(steady, 99),
    editsPerSecond,
    cpuMicrosPerMessage: (sum("cpuMs") * 1000) / delivered,
  };
}

async function chatThroughputInProcesses(
  count: number,
  central: Uint8Array,
  security: Security,
): Promise<number> {
  const editors = await startEditorProcesses(count, central, LIVE_ALBUM_FILES, security);
  await editors.ask(
    { kind: "armBurst", perEditor: THROUGHPUT_MESSAGES_PER_EDITOR, count },
    "armed",
  );
  const replies = await editors.ask({ kind: "startBurst" }, "burstDone");
  await editors.converged();
  await editors.stop();
  const start = Math.min(...replies.map((r) => r.startedAt));
  const end = Math.max(...replies.map((r) => r.finishedAt));
  return (count * THROUGHPUT_MESSAGES_PER_EDITOR * 1000) / (end - start);
}

type RoundTrip = { p50: number; p99: number };
/** p50/p99 of a latency sample. */

function latencyRows(
  label: string,
  latency: LatencyResult,
  raw: RoundTrip,
  rawName: string,
  withGoal: boolean,
): BenchRow[] {
  const edits = `${Math.round(latency.editsPerSecond)} edits/s`;
  return [
    {
      name: `chat latency p50, ${label}, ${edits}`,
      value: latency.p50,
      unit: "ms",
      baseline: raw.p50,
      baselineName: `raw zmq one-way p50, ${rawName}`,
      ...(withGoal ? { goal: "<= 2x baseline" } : {}),
    },
    {
      name: `chat latency p99, ${label}, ${edits}`,
      value: latency.p99,
      unit: "ms",
      baseline: raw.p99,
      baselineName: `raw zmq one-way p99, ${rawName}`,
      ...(withGoal ? { goal: "< 5 ms" } : {}),
    },
  ];
}

const files = (count: number): string => `${count.toLocaleString("en-US")} files`;

interface LatencyCase {
  label: string;
  rawName: string;
  withGoal: boolean;
  raw(): Promise<RoundTrip>;
  measure(): Promise<LatencyResult>;
}

const median = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/**
 * Latency rows. The machine is shared and its loopback drifts, so each case
 * runs LATENCY_REPEATS times, the cases interleaved, with the raw round trip
 * re-measured just before each; the rows give the medians.
 */
async function latencyCases(): Promise<BenchRow[]> {
  const liveAlbum = centralCopy({ members: ALBUM_MEMBERS, files: LIVE_ALBUM_FILES });
  const largeAlbum = centralCopy({ members: ALBUM_MEMBERS, files: LARGE_ALBUM_FILES });
  const live = `${files(LIVE_ALBUM_FILES)}, adds+ratings`;
  const inProcesses = (
    count: number,
    album: Uint8Array,
    ratableFiles: number,
    albumLabel: string,
    security: Security = "curve",
  ): LatencyCase => ({
    label: `${count} editor processes, ${albumLabel}${security === "none" ? ", SECURITY OFF" : ""}`,
    rawName: `2 processes, paced ${LATENCY_RATE_PER_SECOND}/s`,
    withGoal: security === "curve",
    raw: () => rawOneWay("processes"),
    measure: () => chatLatencyInProcesses(count, album, ratableFiles, security),
  });
  const inOneProcess = (
    count: number,
    security: Security = "curve",
    contexts: Contexts = "shared",
  ): LatencyCase => ({
    label:
      `${count} editors in 1 process, ${live}${security === "none" ? ", SECURITY OFF" : ""}` +
      (contexts === "per mesh" ? ", a ZeroMQ context per mesh" : ""),
    rawName: `1 process, paced ${LATENCY_RATE_PER_SECOND}/s`,
    withGoal: false,
    raw: () => rawOneWay("one process"),
    measure: () => chatLatency(count, liveAlbum, LIVE_ALBUM_FILES, security, contexts),
  });
  // What CURVE + admission cost, at every mesh size: each secured case next
  // to the same with the mesh's security off, interleaved in the same run.
  const pairs: { secured: LatencyCase; open: LatencyCase }[] = [
    ...EDITOR_COUNTS.map((count) => ({
      secured: inProcesses(count, liveAlbum, LIVE_ALBUM_FILES, live),
      open: inProcesses(count, liveAlbum, LIVE_ALBUM_FILES, live, "none"),
    })),
    { secured: inOneProcess(8), open: inOneProcess(8, "none") },
  ];
  // What sharing one ZeroMQ context (and ZAP handler) saves when several
  // meshes live in one process: the same case with a context per mesh.
  const perMesh = inOneProcess(8, "curve", "per mesh");
  const cases: LatencyCase[] = [
    ...pairs.flatMap(({ secured, open }) => [open, secured]),
    perMesh,
    ...(SCALING_ONLY
      ? []
      : [
          // A large album: the adds alone, then with ratings (the CRDT's read side shows).
          inProcesses(2, largeAlbum, 0, `${files(LARGE_ALBUM_FILES)}, adds only`),
          inProcesses(
            2,
            largeAlbum,
            LARGE_ALBUM_FILES,
            `${files(LARGE_ALBUM_FILES)}, adds+ratings`,
          ),
          ...EDITOR_COUNTS.filter((count) => count < 8).map((count) => inOneProcess(count)),
        ]),
  ];
  const runs = cases.map(() => ({ raw: [] as RoundTrip[], latency: [] as LatencyResult[] }));
  for (let repeat = 0; repeat < LATENCY_REPEATS; repeat++) {
    for (const [i, latencyCase] of cases.entries()) {
      const raw = await latencyCase.raw();
      const latency = await latencyCase.measure();
      runs[i]!.raw.push(raw);
      runs[i]!.latency.push(latency);
      console.error(
        `peer bench: ${latencyCase.label}: p50 ${latency.p50.toFixed(3)} ms, p99 ` +
          `${latency.p99.toFixed(2)} ms, CPU ${latency.cpuMicrosPerMessage.toFixed(1)} us/msg ` +
          `(raw ${raw.p50.toFixed(3)} / ${raw.p99.toFixed(3)} ms)`,
      );
    }
  }
  const medianOf = (
    latencyCase: LatencyCase,
    stat: "p50" | "p99" | "cpuMicrosPerMessage",
  ): number => median(runs[cases.indexOf(latencyCase)]!.latency.map((l) => l[stat]));
  const rows = cases.flatMap((latencyCase, i) => {
    const { raw, latency } = runs[i]!;
    return latencyRows(
      latencyCase.label,
      {
        p50: median(latency.map((l) => l.p50)),
        p99: median(latency.map((l) => l.p99)),
        editsPerSecond: median(latency.map((l) => l.editsPerSecond)),
        cpuMicrosPerMessage: median(latency.map((l) => l.cpuMicrosPerMessage)),
      },
      { p50: median(raw.map((r) => r.p50)), p99: median(raw.map((r) => r.p99)) },
      latencyCase.rawName,
      latencyCase.withGoal,
    );
  });
  // What security costs, directly: each secured case against the same with security off.
  for (const { secured, open } of pairs) {
    for (const stat of ["p50", "p99"] as const) {
      rows.push({
        name: `chat latency ${stat}, ${secured.label} (CURVE + ZAP)`,
        value: medianOf(secured, stat),
        unit: "ms",
        baseline: medianOf(open, stat),
        baselineName: "the same with the mesh's security off",
      });
    }
    rows.push({
      name: `CPU per delivered chat message, ${secured.label} (CURVE + ZAP)`,
      value: medianOf(secured, "cpuMicrosPerMessage"),
      unit: "us",
      baseline: medianOf(open, "cpuMicrosPerMessage"),
      baselineName: "the same with the mesh's security off",
    });
  }
  const shared = pairs.at(-1)!.secured;
  for (const stat of ["p50", "p99", "cpuMicrosPerMessage"] as const) {
    rows.push({
      name:
        stat === "cpuMicrosPerMessage"
          ? `CPU per delivered chat message, ${shared.label}, one shared ZeroMQ context`
          : `chat latency ${stat}, ${shared.label}, one shared ZeroMQ context`,
      value: medianOf(shared, stat),
      unit: stat === "cpuMicrosPerMessage" ? "us" : "ms",
      baseline: medianOf(perMesh, stat),
      baselineName: "the same with a context and ZAP handler per mesh (before)",
    });
  }
  if (SCALING_ONLY) return rows;
  const rawThroughput: number[] = [];
  const throughputCases: { count: number; security: Security }[] = [
    { count: 2, security: "none" },
    ...EDITOR_COUNTS.map((count) => ({ count, security: "curve" as Security })),
  ];
  const throughput = throughputCases.map((): number[] => []);
  for (let repeat = 0; repeat < LATENCY_REPEATS; repeat++) {
    rawThroughput.push(await rawStream());
    for (const [i, { count, security }] of throughputCases.entries()) {
      throughput[i]!.push(await chatThroughputInProcesses(count, liveAlbum, security));
    }
  }
  for (const [i, { count, security }] of throughputCases.entries()) {
    rows.push({
      name: `chat throughput, ${count} editor processes all sending, + edits${security === "none" ? ", SECURITY OFF" : ""}`,
      value: median(throughput[i]!),
      unit: "msg/s",
      baseline: median(rawThroughput),
      baselineName: "raw zmq one-way stream",
      higherIsBetter: true,
    });
  }
  return rows;
}

async function newcomerCases(): Promise<BenchRow[]> {
  const compacted = centralCopy({ members: ALBUM_MEMBERS, files: 0 });
  const album = sessionAlbum({
    central: compacted,
    editors: NEWCOMER_PEERS,
    files: LARGE_ALBUM_FILES,
    ratings: NEWCOMER_RATINGS,
    lagEdits: NEWCOMER_LAG_EDITS,
  });
  const newcomer = await newcomerSync(album, compacted, "curve");
  const insecure = await newcomerSync(album, compacted, "none");
  const rawTransfer = await rawStateTransfer(album.full);
  const rawName = "raw zmq req/rep: encode+send+decode whole state";
  const peers = `${NEWCOMER_PEERS} peers, ${NEWCOMER_CHAT_HISTORY} chat msgs`;
  return [
    {
      name: `newcomer sync, central copy lacks all ${album.edits} edits, ${peers}`,
      value: newcomer.fromCompacted.sync,
      unit: "ms",
      baseline: rawTransfer,
      baselineName: rawName,
    },
    {
      name: `newcomer sync, central copy lacks last ${album.lagEdits} edits, ${peers}`,
      value: newcomer.fromLagging.sync,
      unit: "ms",
      baseline: rawTransfer,
      baselineName: rawName,
    },
    {
      name: `newcomer sync, central copy lacks all ${album.edits} edits, ${peers}`,
      value: newcomer.fromCompacted.sync,
      unit: "ms",
      baseline: insecure.fromCompacted.sync,
      baselineName: "the same with the mesh's security off (no CURVE, no ZAP)",
    },
    {
      name: `newcomer sync, central copy lacks last ${album.lagEdits} edits, ${peers}`,
      value: newcomer.fromLagging.sync,
      unit: "ms",
      baseline: insecure.fromLagging.sync,
      baselineName: "the same with the mesh's security off (no CURVE, no ZAP)",
    },
    {
      name: `newcomer: decode that central copy first (getAlbum, not in the sync above)`,
      value: newcomer.fromLagging.decode,
      unit: "ms",
    },
    {
      name: `album state size, ${files(LARGE_ALBUM_FILES)} + ${NEWCOMER_RATINGS} ratings by ${NEWCOMER_PEERS} slots`,
      value: album.full.byteLength,
      unit: "bytes",
      baseline: compactedSize(album.full),
      baselineName: "same album compacted (central copy)",
    },
    {
      name: `sync reply size, central copy lacks last ${album.lagEdits} edits`,
      value: newcomer.laggingReplyBytes,
      unit: "bytes",
      baseline: album.full.byteLength,
      baselineName: "whole state",
    },
  ];
}

const benchmark: Benchmark = {
  id: "peer",
  title:
    "Peer layer with the album CRDT: causal chat + live edits over the ZeroMQ mesh, newcomer sync",
  async run(): Promise<BenchRow[]> {
    const latency = await latencyCases();
    return SCALING_ONLY ? latency : [...latency, ...(await newcomerCases())];
  },
};

export default benchmark;

const editorIndex = process.env.PEER_BENCH_EDITOR;
if (editorIndex !== undefined) await runEditorProcess(Number(editorIndex));
if (process.env.PEER_BENCH_SENDER !== undefined) {
  process.on("disconnect", () => process.exit(0));
  await sendPaced(process.env.PEER_BENCH_SENDER);
  await new Promise(() => undefined); // the parent ends us once it has every message
}
