// The multi-host test (`npm run test:hosts`; needs root for network
// namespaces, skips with one line otherwise). Every process runs on a host of
// its own — a network namespace with its own addresses (see network-lab.ts) —
// and every link between hosts is TLS with certificates from one CA, made for
// each server's address. It runs: register, an album, three editors adding,
// rating, downloading and chatting across hosts; a fourth data server joining
// from a new host while downloads go on; one editor's backbone link (to the
// central server and the data servers) cut while its peer link stays up, then
// restored; a data server's link cut during a download (the client reports
// it, and the download works once the link is back). Everything must
// converge and verify. The central server is dialled by a host name that the
// lab resolves. Every namespace is removed, also on failure.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureCertificate, tlsArguments } from "../../src/common/tls/local-certificates.ts";
import { makeTempDir } from "../central/helpers/central-process.ts";
import { ShellClient, type CommandResult } from "../session/helpers/local-system.ts";
import { albumshareBin, CliServer } from "../support/cli-server.ts";
import { eventually } from "../support/eventually.ts";
import { namespacesUnavailable, NetworkLab, type Host } from "./network-lab.ts";

const TOKEN = "multi-host-cluster-token-0123456789";
const CENTRAL_PORT = 7400;
const CLUSTER_PORT = 7401;
const DATA_PORT = 7402;
/** The central server is dialled by name (resolved through the lab's hosts files). */
const CENTRAL_NAME = "central.albumshare.test";

const unavailable = namespacesUnavailable();
if (unavailable) process.stdout.write(`test:hosts skipped: ${unavailable}\n`);

interface FileListing {
  files: { name: string; average: number | null; ratings: number }[];
}

