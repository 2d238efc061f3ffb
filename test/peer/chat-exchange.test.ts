// The chat half of the session core, alone: a sync reply that relays a line
// of a slot we cannot vouch for yet (the central server's word that a
// newcomer holds it has not reached us) must not make us count that line as
// delivered; once the slot is vouched for, a repair delivers it. Found by the
// session simulation (a newcomer's line relayed before its EditorJoined).
import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLogger } from "../../src/common/logger.ts";
import { ChatExchange } from "../../src/peer/chat-exchange.ts";
import type { ChatEntry } from "../../src/peer/chat-history.ts";
import { CoreOutput } from "../../src/peer/core-output.ts";
import type { PeerMessageBody } from "../../src/peer/peer-codec.ts";
import { emptySessionCoreStats } from "../../src/peer/session-core-types.ts";
import { SlotRoster } from "../../src/peer/slot-roster.ts";
import type { SessionSlot } from "../../src/peer/vector-clock.ts";

interface Party {
  exchange: ChatExchange;
  roster: SlotRoster;
  out: CoreOutput;
}

function party(slot: SessionSlot, user: string, known: [SessionSlot, string][]): Party {
  const roster = new SlotRoster();
  roster.hold(slot, user);
  for (const [other, name] of known) roster.hold(other, name);
  const out = new CoreOutput();
  const exchange = new ChatExchange({
    slot,
    user,
    historyCapacity: 200,
    maxHeld: 1000,
    roster,
    out,
    stats: emptySessionCoreStats(),
    logger: silentLogger(),
  });
  return { exchange, roster, out };
}

/** The one message `from` sent to `to` among its actions. */
function sentTo(out: CoreOutput, to: SessionSlot): PeerMessageBody {
  const sends = out.flush().filter((a) => a.kind === "send" && a.to === to);
  assert.equal(sends.length, 1);
  return (sends[0] as { body: PeerMessageBody }).body;
}

const delivered = (out: CoreOutput): string[] =>
  out
    .flush()
    .filter((a): a is { kind: "chat"; entry: ChatEntry } => a.kind === "chat")
    .map((a) => `${a.entry.senderName}:${a.entry.text}`);

void test("a relayed line of a slot not yet vouched for is not counted as delivered, and comes later", () => {
  const ann = party(1, "ann", [[2, "bob"]]);
  const bob = party(2, "bob", [
    [1, "ann"],
    [3, "cy"],
  ]);
  const cy = party(3, "cy", [
    [1, "ann"],
    [2, "bob"],
  ]);
  // cy (a newcomer ann has not heard of yet) says something; bob delivers it.
  cy.exchange.compose("hello from cy", 1);
  const line = cy.out.flush().find((a) => a.kind === "broadcast") as { body: PeerMessageBody };
  assert.equal(line.body.case, "chatMessage");
  bob.exchange.onMessage(3, line.body.value);
  assert.deepEqual(delivered(bob.out), ["cy:hello from cy"]);

  // ann asks bob for a repair; bob's reply relays cy's line.
  const isPresent = (slot: SessionSlot): boolean => slot === 1 || slot === 2;
  const ask = (): void => {
    ann.exchange.request(2, false);
    const request = sentTo(ann.out, 2);
    assert.equal(request.case, "chatSyncRequest");
    bob.exchange.settle();
    bob.exchange.settle();
    bob.exchange.onSyncRequest(1, request.value);
    const reply = sentTo(bob.out, 1);
    assert.equal(reply.case, "chatSyncReply");
    ann.exchange.onSyncReply(2, reply.value, isPresent);
  };
  ask();
  assert.deepEqual(delivered(ann.out), [], "not vouched for: refused");
  assert.equal(ann.exchange.delivered.get(3) ?? 0, 0, "and not counted as delivered or lost");

  // The server's word arrives: cy holds slot 3. The next repair delivers the line.
  ann.roster.hold(3, "cy");
  ask();
  assert.deepEqual(delivered(ann.out), ["cy:hello from cy"]);
  assert.equal(ann.exchange.delivered.get(3), 1);
});
