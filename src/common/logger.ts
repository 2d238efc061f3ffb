// Creates the pino logger every server uses: one line per notable event, to
// stderr, with a level chosen by --log-level. No global logger: each server
// object receives its own (tests create several in one process).
import { pino, type Logger } from "pino";

export type { Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(name: string, level: LogLevel = "info"): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for library use and tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