describe("AlbumSharing across hosts, every link TLS", { skip: unavailable }, () => {
  const temp = makeTempDir("albumshare-hosts-");
  const caDir = join(temp.dir, "ca");
  const servers = new Map<string, CliServer>();
  const clients: ShellClient[] = [];
  const content = new Map<string, Buffer>();
  let lab: NetworkLab;
  let centralHost: Host;
  const dataHosts: Host[] = [];
  let alice: ShellClient;
  let bob: ShellClient;
  let carol: ShellClient;
  let aliceHost: Host;

  const centralAddress = (): string => `${CENTRAL_NAME}:${CENTRAL_PORT}`;

  const startDataServer = async (host: Host): Promise<CliServer> => {
    const files = ensureCertificate(caDir, join(temp.dir, host.name), "server", [host.address]);
    const server = await CliServer.start(
      [
        ...["data", "--central", `${CENTRAL_NAME}:${CLUSTER_PORT}`],
        ...["--host", host.address, "--port", String(DATA_PORT)],
        ...["--advertise", `${host.address}:${DATA_PORT}`, "--cluster-token", TOKEN],
        ...["--dir", join(temp.dir, host.name, "data"), "--log-level", "warn"],
        ...tlsArguments(files),
      ],
      60_000,
      host.launcher,
    );
    servers.set(host.name, server);
    return server;
  };

  const makeFile = (name: string, size: number): string => {
    const bytes = randomBytes(size);
    const path = join(temp.dir, name);
    writeFileSync(path, bytes);
    content.set(name, bytes);
    return path;
  };

  const listing = async (client: ShellClient): Promise<FileListing["files"]> =>
    ((await client.ok("listFiles")).data as FileListing).files;

  const converged = (what: string, check: (files: FileListing["files"]) => boolean) =>
    eventually(
      async () => {
        const all = await Promise.all([alice, bob, carol].map(listing));
        const same = all.every((files) => JSON.stringify(files) === JSON.stringify(all[0]));
        return same && check(all[0]!);
      },
      what,
      { timeoutMs: 60_000, pollMs: 300 },
    );

  const downloadsVerified = async (client: ShellClient, name: string): Promise<void> => {
    const target = join(temp.dir, `${client.name}-${name}`);
    // The same file may be fetched again after the ring changed: replace it.
    await client.ok(`downloadFile ${name} ${target} --force`);
    assert.deepEqual(readFileSync(target), content.get(name), `${client.name}: ${name}`);
  };

  before(async () => {
    lab = new NetworkLab();
    centralHost = lab.addHost("central", 1);
    for (const index of [11, 12, 13, 14]) dataHosts.push(lab.addHost(`data${index}`, index));
    const clientHosts = [21, 22, 23].map((index) => lab.addHost(`client${index}`, index, true));
    aliceHost = clientHosts[0]!;
    lab.nameHosts({ [CENTRAL_NAME]: centralHost.address });
    const centralFiles = ensureCertificate(caDir, join(temp.dir, "central"), "server", [
      CENTRAL_NAME,
      centralHost.address,
    ]);
    servers.set(
      "central",
      await CliServer.start(
        [
          ...["central", "--host", centralHost.address, "--port", String(CENTRAL_PORT)],
          ...["--cluster-port", String(CLUSTER_PORT), "--cluster-token", TOKEN],
          ...["--dir", join(temp.dir, "central", "db"), "--idle-timeout-ms", "3000"],
          ...["--log-level", "warn"],
          ...tlsArguments(centralFiles),
        ],
        60_000,
        centralHost.launcher,
      ),
    );
    for (const host of dataHosts.slice(0, 3)) await startDataServer(host);
    const ca = join(caDir, "ca.pem");
    [alice, bob, carol] = ["alice", "bob", "carol"].map((name, i) => {
      const host = clientHosts[i]!;
      const client = new ShellClient(name, centralAddress(), temp.dir, {
        launcher: host.launcher,
        args: ["--tls-ca", ca, "--peer-host", host.peerAddress!, "--peer-port", "0"],
      });
      clients.push(client);
      return client;
    }) as [ShellClient, ShellClient, ShellClient];
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => c.kill9())));
    await Promise.all([...servers.values()].map((s) => s.stop()));
    lab?.remove();
    temp.remove();
  });

  test("three editors on three hosts add, rate, chat and download", async () => {
    for (const client of [alice, bob, carol]) {
      await client.ok(`register ${client.name} password-of-${client.name}`);
      await client.ok(`login ${client.name} password-of-${client.name}`);
    }
    await alice.ok("createAlbum across");
    await alice.ok("getAlbum across");
    await alice.ok("addUser bob");
    await alice.ok("addUser carol");
    await bob.ok("getAlbum across");
    await carol.ok("getAlbum across");
    await alice.waitEvent((e) => e.event === "joined" && e.user === "carol", "carol joined");
    await Promise.all([
      alice.ok(`addFile ${makeFile("beach.jpg", 300_000)}`),
      bob.ok(`addFile ${makeFile("dunes.png", 1_500_000)}`),
      carol.ok(`addFile ${makeFile("sunset.mov", 40_000)}`),
    ]);
    await converged("three files everywhere", (files) => files.length === 3);
    await Promise.all([
      alice.ok("rateFile dunes.png 5"),
      bob.ok("rateFile beach.jpg 3"),
      carol.ok("rateFile dunes.png 4"),
    ]);
    await alice.ok("hello from another host");
    for (const client of [bob, carol]) {
      await client.waitEvent(
        (e) => e.event === "chat" && e.text === "hello from another host",
        "alice's chat",
      );
    }
    await converged(
      "the ratings everywhere",
      (files) => files.find((f) => f.name === "dunes.png")?.ratings === 2,
    );
    await downloadsVerified(bob, "beach.jpg");
    await downloadsVerified(carol, "dunes.png");
    await downloadsVerified(alice, "sunset.mov");
  });

  test("a fourth data server joins from a new host while downloads go on", async (t) => {
    let stop = false;
    let downloads = 0;
    // Bounded: at most 200 downloads, and it stops once the server has joined.
    const load = (async () => {
      while (!stop && downloads < 200) {
        await downloadsVerified(carol, "dunes.png");
        downloads++;
      }
    })();
    await startDataServer(dataHosts[3]!);
    stop = true;
    await load;
    assert.ok(downloads > 0);
    t.diagnostic(`${downloads} verified downloads while the fourth server joined`);
    const status = JSON.parse(
      execFileSync(
        "ip",
        [
          ...["netns", "exec", centralHost.ns, process.execPath, albumshareBin, "status"],
          ...["--central", `${centralHost.address}:${CLUSTER_PORT}`, "--cluster-token", TOKEN],
          ...["--tls-ca", join(caDir, "ca.pem"), "--json"],
        ],
        { encoding: "utf8" },
      ),
    ) as { servers: unknown[] };
    assert.equal(status.servers.length, 4);
    // Every file is still found and verifies with the new ring.
    await downloadsVerified(bob, "dunes.png");
    await downloadsVerified(alice, "beach.jpg");
    await bob.ok(`addFile ${makeFile("after-join.jpg", 200_000)}`);
    await converged("the new file everywhere", (files) => files.length === 4);
    await downloadsVerified(carol, "after-join.jpg");
  });

  test("an editor cut off from the central server keeps editing with its peers", async () => {
    const reconnectsBefore = alice.events.filter((e) => e.event === "restored").length;
    lab.cut(aliceHost);
    try {
      await alice.ok("said while cut off");
      for (const client of [bob, carol]) {
        await client.waitEvent(
          (e) => e.event === "chat" && e.text === "said while cut off",
          "chat over the peer link",
        );
      }
      await alice.ok("removeFile sunset.mov");
      await eventually(
        async () =>
          (await Promise.all([bob, carol].map(listing))).every(
            (files) => !files.some((f) => f.name === "sunset.mov"),
          ),
        "the removal at the others",
        { timeoutMs: 60_000, pollMs: 300 },
      );
      // Long enough for the central server to drop the silent connection
      // (--idle-timeout-ms 3000), so the client must notice and reconnect.
      await new Promise((resolve) => setTimeout(resolve, 6000));
    } finally {
      lab.restore(aliceHost);
    }
    // Its link to the central server comes back (a dropped connection is replaced).
    await eventually(
      async () => (await alice.run("listAlbums")).ok,
      "alice reaches the central server",
      {
        timeoutMs: 120_000,
        pollMs: 1000,
      },
    );
    await eventually(
      () => alice.events.filter((e) => e.event === "restored").length > reconnectsBefore,
      "alice's session restored on a new connection",
      { timeoutMs: 120_000, pollMs: 200 },
    );
    await converged("the same files everywhere", (files) => files.length === 3);
    await downloadsVerified(alice, "after-join.jpg");
  });

  test("a data server's link cut during a download: reported, and the download works once it is back", async (t) => {
    const name = "large.bin";
    await bob.ok(`addFile ${makeFile(name, 6_000_000)}`);
    await converged("the large file everywhere", (files) => files.some((f) => f.name === name));
    const key = createHash("sha256").update(content.get(name)!).digest("hex");
    const owner = dataHosts.find((host) =>
      existsSync(join(temp.dir, host.name, "data", "objects", key.slice(0, 2), key)),
    );
    assert.ok(owner, "no data server holds the file");
    lab.throttle(owner, "8mbit");
    let result: CommandResult;
    try {
      const download = carol.run(
        `downloadFile ${name} ${join(temp.dir, "large-cut.bin")}`,
        300_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      lab.cut(owner);
      result = await download;
    } finally {
      lab.restore(owner);
      lab.unthrottle(owner);
    }
    assert.equal(result.ok, false, "the download should have failed while the link was cut");
    if (!result.ok) {
      assert.equal(result.code, "unavailable");
      assert.match(result.error, new RegExp(owner.address.replaceAll(".", "\\.")));
      t.diagnostic(`reported: ${result.error}`);
    }
    await eventually(
      async () => (await carol.run(`downloadFile ${name} ${join(temp.dir, "large-ok.bin")}`)).ok,
      "the download once the link is back",
      { timeoutMs: 120_000, pollMs: 1000 },
    );
    assert.deepEqual(readFileSync(join(temp.dir, "large-ok.bin")), content.get(name));
  });
});
