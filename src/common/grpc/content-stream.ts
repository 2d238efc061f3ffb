// Splits a streamed content (a header message, then chunk messages) into its
// header and an async iterable of chunks, pulling one message at a time so the
// reader's pace reaches the sender. Used for Download and Fetch replies and,
// on the server, for Upload requests. Never buffers more than one message.

import { invalidArgument } from "../album-error.ts";

type Part<H> =
  | { case: "header"; value: H }
  | { case: "chunk"; value: Uint8Array }
  | { case: undefined; value?: undefined };

export interface SplitContent<H> {
  header: H;
  chunks: AsyncIterable<Uint8Array>;
}

/** Reads the header; `chunks` yields the rest and refuses a second header. */
export async function splitContentStream<H>(
  messages: AsyncIterable<{ part: Part<H> }>,
  what: string,
): Promise<SplitContent<H>> {
  const iterator = messages[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw invalidArgument(`${what}: the stream ended before its header`);
  if (first.value.part.case !== "header")
    throw invalidArgument(`${what}: the stream must start with a header`);
  const header = first.value.part.value;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      while (true) {
        const next = await iterator.next();
        if (next.done) return;
        const part = next.value.part;
        if (part.case !== "chunk")
          throw invalidArgument(`${what}: only content chunks may follow the header`);
        yield part.value;
      }
    } finally {
      // Stop the underlying call when the consumer leaves early.
      await iterator.return?.();
    }
  }
  return { header, chunks: chunks() };
}
