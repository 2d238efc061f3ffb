// A server process must survive a promise rejection that nothing handled (a
// bug): by default Node ends the process, taking every client's transfer with
// it. This logs the rejection as an error, with a fixed message the tests look
// for (they assert that the known paths never reach it), and keeps running.
// Never used by short-lived commands, where failing loudly is right.

import type { Logger } from "pino";
import { AlbumError } from "./album-error.ts";

export const UNHANDLED_REJECTION_MESSAGE = "unhandled promise rejection (a bug); still serving";

/** Installs the handler once per process; returns a function that removes it. */
export function surviveUnhandledRejections(logger: Logger): () => void {
  const onRejection = (reason: unknown): void => {
    logger.error({ error: AlbumError.from(reason).toLine() }, UNHANDLED_REJECTION_MESSAGE);
  };
  process.on("unhandledRejection", onRejection);
  return () => process.off("unhandledRejection", onRejection);
}
