// The per-peer outbox with a fake socket: order kept, one send at a time,
// bounded, and a stuck peer loses its backlog instead of blocking.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PeerOutbox, type OutboxSocket } from "../../src/peer/peer-outbox.ts";

/** A socket whose sends complete when the test says so. */
class ManualSocket implements OutboxSocket {
  sent: number[] = [];
  pending: Array<{ message: Uint8Array; resolve: () => void; reject: (e: Error) => void }> = [];
  send(message: Uint8Array): Promise<void> {
    assert.equal(this.pending.length, 0, "only one send at a time");
    return new Promise((resolve, reject) => this.pending.push({ message, resolve, reject }));
  }
  async complete(): Promise<void> {
    const next = this.pending.shift()!;
    this.sent.push(next.message[0]!);
    next.resolve();
    await new Promise((r) => setImmediate(r));
  }
  async fail(): Promise<void> {
    this.pending.shift()!.reject(new Error("EAGAIN"));
    await new Promise((r) => setImmediate(r));
  }
}

const bytes = (n: number): Uint8Array => Uint8Array.of(n);

describe("PeerOutbox", () => {
  test("sends in order, one at a time, the first one at once", async () => {
    const socket = new ManualSocket();
    const outbox = new PeerOutbox(socket);
    for (let i = 0; i < 3; i++) outbox.push(bytes(i));
    assert.equal(socket.pending.length, 1, "first send started synchronously");
    await socket.complete();
    await socket.complete();
    await socket.complete();
    assert.deepEqual(socket.sent, [0, 1, 2]);
    assert.equal(outbox.queued, 0);
  });

  test("a send that times out discards the backlog; later messages go through", async () => {
    const socket = new ManualSocket();
    const discarded: string[] = [];
    const outbox = new PeerOutbox(socket, { onDiscard: (n, why) => discarded.push(`${n} ${why}`) });
    for (let i = 0; i < 4; i++) outbox.push(bytes(i));
    await socket.fail();
    assert.deepEqual(discarded, ["4 timeout"]);
    outbox.push(bytes(9));
    await socket.complete();
    assert.deepEqual(socket.sent, [9]);
  });

  test("is bounded in messages and bytes, and refuses everything once closed", () => {
    const socket = new ManualSocket();
    const reasons: string[] = [];
    const outbox = new PeerOutbox(socket, {
      maxQueuedMessages: 2,
      maxQueuedBytes: 10,
      onDiscard: (_n, why) => reasons.push(why),
    });
    assert.equal(outbox.push(bytes(1)), true);
    assert.equal(outbox.push(bytes(2)), true);
    assert.equal(outbox.push(bytes(3)), false);
    outbox.close();
    assert.equal(outbox.push(new Uint8Array(1)), false);
    assert.deepEqual(reasons, ["full", "closed", "closed"]);
  });
});
