// The `albumshare` executable: one subcommand per process kind. Every option
// also reads an ALBUMSHARE_* environment variable. Errors print as one line
// with the code's label, and the exit status is non-zero.
import { Command, Option } from "commander";
import { AlbumError, invalidArgument } from "../common/album-error.ts";
import { routeGrpcLogs } from "../common/grpc-log-routing.ts";
import { parseHostPort } from "../common/host-port.ts";
import { createLogger, LOG_LEVELS, type LogLevel } from "../common/logger.ts";
import { CentralServer } from "../central/central-server.ts";
import { DEFAULT_RESERVE, runDataServerCommand } from "../data/run-data-server.ts";
import { DEFAULT_MAX_TRANSFERS, DEFAULT_STALL_TIMEOUT_MS } from "../data/transfer-slots.ts";
import { DEFAULT_CENTRAL_PORT, DEFAULT_CLUSTER_PORT } from "../protocol/version.ts";
import { packageVersion } from "./package-version.ts";
import { runShell } from "./shell.ts";
import { runDecommissionCommand } from "./decommission-command.ts";
import { runStatusCommand } from "./status-command.ts";
import { runLocalSystem } from "./up.ts";
import {
  addClusterAdminOptions,
  applyClusterAdminOptions,
  type ClusterAdminOptionValues,
} from "./cluster-admin-options.ts";
import { addWebCommand } from "../web/web-command.ts";
import { checkCentralLimits } from "./central-limit-options.ts";
import {
  clusterTokenFrom,
  clusterTokenFileOption,
  clusterTokenOption,
  type ClusterTokenOptionValues,
} from "./cluster-token-options.ts";
import { DEFAULT_HASH_CONCURRENCY } from "../central/auth/password-guard.ts";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_PRE_LOGIN_MAX_FRAME_BYTES,
} from "../central/central-limits.ts";
import { runCertificateCommand } from "../common/tls/certificate-command.ts";
import { addTlsOptions, applyTlsOptions, type TlsOptionValues } from "../common/tls/tls-options.ts";

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
  .version(packageVersion(), "-V, --version", "print the version")
  .showHelpAfterError("(add --help for usage)");

