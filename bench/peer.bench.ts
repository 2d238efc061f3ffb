// Peer layer benchmark: chat delivery latency (p50/p99 at 1,000 messages per
// second) and chat throughput with 2, 4 and 8 editors, next to a raw ZeroMQ
// DEALER/ROUTER ping-pong and stream measured in the same run; and the time a
// newcomer takes to sync a ~1 MB replica state (a stand-in ReplicaPort; the
// real CRDT can be plugged in later) next to a raw 1 MB ZeroMQ request/reply.
// Editors run as deployed, one per child process (this file, re-run with
// PEER_BENCH_EDITOR set); one-way latency then compares time stamps of
// different processes (performance.timeOrigin + now(), within ~0.05 ms of each
// other on one machine). The same latency is also measured with every editor
// in this one process (a single clock, but one JS thread doing every editor's
// receive work: a pessimistic bound that grows with the number of editors).

import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Dealer, Router } from "zeromq";
import { percentile, type Benchmark, type BenchRow } from "./harness.ts";
import { PeerMesh } from "../src/peer/peer-mesh.ts";
import { SessionPeer } from "../src/peer/session-peer.ts";
import type { ReplicaPort } from "../src/peer/replica-port.ts";

const EDITOR_COUNTS = [2, 4, 8];
const LATENCY_RATE_PER_SECOND = 1000;
const LATENCY_MESSAGES = 3000;
const THROUGHPUT_MESSAGES_PER_EDITOR = 2000;
const PING_PONGS = 5000;
const RAW_STREAM_MESSAGES = 100_000;
const LARGE_STATE_BYTES = 1024 * 1024;
const CHAT_TEXT = "x".repeat(60);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A replica that holds an opaque blob: it lacks everything until it got it once. */
class BlobReplica implements ReplicaPort {
  state: Uint8Array;
  constructor(state: Uint8Array) {
    this.state = state;
  }
  applyRemote(encodedDelta: Uint8Array): void {
    if (encodedDelta.byteLength > this.state.byteLength) this.state = encodedDelta;
  }
  encodedContext(): Uint8Array {
    return Uint8Array.of(this.state.byteLength > 0 ? 1 : 0);
  }
  encodedMissingFor(encodedRemoteContext: Uint8Array): Uint8Array | undefined {
    if (encodedRemoteContext[0] === 1 || this.state.byteLength === 0) return undefined;
    return this.state;
  }
}

