// The live-channel bounds as a pure registry, under any sequence of pages
// opening, closing, falling behind and being sent to (fast-check): never more
// channels than the bounds per session and per server, the newest refused and
// no open channel closed to make room, and the slow-consumer rule — a send
// goes only to a channel whose backlog is within its bound and, when all
// backlogs together are past theirs, only to a channel that is keeping up.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { LiveChannels, type ChannelSocket, type LiveChannel } from "../../src/web/live-channels.ts";

const LIMITS = { perSession: 3, perServer: 5, channelBufferBytes: 100, totalBufferBytes: 250 };

class FakeSocket implements ChannelSocket {
  bufferedAmount = 0;
  sent = 0;
  terminated = false;
  send(): void {
    this.sent++;
  }
  terminate(): void {
    this.terminated = true;
  }
}

type Step =
  | { kind: "open"; session: number }
  | { kind: "close"; pick: number }
  | { kind: "backlog"; pick: number; bytes: number }
  | { kind: "send"; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("open" as const), session: fc.nat(2) }),
  fc.record({ kind: fc.constant("close" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("backlog" as const), pick: fc.nat(), bytes: fc.nat(160) }),
  fc.record({ kind: fc.constant("send" as const), pick: fc.nat() }),
);

void test("live channels stay within their bounds and drop only pages that fall behind", () => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
      const registry = new LiveChannels(LIMITS);
      const sessions = [{}, {}, {}];
      const open: { session: number; socket: FakeSocket; channel: LiveChannel }[] = [];
      for (const next of steps) {
        if (next.kind === "open") {
          const socket = new FakeSocket();
          const mine = open.filter((entry) => entry.session === next.session).length;
          const admission = registry.admit(sessions[next.session]!, socket);
          const shouldAdmit = mine < LIMITS.perSession && open.length < LIMITS.perServer;
          assert.equal(admission.admitted, shouldAdmit);
          if (admission.admitted) {
            open.push({ session: next.session, socket, channel: admission.channel });
          } else {
            assert.match(admission.reason, /too many open album pages/);
          }
        } else if (open.length > 0) {
          const index = next.pick % open.length;
          const entry = open[index]!;
          if (next.kind === "close") {
            entry.channel.remove();
            open.splice(index, 1);
          } else if (next.kind === "backlog") {
            entry.socket.bufferedAmount = next.bytes;
          } else {
            const total = open.reduce((sum, other) => sum + other.socket.bufferedAmount, 0);
            const own = entry.socket.bufferedAmount;
            const slow =
              own > LIMITS.channelBufferBytes || (own > 0 && total > LIMITS.totalBufferBytes);
            const before = entry.socket.sent;
            const delivered = entry.channel.send("message");
            assert.equal(delivered, !slow);
            assert.equal(entry.socket.sent, before + (slow ? 0 : 1));
            assert.equal(entry.socket.terminated, slow);
            if (slow) open.splice(index, 1);
          }
        }
        assert.equal(registry.size, open.length);
        for (const entry of open) assert.equal(entry.socket.terminated, false);
      }
    }),
    { numRuns: 500 },
  );
});

void test("a closed channel's slot is free again and a removed channel sends nothing", () => {
  const registry = new LiveChannels(LIMITS);
  const session = {};
  const channels = [1, 2, 3].map(() => {
    const admission = registry.admit(session, new FakeSocket());
    assert.ok(admission.admitted);
    return admission.channel;
  });
  assert.equal(registry.admit(session, new FakeSocket()).admitted, false);
  channels[0]!.remove();
  channels[0]!.remove();
  assert.equal(channels[0]!.send("late"), false);
  assert.equal(registry.admit(session, new FakeSocket()).admitted, true);
  assert.equal(registry.size, 3);
});
