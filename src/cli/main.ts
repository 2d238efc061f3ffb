// The `albumshare` executable: one subcommand per process kind. Every option
// also reads an ALBUMSHARE_* environment variable. Errors print as one line
// with the code's label, and the exit status is non-zero.
import { Command, Option } from "commander";
import { AlbumError, invalidArgument } from "../common/album-error.ts";
import { parseHostPort } from "../common/host-port.ts";
import { createLogger, LOG_LEVELS, type LogLevel } from "../common/logger.ts";
import { CentralServer } from "../central/central-server.ts";
import { runDataServerCommand } from "../data/run-data-server.ts";
import { DEFAULT_CENTRAL_PORT, DEFAULT_CLUSTER_PORT } from "../protocol/version.ts";
import { runShell } from "./shell.ts";
import { runStatusCommand } from "./status-command.ts";
import { runLocalSystem } from "./up.ts";

const logLevelOption = (): Option =>
  new Option("--log-level <level>", "log level")
    .choices(LOG_LEVELS)
    .default("info")
    .env("ALBUMSHARE_LOG_LEVEL");

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalidArgument(`port '${value}' must be an integer between 0 and 65535`);
  }
  return port;
}

const program = new Command("albumshare")
  .description("AlbumSharing: shared photo and video albums, edited together peer to peer")
  .showHelpAfterError("(add --help for usage)");

program
  .command("central")
  .description("run the central server (users, albums, editing sessions, data-server cluster)")
  .addOption(
    new Option("--host <host>", "interface to listen on")
      .default("127.0.0.1")
      .env("ALBUMSHARE_HOST"),
  )
  .addOption(
    new Option("--port <port>", "client port (0 = any free port)")
      .default(DEFAULT_CENTRAL_PORT)
      .argParser(parsePort)
      .env("ALBUMSHARE_PORT"),
  )
  .addOption(
    new Option("--cluster-port <port>", "port for data servers (gRPC)")
      .default(DEFAULT_CLUSTER_PORT)
      .argParser(parsePort)
      .env("ALBUMSHARE_CLUSTER_PORT"),
  )
  .addOption(
    new Option(
      "--cluster-token <token>",
      "shared secret of the data-server cluster (>= 16 characters); no data servers without it",
    ).env("ALBUMSHARE_CLUSTER_TOKEN"),
  )
  .addOption(
    new Option("--dir <dir>", "data directory")
      .default(".albumshare/central")
      .env("ALBUMSHARE_DIR"),
  )
  .addOption(
    new Option("--max-frame-bytes <n>", "largest accepted frame")
      .default(16 * 1024 * 1024)
      .argParser(Number)
      .env("ALBUMSHARE_MAX_FRAME_BYTES"),
  )
  .addOption(
    new Option(
      "--hand-off-interval-ms <ms>",
      "how often editors hand their changes to the server (bounds what a crash of every editor loses)",
    )
      .default(1000)
      .argParser(Number)
      .env("ALBUMSHARE_HAND_OFF_INTERVAL_MS"),
  )
  .addOption(
    new Option(
      "--resume-grace-ms <ms>",
      "how long an editor whose connection dropped keeps its session slot to resume it",
    )
      .default(60_000)
      .argParser(Number)
      .env("ALBUMSHARE_RESUME_GRACE_MS"),
  )
  .addOption(
    new Option("--idle-timeout-ms <ms>", "drop a client connection silent for this long")
      .default(30_000)
      .argParser(Number)
      .env("ALBUMSHARE_IDLE_TIMEOUT_MS"),
  )
  .addOption(logLevelOption())
  .action(
    async (options: {
      host: string;
      port: number;
      clusterPort: number;
      clusterToken?: string;
      dir: string;
      maxFrameBytes: number;
      handOffIntervalMs: number;
      resumeGraceMs: number;
      idleTimeoutMs: number;
      logLevel: LogLevel;
    }) => {
      if (!Number.isInteger(options.handOffIntervalMs) || options.handOffIntervalMs < 50) {
        throw invalidArgument("--hand-off-interval-ms must be a whole number of at least 50");
      }
      if (!Number.isInteger(options.resumeGraceMs) || options.resumeGraceMs < 0) {
        throw invalidArgument("--resume-grace-ms must be a whole number of at least 0");
      }
      if (!Number.isInteger(options.idleTimeoutMs) || options.idleTimeoutMs < 1000) {
        throw invalidArgument("--idle-timeout-ms must be a whole number of at least 1000");
      }
      const logger = createLogger("central", options.logLevel);
      const server = new CentralServer({
        host: options.host,
        port: options.port,
        dir: options.dir,
        logger,
        maxFrameBytes: options.maxFrameBytes,
        handOffIntervalMs: options.handOffIntervalMs,
        resumeGraceMs: options.resumeGraceMs,
        idleTimeoutMs: options.idleTimeoutMs,
        ...(options.clusterToken
          ? {
              cluster: {
                host: options.host,
                port: options.clusterPort,
                token: options.clusterToken,
              },
            }
          : {}),
      });
      await server.start();
      // Read by `albumshare up` and the tests to learn the ports actually bound.
      process.stdout.write(
        `${JSON.stringify({ listening: { port: server.port, clusterPort: server.clusterPort } })}\n`,
      );
      stopOnSignals(() => server.stop());
    },
  );

