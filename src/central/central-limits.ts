// The central server's memory and time limits, in one place so the CLI's
// --help, the README and the server agree. Together they bound what any
// client, authenticated or not, can make the server hold.

/** Largest frame before a login succeeded: hello, register, login, ping fit easily. */
export const DEFAULT_PRE_LOGIN_MAX_FRAME_BYTES = 8 * 1024;

/** Cap on bytes held in partial frames by all connections together. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** A connection that completes no frame for this long is dropped. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
