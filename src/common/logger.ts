// Creates the pino logger every server uses: one line per notable event, to
// stderr, with a level chosen by --log-level. No global logger: each server
// object receives its own (tests create several in one process). The one
// shared object here is the silent logger, which has nothing to share.
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(name: string, level: LogLevel = "info"): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

// A destination that drops what it is given. pino's default destination is a
// stream on standard output that registers an exit handler per logger (to
// flush it, with an fsync): a test creating thousands of silent loggers paid
// for each one again at exit.
const DISCARD: DestinationStream = { write: () => {} };

let silent: Logger | undefined;

/**
 * A logger that drops everything, for library use and tests. One instance for
 * the whole process, so asking for it costs nothing; callers must never change
 * its level (a child of it may have its own bindings).
 */
export function silentLogger(): Logger {
  silent ??= pino({ level: "silent" }, DISCARD);
  return silent;
}
