// Benchmark "tls": what TLS 1.3 costs on the links that leave a host, against
// the same system in plaintext (--insecure) in the same run. Two systems run
// side by side on loopback (central server + one data server each, real
// processes); this process is the client, through the product's client
// library, switching its transport security between them:
// - upload and download throughput of a 64 MiB file (client <-> data server
//   over gRPC), fresh content per round so nothing is deduplicated;
// - the round trip of a central request (listAlbums, p50 and p99 of 1,000):
//   the framed protocol over TLS. Chat is not in it: chat messages travel
//   between the editors over the peer mesh, which TLS does not cover.
// Rounds alternate between the two systems so drift on a shared machine hits
// both alike; the best round of each is reported.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CentralClient } from "../src/client/central-client.ts";
import { ClusterRingSource } from "../src/client/data-transfer/cluster-ring-source.ts";
import { DataTransferClient } from "../src/client/data-transfer/data-transfer-client.ts";
import { ensureCertificate, tlsArguments } from "../src/common/tls/local-certificates.ts";
import {
  loadTransportSecurity,
  useTransportSecurity,
  type TransportSecurity,
} from "../src/common/tls/transport-security.ts";
import { CliServer } from "../test/support/cli-server.ts";
import { percentile, type Benchmark, type BenchRow } from "./harness.ts";

const MiB = 1024 * 1024;
const FILE_BYTES = 64 * MiB;
const ROUNDS = 3;
const REQUESTS = 1_000;
const TOKEN = "tls-bench-cluster-token-0123456789";

interface System {
  security: TransportSecurity;
  servers: CliServer[];
  central: string;
  cluster: string;
}

async function startSystem(root: string, name: string, tlsArgs: string[]): Promise<System> {
  const central = await CliServer.start([
    ...["central", "--host", "127.0.0.1", "--port", "0", "--cluster-port", "0"],
    ...["--cluster-token", TOKEN, "--dir", join(root, name, "central"), "--log-level", "warn"],
    ...tlsArgs,
  ]);
  const cluster = `127.0.0.1:${central.listening.clusterPort}`;
  const data = await CliServer.start([
    ...["data", "--central", cluster, "--host", "127.0.0.1", "--port", "0"],
    ...["--cluster-token", TOKEN, "--dir", join(root, name, "data"), "--log-level", "warn"],
    ...tlsArgs,
  ]);
  return {
    security: { kind: "plaintext" },
    servers: [central, data],
    central: `127.0.0.1:${central.listening.port}`,
    cluster,
  };
}

async function transfer(
  system: System,
  root: string,
  round: string,
): Promise<{ upload: number; download: number }> {
  useTransportSecurity(system.security);
  const file = join(root, `file-${round}`);
  writeFileSync(file, randomBytes(FILE_BYTES));
  const ringSource = new ClusterRingSource(system.cluster, TOKEN);
  await ringSource.refresh();
  const client = new DataTransferClient(ringSource);
  try {
    let start = performance.now();
    const uploaded = await client.upload(file);
    const upload = FILE_BYTES / MiB / ((performance.now() - start) / 1000);
    start = performance.now();
    await client.download(uploaded.key, join(root, `back-${round}`));
    const download = FILE_BYTES / MiB / ((performance.now() - start) / 1000);
    return { upload, download };
  } finally {
    client.close();
    ringSource.close();
    rmSync(file);
    rmSync(join(root, `back-${round}`), { force: true });
  }
}

async function roundTrips(system: System, user: string): Promise<number[]> {
  useTransportSecurity(system.security);
  const client = await CentralClient.connect({ address: system.central });
  try {
    await client.register(user, "bench-password-1");
    await client.login(user, "bench-password-1");
    for (let i = 0; i < 100; i++) await client.listAlbums(); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const start = performance.now();
      await client.listAlbums();
      samples.push(performance.now() - start);
    }
    return samples.sort((a, b) => a - b);
  } finally {
    client.close();
  }
}

const bench: Benchmark = {
  id: "tls",
  title: "TLS 1.3 cost: 64 MiB upload/download and central round trips, TLS vs plaintext",
  async run(): Promise<BenchRow[]> {
    const root = mkdtempSync(join(tmpdir(), "albumshare-tls-bench-"));
    const systems: System[] = [];
    try {
      const files = ensureCertificate(join(root, "ca"), join(root, "certs"), "server", [
        "127.0.0.1",
      ]);
      const plain = await startSystem(root, "plain", ["--insecure"]);
      systems.push(plain);
      const secure = await startSystem(root, "tls", tlsArguments(files));
      secure.security = loadTransportSecurity({ tlsCa: files.ca }, "client");
      systems.push(secure);
      const best = { plain: { upload: 0, download: 0 }, tls: { upload: 0, download: 0 } };
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, system] of [
          ["plain", plain],
          ["tls", secure],
        ] as const) {
          const result = await transfer(system, root, `${name}-${round}`);
          best[name].upload = Math.max(best[name].upload, result.upload);
          best[name].download = Math.max(best[name].download, result.download);
        }
      }
      const plainTrips = await roundTrips(plain, "plain");
      const tlsTrips = await roundTrips(secure, "tls");
      const baselineName = "same, plaintext";
      return [
        {
          name: "upload 64 MiB over TLS (best of 3)",
          value: best.tls.upload,
          unit: "MiB/s",
          baseline: best.plain.upload,
          baselineName,
          higherIsBetter: true,
          goal: ">= 0.7x",
        },
        {
          name: "download 64 MiB over TLS (best of 3)",
          value: best.tls.download,
          unit: "MiB/s",
          baseline: best.plain.download,
          baselineName,
          higherIsBetter: true,
          goal: ">= 0.7x",
        },
        {
          name: "central request round trip over TLS, p50",
          value: percentile(tlsTrips, 50),
          unit: "ms",
          baseline: percentile(plainTrips, 50),
          baselineName,
          goal: "<= 1.5x",
        },
        {
          name: "central request round trip over TLS, p99",
          value: percentile(tlsTrips, 99),
          unit: "ms",
          baseline: percentile(plainTrips, 99),
          baselineName,
          goal: "<= 2x",
        },
      ];
    } finally {
      useTransportSecurity({ kind: "plaintext" });
      await Promise.all(systems.flatMap((s) => s.servers.map((server) => server.stop())));
      rmSync(root, { recursive: true, force: true });
    }
  },
};

export default bench;
