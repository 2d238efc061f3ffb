// The `albumshare web` subcommand: options (each also an ALBUMSHARE_WEB_*
// environment variable), start the web server, print one line with the URL
// to open (or, with --json, the {"listening":...} line scripts and `up`
// read), and stop cleanly on SIGINT/SIGTERM (every browser session hands its
// albums back).
import { type Command, Option } from "commander";
import { resolve } from "node:path";
import { invalidArgument } from "../common/album-error.ts";
import { parseHostPort } from "../common/host-port.ts";
import { createLogger, type LogLevel } from "../common/logger.ts";
import { addTlsOptions, applyTlsOptions, type TlsOptionValues } from "../common/tls/tls-options.ts";
import { DEFAULT_CENTRAL_PORT } from "../protocol/version.ts";
import { DEFAULT_LIVE_CHANNEL_LIMITS } from "./live-channels.ts";
import { DEFAULT_REQUEST_LIMITS } from "./request-limits.ts";
import { WebServer } from "./web-server.ts";

export const DEFAULT_WEB_PORT = 7480;

export interface WebCommandHelpers {
  parsePort(value: string): number;
  logLevelOption(): Option;
  stopOnSignals(stop: () => Promise<void>): void;
}

function parseMegabytes(value: string): number {
  const megabytes = Number(value);
  if (!Number.isInteger(megabytes) || megabytes < 1) {
    throw invalidArgument(`'${value}' must be a whole number of megabytes, at least 1`);
  }
  return megabytes;
}

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) {
    throw invalidArgument(`'${value}' must be a whole number, at least 1`);
  }
  return count;
}

export function addWebCommand(program: Command, helpers: WebCommandHelpers): void {
  // A client of the central server and the data servers: it verifies them with --tls-ca.
  addTlsOptions(program.command("web"), "client")
    .description(
      "the web app: a local web server hosting one client core per logged-in browser session",
    )
    .addOption(
      new Option("--central <host:port>", "the central server")
        .default(`127.0.0.1:${DEFAULT_CENTRAL_PORT}`)
        .env("ALBUMSHARE_CENTRAL"),
    )
    .addOption(
      new Option("--host <host>", "interface to listen on")
        .default("127.0.0.1")
        .env("ALBUMSHARE_WEB_HOST"),
    )
    .addOption(
      new Option("--port <port>", "port (0 = any free port)")
        .default(DEFAULT_WEB_PORT)
        .argParser(helpers.parsePort)
        .env("ALBUMSHARE_WEB_PORT"),
    )
    .addOption(
      new Option("--dir <dir>", "folder for the content cache and staged uploads")
        .default(".albumshare/web")
        .env("ALBUMSHARE_WEB_DIR"),
    )
    .addOption(
      new Option("--cache-mb <n>", "bound of the on-disk content cache, MiB")
        .default(1024)
        .argParser(parseMegabytes)
        .env("ALBUMSHARE_WEB_CACHE_MB"),
    )
    .addOption(
      new Option("--max-upload-mb <n>", "largest file a browser may upload, MiB")
        .default(16 * 1024)
        .argParser(parseMegabytes)
        .env("ALBUMSHARE_WEB_MAX_UPLOAD_MB"),
    )
    .addOption(
      new Option(
        "--allow-host <host:port...>",
        "further Host names to answer (e.g. behind a reverse proxy); the bound address always works",
      ).env("ALBUMSHARE_WEB_ALLOW_HOST"),
    )
    .addOption(
      new Option("--peer-host <host>", "interface the editing sessions' peer endpoints bind to")
        .default("127.0.0.1")
        .env("ALBUMSHARE_PEER_HOST"),
    )
    .addOption(
      new Option(
        "--advertise <host>",
        "peer host the other editors should use (with a wildcard --peer-host)",
      ).env("ALBUMSHARE_ADVERTISE"),
    )
    .addOption(
      new Option(
        "--body-idle-timeout-ms <ms>",
        "a request body (an upload too) that sends nothing for this long is cut off",
      )
        .default(DEFAULT_REQUEST_LIMITS.bodyIdleMs)
        .argParser(parseCount)
        .env("ALBUMSHARE_WEB_BODY_IDLE_TIMEOUT_MS"),
    )
    .addOption(
      new Option("--json-body-timeout-ms <ms>", "a JSON request body must arrive whole within this")
        .default(DEFAULT_REQUEST_LIMITS.jsonBodyMs)
        .argParser(parseCount)
        .env("ALBUMSHARE_WEB_JSON_BODY_TIMEOUT_MS"),
    )
    .addOption(
      new Option("--max-pages-per-session <n>", "open album pages (live channels) per login")
        .default(DEFAULT_LIVE_CHANNEL_LIMITS.perSession)
        .argParser(parseCount)
        .env("ALBUMSHARE_WEB_MAX_PAGES_PER_SESSION"),
    )
    .addOption(
      new Option(
        "--page-backlog-kb <n>",
        "a page whose live channel has more than this unread is dropped (it reconnects)",
      )
        .default(DEFAULT_LIVE_CHANNEL_LIMITS.channelBufferBytes / 1024)
        .argParser(parseCount)
        .env("ALBUMSHARE_WEB_PAGE_BACKLOG_KB"),
    )
    .option("--json", 'print the {"listening":...} line instead of the URL line', false)
    .addOption(helpers.logLevelOption())
    .action(
      async (
        options: {
          central: string;
          host: string;
          port: number;
          dir: string;
          cacheMb: number;
          maxUploadMb: number;
          bodyIdleTimeoutMs: number;
          jsonBodyTimeoutMs: number;
          maxPagesPerSession: number;
          pageBacklogKb: number;
          allowHost?: string[] | string;
          peerHost: string;
          advertise?: string;
          json: boolean;
          logLevel: LogLevel;
        } & TlsOptionValues,
      ) => {
        const central = parseHostPort(options.central, DEFAULT_CENTRAL_PORT);
        applyTlsOptions(options, "client", { dial: [central.host] });
        const logger = createLogger("web", options.logLevel);
        const extra =
          options.allowHost === undefined
            ? []
            : [options.allowHost].flat().flatMap((h) => h.split(","));
        const server = new WebServer({
          central: options.central,
          host: options.host,
          port: options.port,
          dir: resolve(options.dir),
          cacheBytes: options.cacheMb * 1024 * 1024,
          maxUploadBytes: options.maxUploadMb * 1024 * 1024,
          allowedHosts: extra.map((h) => h.trim()).filter((h) => h !== ""),
          peer: {
            bindHost: options.peerHost,
            bindPort: 0,
            ...(options.advertise ? { advertisedHost: options.advertise } : {}),
          },
          logger,
          requestLimits: {
            bodyIdleMs: options.bodyIdleTimeoutMs,
            jsonBodyMs: options.jsonBodyTimeoutMs,
          },
          liveLimits: {
            perSession: options.maxPagesPerSession,
            channelBufferBytes: options.pageBacklogKb * 1024,
          },
        });
        await server.start();
        helpers.stopOnSignals(() => server.stop());
        process.stdout.write(
          options.json
            ? `${JSON.stringify({ listening: { port: server.port, url: server.url } })}\n`
            : `AlbumSharing web app: open ${server.url} in a browser (Ctrl-C stops it)\n`,
        );
      },
    );
}
