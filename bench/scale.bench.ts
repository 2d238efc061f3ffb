// The central server with many idle logged-in clients: 1, 100, 1,000 and
// 10,000 connections, each keeping itself alive with the client library's own
// heartbeat (a ping every third of the server's idle timeout). At each step:
// - the server's resident memory (VmRSS from /proc, after a full garbage
//   collection) and the cost per added connection against the 1-client row;
// - the server's CPU share over one whole heartbeat period (utime+stime from
//   /proc, as a share of one core): what the heartbeats cost (nothing else
//   runs then; the 1-client row is the idle server);
// - the p50 and p99 latency of listAlbums for one active client, against the
//   same figures with 1 client connected (the ratio is the slowdown).
// The server runs in its own process (the product's server class, with cheap
// password hashing so 10,000 logins take seconds: see fixtures/scale-central.ts).
// The clients live in this process: run with a file-handle limit above 10,100.
// The memory per connection is shown from 1,000 connections on: below that,
// the collector's own noise is larger than what the connections add.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { CentralClient } from "../src/client/central-client.ts";
import { percentile, type Benchmark, type BenchRow } from "./harness.ts";

const STEPS = [1, 100, 1_000, 10_000];
const LATENCY_REQUESTS = 2_000;
const CONNECT_CONCURRENCY = 200;
const fixture = fileURLToPath(new URL("./fixtures/scale-central.ts", import.meta.url));
const CLOCK_TICKS = 100; // USER_HZ on Linux

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? NaN) * 1024;
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", fixture], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`central server exited (${code})`)));
    lines.once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  return { child, port };
}

async function connectMany(address: string, count: number, into: CentralClient[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONNECT_CONCURRENCY, count) }, async () => {
      while (next < count) {
        next++;
        const client = await CentralClient.connect({ address, requestTimeoutMs: 60_000 });
        await client.login("idle", "idle-password");
        into.push(client);
      }
    }),
  );
}

async function latencies(client: CentralClient): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_REQUESTS; i++) {
    const start = performance.now();
    await client.listAlbums();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

interface Step {
  clients: number;
  rss: number;
  cpuShare: number;
  p50: number;
  p99: number;
}

async function run(): Promise<BenchRow[]> {
  const { child, port } = await startServer();
  const pid = child.pid!;
  const address = `127.0.0.1:${port}`;
  const idle: CentralClient[] = [];
  const steps: Step[] = [];
  try {
    const active = await CentralClient.connect({ address });
    await active.register("idle", "idle-password");
    await active.login("idle", "idle-password");
    await active.createAlbum("scale");
    // The heartbeat period the clients use (a third of the server's idle timeout).
    const heartbeatMs = 10_000;
    for (const target of STEPS) {
      await connectMany(address, target - 1 - idle.length, idle);
      if (steps.length === 0) await latencies(active); // warm-up, not measured
      child.kill("SIGUSR2");
      await new Promise((r) => setTimeout(r, 1_000));
      const rss = rssBytes(pid);
      const cpuBefore = cpuSeconds(pid);
      const wallBefore = performance.now();
      await new Promise((r) => setTimeout(r, heartbeatMs + 500));
      const cpuShare = (cpuSeconds(pid) - cpuBefore) / ((performance.now() - wallBefore) / 1000);
      const { p50, p99 } = await latencies(active);
      steps.push({ clients: target, rss, cpuShare, p50, p99 });
    }
    active.close();
  } finally {
    for (const client of idle) client.close();
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  }
  const base = steps[0]!;
  return steps.flatMap((step): BenchRow[] => {
    const label = `${step.clients.toLocaleString("en")} client${step.clients === 1 ? "" : "s"}`;
    const perConnection =
      step.clients > 1 ? (step.rss - base.rss) / (step.clients - 1) / 1024 : Number.NaN;
    return [
      {
        name: `${label}: server RSS`,
        value: step.rss / 2 ** 20,
        unit: "MiB",
        baseline: base.rss / 2 ** 20,
        baselineName: "1 client",
        higherIsBetter: false,
        goal: "< 1024 MiB at 10,000",
      },
      ...(step.clients >= 1_000
        ? [
            {
              name: `${label}: memory per connection`,
              value: perConnection,
              unit: "KiB",
              higherIsBetter: false,
            },
          ]
        : []),
      {
        name: `${label}: server CPU (heartbeats)`,
        value: step.cpuShare * 100,
        unit: "% core",
        higherIsBetter: false,
        goal: "< 10 % at 10,000",
      },
      {
        name: `${label}: listAlbums p50`,
        value: step.p50 * 1000,
        unit: "µs",
        baseline: base.p50 * 1000,
        baselineName: "1 client",
        higherIsBetter: false,
      },
      {
        name: `${label}: listAlbums p99`,
        value: step.p99 * 1000,
        unit: "µs",
        baseline: base.p99 * 1000,
        baselineName: "1 client",
        higherIsBetter: false,
      },
    ];
  });
}

const benchmark: Benchmark = {
  id: "scale",
  title: "Central server with many idle logged-in clients",
  run,
};
export default benchmark;