addTlsOptions(program.command("central"), "server")
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
    clusterTokenOption(
      "shared secret of the data-server cluster (>= 16 characters); no data servers without it",
    ),
  )
  .addOption(clusterTokenFileOption())
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
    new Option("--pre-login-max-frame-bytes <n>", "largest accepted frame before a login")
      .default(DEFAULT_PRE_LOGIN_MAX_FRAME_BYTES)
      .argParser(Number)
      .env("ALBUMSHARE_PRE_LOGIN_MAX_FRAME_BYTES"),
  )
  .addOption(
    new Option(
      "--max-buffered-bytes <n>",
      "cap on bytes held in partial frames by all connections together",
    )
      .default(DEFAULT_MAX_BUFFERED_BYTES)
      .argParser(Number)
      .env("ALBUMSHARE_MAX_BUFFERED_BYTES"),
  )
  .addOption(
    new Option("--idle-timeout-ms <ms>", "drop a connection that completes no frame for this long")
      .default(DEFAULT_IDLE_TIMEOUT_MS)
      .argParser(Number)
      .env("ALBUMSHARE_IDLE_TIMEOUT_MS"),
  )
  .addOption(
    new Option("--hash-concurrency <n>", "password hashes computed at once")
      .default(DEFAULT_HASH_CONCURRENCY)
      .argParser(Number)
      .env("ALBUMSHARE_HASH_CONCURRENCY"),
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
  .addOption(logLevelOption())
  .action(
    async (
      options: {
        host: string;
        port: number;
        clusterPort: number;
        dir: string;
        maxFrameBytes: number;
        preLoginMaxFrameBytes: number;
        maxBufferedBytes: number;
        idleTimeoutMs: number;
        hashConcurrency: number;
        handOffIntervalMs: number;
        resumeGraceMs: number;
        logLevel: LogLevel;
      } & ClusterTokenOptionValues &
        TlsOptionValues,
      command: Command,
    ) => {
      applyTlsOptions(options, "server", { listen: [options.host] });
      if (!Number.isInteger(options.handOffIntervalMs) || options.handOffIntervalMs < 50) {
        throw invalidArgument("--hand-off-interval-ms must be a whole number of at least 50");
      }
      if (!Number.isInteger(options.resumeGraceMs) || options.resumeGraceMs < 0) {
        throw invalidArgument("--resume-grace-ms must be a whole number of at least 0");
      }
      const limits = checkCentralLimits(options);
      const clusterToken = clusterTokenFrom(options, command);
      const logger = createLogger("central", options.logLevel);
      routeGrpcLogs(logger);
      const server = new CentralServer({
        host: options.host,
        port: options.port,
        dir: options.dir,
        logger,
        ...limits,
        handOffIntervalMs: options.handOffIntervalMs,
        resumeGraceMs: options.resumeGraceMs,
        ...(clusterToken
          ? {
              cluster: {
                host: options.host,
                port: options.clusterPort,
                token: clusterToken,
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

addTlsOptions(program.command("data"), "server")
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
  .addOption(clusterTokenOption("shared secret of the cluster"))
  .addOption(clusterTokenFileOption())
  .addOption(
    new Option(
      "--reserve <size>",
      "free disk space never used for contents; a server that cannot store anything beyond it does not join",
    )
      .default(DEFAULT_RESERVE)
      .env("ALBUMSHARE_DATA_RESERVE"),
  )
  .addOption(
    new Option(
      "--max-transfers <n>",
      "uploads and downloads at once (lowered to leave 128 file handles in reserve)",
    )
      .default(DEFAULT_MAX_TRANSFERS)
      .argParser(Number)
      .env("ALBUMSHARE_DATA_MAX_TRANSFERS"),
  )
  .addOption(
    new Option(
      "--stall-timeout <seconds>",
      "cancel an upload or download that moves no chunk for this long",
    )
      .default(DEFAULT_STALL_TIMEOUT_MS / 1000)
      .argParser(Number)
      .env("ALBUMSHARE_DATA_STALL_TIMEOUT"),
  )
  .addOption(logLevelOption())
  .action(
    async (
      options: {
        central: string;
        host: string;
        port: number;
        advertise?: string;
        dir: string;
        reserve: string;
        maxTransfers: number;
        stallTimeout: number;
        logLevel: LogLevel;
      } & ClusterTokenOptionValues &
        TlsOptionValues,
      command: Command,
    ) => {
      applyTlsOptions(options, "server", {
        listen: [options.host],
        dial: [parseHostPort(options.central, DEFAULT_CLUSTER_PORT).host],
      });
      const clusterToken = clusterTokenFrom(options, command);
      const logger = createLogger("data", options.logLevel);
      const server = await runDataServerCommand({
        central: options.central,
        host: options.host,
        port: options.port,
        dir: options.dir,
        logger,
        reserve: options.reserve,
        maxTransfers: options.maxTransfers,
        stallTimeoutSeconds: options.stallTimeout,
        ...(options.advertise ? { advertise: options.advertise } : {}),
        ...(clusterToken ? { clusterToken } : {}),
      });
      process.stdout.write(
        `${JSON.stringify({ listening: { port: server.port, serverId: server.serverId } })}\n`,
      );
    },
  );

addTlsOptions(program.command("client"), "client")
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
    async (
      options: {
        central: string;
        peerHost: string;
        peerPort: number;
        advertise?: string;
        json: boolean;
      } & TlsOptionValues,
    ) => {
      applyTlsOptions(options, "client", {
        dial: [parseHostPort(options.central, DEFAULT_CENTRAL_PORT).host],
      });
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

addClusterAdminOptions(program.command("status"))
  .description(
    "show the data-server cluster: ring version, and per server its share, keys and bytes",
  )
  .option("--json", "print one JSON object", false)
  .action(async (options: ClusterAdminOptionValues & { json: boolean }, command: Command) => {
    const clusterToken = applyClusterAdminOptions(options, command);
    await runStatusCommand({
      central: options.central,
      json: options.json,
      output: process.stdout,
      ...(clusterToken ? { clusterToken } : {}),
    });
  });

addWebCommand(program, { parsePort, logLevelOption, stopOnSignals });

addClusterAdminOptions(program.command("decommission"))
  .description(
    "remove a data server from the cluster: its keys move to the servers that own them next (one change at a time)",
  )
  .argument("<server>", "the server's id (ds-…) or the address it serves on")
  .option("--force", "the server's data is gone: remove it at once and report its keys lost", false)
  .action(
    async (
      server: string,
      options: ClusterAdminOptionValues & { force: boolean },
      command: Command,
    ) => {
      const clusterToken = applyClusterAdminOptions(options, command);
      await runDecommissionCommand({
        central: options.central,
        server,
        force: options.force,
        output: process.stdout,
        ...(clusterToken ? { clusterToken } : {}),
      });
    },
  );

program
  .command("certificate")
  .description(
    "make a certificate for a host of a multi-host system, signed by the system's CA (made on first use)",
  )
  .requiredOption(
    "--ca-dir <dir>",
    "folder of the CA (ca.pem, ca-key.pem; keep ca-key.pem private)",
  )
  .requiredOption("--out <dir>", "folder for the certificate and its key")
  .option("--name <name>", "file name of the certificate (<name>.pem, <name>-key.pem)", "server")
  .option(
    "--host <name-or-address...>",
    "a host name or address others dial this host by (repeat for several)",
    [],
  )
  .action((options: { caDir: string; out: string; name: string; host: string[] }) => {
    runCertificateCommand(
      { caDir: options.caDir, out: options.out, name: options.name, hosts: options.host },
      process.stdout,
    );
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