program
  .command("data")
  .description("run a data server (content-addressable storage, part of the ring)")
  .addOption(
    new Option("--central <host:port>", "the central server's cluster address")
      .default(`127.0.0.1:${DEFAULT_CLUSTER_PORT}`)
      .env("ALBUMSHARE_CENTRAL_CLUSTER"),
  )
  .addOption(
    new Option("--host <host>", "interface to listen on")
      .default("127.0.0.1")
      .env("ALBUMSHARE_DATA_HOST"),
  )
  .addOption(
    new Option("--port <port>", "port (0 = any free port)")
      .default(7402)
      .argParser(parsePort)
      .env("ALBUMSHARE_DATA_PORT"),
  )
  .addOption(
    new Option("--advertise <host:port>", "address others should use").env("ALBUMSHARE_ADVERTISE"),
  )
  .addOption(
    new Option("--dir <dir>", "data directory")
      .default(".albumshare/data")
      .env("ALBUMSHARE_DATA_DIR"),
  )
  .addOption(
    new Option("--cluster-token <token>", "shared secret of the cluster").env(
      "ALBUMSHARE_CLUSTER_TOKEN",
    ),
  )
  .addOption(logLevelOption())
  .action(
    async (options: {
      central: string;
      host: string;
      port: number;
      advertise?: string;
      dir: string;
      clusterToken?: string;
      logLevel: LogLevel;
    }) => {
      const logger = createLogger("data", options.logLevel);
      const server = await runDataServerCommand({
        central: options.central,
        host: options.host,
        port: options.port,
        dir: options.dir,
        logger,
        ...(options.advertise ? { advertise: options.advertise } : {}),
        ...(options.clusterToken ? { clusterToken: options.clusterToken } : {}),
      });
      process.stdout.write(
        `${JSON.stringify({ listening: { port: server.port, serverId: server.serverId } })}\n`,
      );
    },
  );

program
  .command("client")
  .description(
    "the client shell (reads commands from standard input when it is not a terminal); " +
      "editing sessions talk to the other editors directly, through the peer endpoint",
  )
  .addOption(
    new Option("--central <host:port>", "the central server")
      .default(`127.0.0.1:${DEFAULT_CENTRAL_PORT}`)
      .env("ALBUMSHARE_CENTRAL"),
  )
  .addOption(
    new Option("--peer-host <host>", "interface the peer endpoint binds to while editing")
      .default("127.0.0.1")
      .env("ALBUMSHARE_PEER_HOST"),
  )
  .addOption(
    new Option("--peer-port <port>", "port of the peer endpoint (0 = any free port)")
      .default(0)
      .argParser(parsePort)
      .env("ALBUMSHARE_PEER_PORT"),
  )
  .addOption(
    new Option(
      "--advertise <host:port>",
      "peer address the other editors should use (needed with a wildcard --peer-host); port 0 = the bound port",
    ).env("ALBUMSHARE_ADVERTISE"),
  )
  .option(
    "--json",
    "print one JSON object per command and per session event (scripted mode)",
    false,
  )
  .action(
    async (options: {
      central: string;
      peerHost: string;
      peerPort: number;
      advertise?: string;
      json: boolean;
    }) => {
      const advertised = options.advertise ? parseHostPort(options.advertise, 0) : undefined;
      const interactive = Boolean(process.stdin.isTTY) && !options.json;
      const status = await runShell({
        central: options.central,
        json: options.json,
        input: process.stdin,
        output: process.stdout,
        interactive,
        peer: {
          bindHost: options.peerHost,
          bindPort: options.peerPort,
          ...(advertised
            ? {
                advertisedHost: advertised.host,
                ...(advertised.port !== 0 ? { advertisedPort: advertised.port } : {}),
              }
            : {}),
        },
      });
      process.exit(status);
    },
  );

program
  .command("up")
  .description(
    "start a local system: the central server and three data servers, data under one folder",
  )
  .addOption(
    new Option("--dir <dir>", "folder for all data").default(".albumshare").env("ALBUMSHARE_DIR"),
  )
  .addOption(
    new Option("--port <port>", "central server client port")
      .default(DEFAULT_CENTRAL_PORT)
      .argParser(parsePort)
      .env("ALBUMSHARE_PORT"),
  )
  .addOption(
    new Option("--data-servers <n>", "number of data servers").default(3).argParser(Number),
  )
  .addOption(logLevelOption())
  .action(
    async (options: { dir: string; port: number; dataServers: number; logLevel: LogLevel }) => {
      await runLocalSystem(options);
    },
  );

program
  .command("status")
  .description(
    "show the data-server cluster: ring version, and per server its share, keys and bytes",
  )
  .addOption(
    new Option("--central <host:port>", "the central server's cluster address")
      .default(`127.0.0.1:${DEFAULT_CLUSTER_PORT}`)
      .env("ALBUMSHARE_CENTRAL_CLUSTER"),
  )
  .addOption(
    new Option("--cluster-token <token>", "shared secret of the cluster").env(
      "ALBUMSHARE_CLUSTER_TOKEN",
    ),
  )
  .option("--json", "print one JSON object", false)
  .action(async (options: { central: string; clusterToken?: string; json: boolean }) => {
    await runStatusCommand({
      central: options.central,
      json: options.json,
      output: process.stdout,
      ...(options.clusterToken ? { clusterToken: options.clusterToken } : {}),
    });
  });

function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`albumshare: ${AlbumError.from(error).toLine()}\n`);
  process.exit(1);
}