/** Round trips of a 100-byte message to an echoing ROUTER at `endpoint`. */
async function pingPong(endpoint: string): Promise<{ p50: number; p99: number }> {
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(endpoint);
  const payload = Buffer.alloc(100, 1);
  const samples: number[] = [];
  for (let i = 0; i < PING_PONGS + 200; i++) {
    const start = performance.now();
    await dealer.send(payload);
    await dealer.receive();
    if (i >= 200) samples.push(performance.now() - start);
  }
  dealer.close();
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function startEcho(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const router = new Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:0");
  const echo = (async () => {
    for await (const [id, payload] of router) await router.send([id!, payload!]);
  })();
  return {
    endpoint: router.lastEndpoint!,
    stop: async () => {
      router.close();
      await echo.catch(() => undefined);
    },
  };
}

/** Raw ping-pong with both sockets in this process. */
async function rawPingPong(): Promise<{ p50: number; p99: number }> {
  const echo = await startEcho();
  const result = await pingPong(echo.endpoint);
  await echo.stop();
  return result;
}

/** Raw ping-pong with the echoing socket in a child process, like two editors. */
async function rawPingPongBetweenProcesses(): Promise<{ p50: number; p99: number }> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, PEER_BENCH_ECHO: "1" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [endpoint] = (await once(child, "message")) as [string];
  const result = await pingPong(endpoint);
  const exited = once(child, "exit");
  child.kill();
  await exited;
  return result;
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

async function rawLargeRequest(bytes: number): Promise<number> {
  const router = new Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:0");
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(router.lastEndpoint!);
  const blob = Buffer.alloc(bytes, 7);
  const serve = (async () => {
    for await (const [id] of router) await router.send([id!, blob]);
  })();
  const samples: number[] = [];
  for (let i = 0; i < 12; i++) {
    const start = performance.now();
    await dealer.send("give");
    await dealer.receive();
    if (i >= 2) samples.push(performance.now() - start);
  }
  dealer.close();
  router.close();
  await serve.catch(() => undefined);
  samples.sort((a, b) => a - b);
  return percentile(samples, 50);
}

interface Session {
  editors: SessionPeer[];
  stop(): Promise<void>;
}

async function startSession(
  count: number,
  replicas?: (slot: number) => ReplicaPort,
): Promise<Session> {
  const editors: SessionPeer[] = [];
  for (let slot = 0; slot < count; slot++) {
    const editor = new SessionPeer({
      mesh: new PeerMesh({ slot }),
      user: `user${slot}`,
      sessionEpoch: 1,
      replica: replicas?.(slot) ?? new BlobReplica(new Uint8Array(0)),
      initialPeers: editors.map((e) => ({ slot: e.slot, user: e.user, address: e.address })),
    });
    await editor.start();
    await editor.whenSynced();
    editors.push(editor);
  }
  while (editors.some((e) => e.peers().length < count - 1)) await sleep(5);
  return {
    editors,
    stop: async () => {
      await Promise.all(editors.map((e) => e.stop()));
    },
  };
}

/** One-way chat latency, sendChat() to delivery at each other editor, at a fixed total rate. */
async function chatLatency(count: number): Promise<{ p50: number; p99: number }> {
  const session = await startSession(count);
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  let delivered = 0;
  for (const editor of session.editors) {
    editor.on("chat", (entry) => {
      if (entry.slot === editor.slot) return;
      samples.push(performance.now() - sentAt.get(entry.text)!);
      delivered++;
    });
  }
  const expected = LATENCY_MESSAGES * (count - 1);
  const periodMs = 1000 / LATENCY_RATE_PER_SECOND;
  const start = performance.now();
  let sent = 0;
  while (sent < LATENCY_MESSAGES) {
    const due = Math.min(LATENCY_MESSAGES, Math.floor((performance.now() - start) / periodMs) + 1);
    while (sent < due) {
      const text = `${sent} ${CHAT_TEXT}`;
      sentAt.set(text, performance.now());
      void session.editors[sent % count]!.sendChat(text);
      sent++;
    }
    await sleep(1);
  }
  while (delivered < expected) await sleep(5);
  await session.stop();
  // Leave out the first 10% (connection warm-up, JIT).
  const steady = samples.slice(Math.floor(samples.length / 10)).sort((a, b) => a - b);
  return { p50: percentile(steady, 50), p99: percentile(steady, 99) };
}

/** Time from a newcomer's start() to its initial sync, with 3 editors holding ~1 MB. */
async function newcomerSync(): Promise<number> {
  const state = new Uint8Array(LARGE_STATE_BYTES).map((_, i) => i % 251);
  const samples: number[] = [];
  for (let round = 0; round < 5; round++) {
    const session = await startSession(3, () => new BlobReplica(state));
    const replica = new BlobReplica(new Uint8Array(0));
    const start = performance.now();
    const newcomer = new SessionPeer({
      mesh: new PeerMesh({ slot: 3 }),
      user: "newcomer",
      sessionEpoch: 1,
      replica,
      initialPeers: session.editors.map((e) => ({
        slot: e.slot,
        user: e.user,
        address: e.address,
      })),
    });
    await newcomer.start();
    const outcome = await newcomer.whenSynced();
    const elapsed = performance.now() - start;
    if (outcome.timedOut || replica.state.byteLength !== LARGE_STATE_BYTES) {
      throw new Error("the newcomer did not get the state");
    }
    if (round > 0) samples.push(elapsed);
    await newcomer.stop();
    await session.stop();
  }
  samples.sort((a, b) => a - b);
  return percentile(samples, 50);
}

// --- editors in child processes ---------------------------------------------------------

// Each measurement is armed in every editor first (so no editor misses a
// message sent by a faster one), then started.
type ToEditor =
  | { kind: "connect"; peers: { slot: number; user: string; address: string }[] }
  | { kind: "armPaced"; total: number; count: number; periodMs: number }
  | { kind: "startPaced"; startAt: number }
  | { kind: "armBurst"; perEditor: number; count: number }
  | { kind: "startBurst" }
  | { kind: "stop" };

type FromEditor =
  | { kind: "ready"; address: string }
  | { kind: "connected" }
  | { kind: "armed" }
  | { kind: "latencies"; samples: number[] }
  | { kind: "burstDone"; startedAt: number; finishedAt: number };

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
const wallNow = (): number => performance.timeOrigin + performance.now();

async function runEditorProcess(slot: number): Promise<void> {
  const send = (message: FromEditor): void => void process.send!(message);
  const editor = new SessionPeer({
    mesh: new PeerMesh({ slot }),
    user: `user${slot}`,
    sessionEpoch: 1,
    replica: new BlobReplica(new Uint8Array(0)),
  });
  await editor.start();
  // Never outlive the benchmark, even when it fails.
  process.on("disconnect", () => process.exit(0));
  send({ kind: "ready", address: editor.address });
  let onChat: (text: string, own: boolean) => void = () => undefined;
  let paced = { total: 0, count: 1, periodMs: 1 };
  let burst = { perEditor: 0, startedAt: 0 };
  editor.on("chat", (entry) => onChat(entry.text, entry.slot === slot));
  process.on("message", (message: ToEditor) => {
    void (async () => {
      switch (message.kind) {
        case "connect":
          for (const peer of message.peers) if (peer.slot !== slot) editor.addPeer(peer);
          while (editor.peers().length < message.peers.length - 1) await sleep(5);
          send({ kind: "connected" });
          return;
        case "armPaced": {
          paced = message;
          const samples: number[] = [];
          const expected = message.total - Math.ceil((message.total - slot) / message.count);
          onChat = (text, own) => {
            if (own) return;
            samples.push(wallNow() - Number(text.slice(0, text.indexOf("|"))));
            if (samples.length === expected) send({ kind: "latencies", samples });
          };
          send({ kind: "armed" });
          return;
        }
        case "startPaced":
          // Timer-paced (no busy wait: the other editors share the cores); the
          // latency is taken from the actual send time carried in the text.
          for (let i = slot; i < paced.total; i += paced.count) {
            const wait = message.startAt + i * paced.periodMs - wallNow();
            if (wait > 0) await sleep(wait);
            void editor.sendChat(`${wallNow()}|${CHAT_TEXT}`);
          }
          return;
        case "armBurst": {
          const expected = message.perEditor * message.count;
          let delivered = 0;
          burst = { perEditor: message.perEditor, startedAt: 0 };
          onChat = () => {
            if (++delivered === expected) {
              send({ kind: "burstDone", startedAt: burst.startedAt, finishedAt: wallNow() });
            }
          };
          send({ kind: "armed" });
          return;
        }
        case "startBurst":
          burst.startedAt = wallNow();
          for (let i = 0; i < burst.perEditor; i++) {
            void editor.sendChat(`${i}|${CHAT_TEXT}`);
            if (i % 100 === 99) await sleep(0);
          }
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
  stop(): Promise<void>;
  kill(): void;
}

async function startEditorProcesses(count: number): Promise<EditorProcesses> {
  const file = fileURLToPath(import.meta.url);
  const children = Array.from({ length: count }, (_, slot) =>
    fork(file, [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, PEER_BENCH_EDITOR: String(slot) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
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
    const peers = ready.map((r, slot) => ({ slot, user: `user${slot}`, address: r.address }));
    await processes.ask({ kind: "connect", peers }, "connected");
  } catch (error) {
    kill();
    throw error;
  }
  return processes;
}

async function chatLatencyInProcesses(count: number): Promise<{ p50: number; p99: number }> {
  const editors = await startEditorProcesses(count);
  const periodMs = 1000 / LATENCY_RATE_PER_SECOND;
  await editors.ask({ kind: "armPaced", total: LATENCY_MESSAGES, count, periodMs }, "armed");
  const replies = await editors.ask({ kind: "startPaced", startAt: wallNow() + 50 }, "latencies");
  await editors.stop();
  // Leave out each receiver's first 10% (connection warm-up, JIT).
  const steady = replies
    .flatMap(({ samples }) => samples.slice(Math.floor(samples.length / 10)))
    .sort((a, b) => a - b);
  return { p50: percentile(steady, 50), p99: percentile(steady, 99) };
}

async function chatThroughputInProcesses(count: number): Promise<number> {
  const editors = await startEditorProcesses(count);
  await editors.ask(
    { kind: "armBurst", perEditor: THROUGHPUT_MESSAGES_PER_EDITOR, count },
    "armed",
  );
  const replies = await editors.ask({ kind: "startBurst" }, "burstDone");
  await editors.stop();
  const start = Math.min(...replies.map((r) => r.startedAt));
  const end = Math.max(...replies.map((r) => r.finishedAt));
  return (count * THROUGHPUT_MESSAGES_PER_EDITOR * 1000) / (end - start);
}

const benchmark: Benchmark = {
  id: "peer",
  title: "Peer layer: causal chat over the ZeroMQ mesh, newcomer sync",
  async run(): Promise<BenchRow[]> {
    const raw = await rawPingPong();
    const rawBetweenProcesses = await rawPingPongBetweenProcesses();
    const rawThroughput = await rawStream();
    const rows: BenchRow[] = [];
    for (const count of EDITOR_COUNTS) {
      const latency = await chatLatencyInProcesses(count);
      rows.push(
        {
          name: `chat latency p50, ${count} editor processes, 1000 msg/s`,
          value: latency.p50,
          unit: "ms",
          baseline: rawBetweenProcesses.p50,
          baselineName: "raw zmq round trip p50, 2 processes",
          goal: "<= 2x baseline",
        },
        {
          name: `chat latency p99, ${count} editor processes, 1000 msg/s`,
          value: latency.p99,
          unit: "ms",
          baseline: rawBetweenProcesses.p99,
          baselineName: "raw zmq round trip p99, 2 processes",
          goal: "< 5 ms",
        },
      );
    }
    for (const count of EDITOR_COUNTS) {
      const latency = await chatLatency(count);
      rows.push(
        {
          name: `chat latency p50, ${count} editors in 1 process`,
          value: latency.p50,
          unit: "ms",
          baseline: raw.p50,
          baselineName: "raw zmq round trip p50, 1 process",
        },
        {
          name: `chat latency p99, ${count} editors in 1 process`,
          value: latency.p99,
          unit: "ms",
          baseline: raw.p99,
          baselineName: "raw zmq round trip p99, 1 process",
        },
      );
    }
    for (const count of EDITOR_COUNTS) {
      rows.push({
        name: `chat throughput, ${count} editor processes all sending`,
        value: await chatThroughputInProcesses(count),
        unit: "msg/s",
        baseline: rawThroughput,
        baselineName: "raw zmq one-way stream",
        higherIsBetter: true,
      });
    }
    rows.push({
      name: "newcomer sync, ~1 MB state, 3 editors",
      value: await newcomerSync(),
      unit: "ms",
      baseline: await rawLargeRequest(LARGE_STATE_BYTES),
      baselineName: "raw zmq 1 MB request/reply",
    });
    return rows;
  },
};

export default benchmark;

const editorSlot = process.env.PEER_BENCH_EDITOR;
if (editorSlot !== undefined) await runEditorProcess(Number(editorSlot));
if (process.env.PEER_BENCH_ECHO !== undefined) {
  process.on("disconnect", () => process.exit(0));
  const echo = await startEcho();
  process.send!(echo.endpoint);
}
