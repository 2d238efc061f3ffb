// Checks the central server's limit options (frame sizes, buffer cap, idle
// timeout, hash concurrency) and turns them into CentralServerOptions, so a
// typo is one clear line at start instead of a server without limits.
import { invalidArgument } from "../common/album-error.ts";
import type { CentralServerOptions } from "../central/central-server.ts";

export interface CentralLimitValues {
  maxFrameBytes: number;
  preLoginMaxFrameBytes: number;
  maxBufferedBytes: number;
  idleTimeoutMs: number;
  hashConcurrency: number;
}

type Limits = Required<
  Pick<
    CentralServerOptions,
    | "maxFrameBytes"
    | "preLoginMaxFrameBytes"
    | "maxBufferedBytes"
    | "idleTimeoutMs"
    | "hashConcurrency"
  >
>;

export function checkCentralLimits(values: CentralLimitValues): Limits {
  const whole = (name: string, value: number, min: number): number => {
    if (!Number.isSafeInteger(value) || value < min) {
      throw invalidArgument(`${name} must be a whole number of at least ${min}`);
    }
    return value;
  };
  const maxFrameBytes = whole("--max-frame-bytes", values.maxFrameBytes, 1024);
  const preLoginMaxFrameBytes = whole(
    "--pre-login-max-frame-bytes",
    values.preLoginMaxFrameBytes,
    1024,
  );
  if (preLoginMaxFrameBytes > maxFrameBytes) {
    throw invalidArgument("--pre-login-max-frame-bytes must not exceed --max-frame-bytes");
  }
  const maxBufferedBytes = whole("--max-buffered-bytes", values.maxBufferedBytes, maxFrameBytes);
  return {
    maxFrameBytes,
    preLoginMaxFrameBytes,
    maxBufferedBytes,
    idleTimeoutMs: whole("--idle-timeout-ms", values.idleTimeoutMs, 500),
    hashConcurrency: whole("--hash-concurrency", values.hashConcurrency, 1),
  };
}
