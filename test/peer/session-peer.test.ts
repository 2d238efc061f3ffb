// The session engine through the real ZeroMQ mesh on 127.0.0.1, with a
// grow-only set standing in for the album CRDT: editors converge, lost
// messages are repaired, a killed editor blocks no one, a newcomer gets the
// state and the recent chat, and chat keeps causal order, exactly once, under
// injected delays, duplicates and losses.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { once } from "node:events";
import { PeerMesh, type MeshFaultInjector, type PeerAddress } from "../../src/peer/peer-mesh.ts";
import { SessionPeer, type SessionPeerOptions } from "../../src/peer/session-peer.ts";
import type { ChatEntry } from "../../src/peer/chat-history.ts";
import type { PeerTimers } from "../../src/peer/peer-timers.ts";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { compareClocks, formatClock } from "../../src/peer/vector-clock.ts";
import { GrowOnlySetReplica } from "./fixtures/grow-only-set-replica.ts";
import {
  contactFromJson,
  contactOf,
  contactToJson,
  meshOptions,
  newSessionToken,
  type ContactJson,
} from "./fixtures/test-session.ts";
import { createInterface } from "node:readline";
import { seededRandom } from "../support/seeded-random.ts";
import { eventually } from "../support/eventually.ts";

const TOKEN = newSessionToken();

interface Editor {
  readonly peer: SessionPeer;
  readonly mesh: PeerMesh;
  readonly replica: GrowOnlySetReplica;
  /** Every chat message this editor delivered, in order. */
  readonly chat: ChatEntry[];
  readonly contact: PeerAddress;
}

const running: SessionPeer[] = [];
const children: ChildProcess[] = [];

after(async () => {
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(running.map((peer) => peer.stop()));
});

/**
 * Starts an editor that joins `peers`, playing the central server's part:
 * the newcomer admits the editors there, and those that are running here are
 * told about the newcomer (as by an "editor joined" notice).
 */
async function startEditor(
  slot: number,
  user: string,
  peers: readonly (Editor | PeerAddress)[],
  options: Partial<SessionPeerOptions> & { faults?: MeshFaultInjector } = {},
): Promise<Editor> {
  const token = options.sessionToken ?? TOKEN;
  const meshSettings = meshOptions(slot, token, { faults: options.faults });
  const mesh = new PeerMesh(meshSettings);
  await mesh.start();
  const contact = contactOf(mesh, meshSettings.keys, user);
  const contacts = peers.map((p) => ("contact" in p ? p.contact : p));
  for (const other of contacts) mesh.admit(other);
  for (const other of peers) if ("peer" in other) other.peer.addPeer(contact);
  const replica = new GrowOnlySetReplica();
  const peer = new SessionPeer({
    mesh,
    user,
    sessionToken: token,
    replica,
    initialPeers: contacts,
    antiEntropyIntervalMs: 100,
    repairDelayMs: 50,
    initialSyncRetryMs: 300,
    ...options,
  });
  const chat: ChatEntry[] = [];
  peer.on("chat", (entry) => chat.push(entry));
  running.push(peer);
  await peer.start();
  return { peer, mesh, replica, chat, contact };
}

const texts = (editor: Editor): string[] => editor.chat.map((entry) => entry.text);

function assertExactlyOnce(editor: Editor, expected: readonly string[]): void {
  assert.deepEqual(
    [...texts(editor)].sort(),
    [...expected].sort(),
    `${editor.contact.user} delivered`,
  );
}

describe("SessionPeer over ZeroMQ", () => {
  test("four editors joining one by one converge, and chat reaches everyone once", async () => {
    const a = await startEditor(0, "ann", []);
    assert.deepEqual(await a.peer.whenSynced(), {
      replicaFrom: undefined,
      chatFrom: [],
      timedOut: false,
    });
    const b = await startEditor(1, "bob", [a]);
    await b.peer.whenSynced();
    const c = await startEditor(2, "cat", [a, b]);
    await c.peer.whenSynced();
    const d = await startEditor(5, "dan", [a, b, c]);
    const outcome = await d.peer.whenSynced();
    assert.equal(outcome.timedOut, false);
    assert.deepEqual([...outcome.chatFrom].sort(), [0, 1, 2]);
    const editors = [a, b, c, d];
    await eventually(() => editors.every((e) => e.peer.peers().length === 3), "full mesh");

    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      for (const editor of editors) {
        editor.peer.broadcastDelta(editor.replica.add(`${editor.contact.user}-${i}`));
        if (i % 4 === 0) sends.push(editor.peer.sendChat(`${editor.contact.user} says ${i}`));
      }
    }
    await Promise.all(sends);
    await eventually(
      () => editors.every((e) => e.replica.items.size === 80),
      "80 items everywhere",
    );
    await eventually(
      () => editors.every((e) => e.chat.length === 20),
      "20 chat messages everywhere",
    );
    const expected = texts(a);
    for (const editor of editors) {
      assert.deepEqual(editor.replica.sorted(), a.replica.sorted());
      assertExactlyOnce(editor, expected);
      assert.equal(editor.chat.filter((e) => e.senderName === editor.contact.user).length, 5);
    }
  });

  test("a lost delta and a lost chat message are repaired when a later one reveals the gap", async () => {
    let dropped = 0;
    const a = await startEditor(0, "ann", [], { antiEntropyIntervalMs: 60_000 });
    const b = await startEditor(1, "bob", [a], {
      // No periodic anti-entropy: only the gap detection can repair.
      antiEntropyIntervalMs: 60_000,
      faults: ({ envelope }) => {
        const body = envelope.body;
        if (body.case === "crdtDelta" && body.value.seq === 1) return (dropped++, []);
        if (body.case === "chatMessage" && body.value.text === "first") return (dropped++, []);
        return undefined;
      },
    });
    await b.peer.whenSynced();
    await eventually(() => a.peer.peers().length === 1, "a knows b");
    a.peer.broadcastDelta(a.replica.add("x1"));
    a.peer.broadcastDelta(a.replica.add("x2"));
    await a.peer.sendChat("first");
    await a.peer.sendChat("second, after first");
    await eventually(
      () => b.replica.items.has("x1") && b.replica.items.has("x2"),
      "both deltas at b",
    );
    await eventually(() => b.chat.length === 2, "both chat messages at b");
    assert.equal(dropped, 2);
    assert.deepEqual(texts(b), ["first", "second, after first"]);
    assert.ok(b.peer.stats.crdtRepairRequests > 0 && b.peer.stats.chatRepairRequests > 0);
  });

  test("a lost last message is repaired by periodic anti-entropy", async () => {
    const a = await startEditor(0, "ann", []);
    const b = await startEditor(1, "bob", [a], {
      faults: ({ envelope }) =>
        envelope.body.case === "crdtDelta" || envelope.body.case === "chatMessage" ? [] : undefined,
    });
    await b.peer.whenSynced();
    await eventually(() => a.peer.peers().length === 1, "a knows b");
    a.peer.broadcastDelta(a.replica.add("only"));
    await a.peer.sendChat("nobody hears me directly");
    await eventually(() => b.replica.items.has("only") && b.chat.length === 1, "repaired at b");
    assert.equal(b.chat[0]!.senderName, "ann");
    assert.ok(b.peer.stats.antiEntropyRounds > 0);
  });

  test("an editor killed with SIGKILL blocks no one; a newcomer still syncs", async () => {
    const a = await startEditor(0, "ann", []);
    const b = await startEditor(1, "bob", [a]);
    await b.peer.whenSynced();
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(new URL("./fixtures/editor-process.ts", import.meta.url)),
        JSON.stringify({
          slot: 2,
          user: "cid",
          token: Buffer.from(TOKEN).toString("hex"),
          peers: [a.contact, b.contact].map(contactToJson),
        }),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(child);
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await once(lines, "line")) as [string];
    const childContact = contactFromJson(JSON.parse(/^bound (.*)$/.exec(line)![1]!) as ContactJson);
    a.peer.addPeer(childContact);
    b.peer.addPeer(childContact);
    await eventually(
      () => [a, b].every((e) => e.replica.items.has("from-child") && e.chat.length === 1),
      "the child's item and chat everywhere",
    );
    child.kill("SIGKILL");
    await once(child, "exit");

    // The survivors keep working while the dead editor is still listed as a peer.
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      a.peer.broadcastDelta(a.replica.add(`a${i}`));
      sends.push(b.peer.sendChat(`b${i}`));
    }
    await Promise.all(sends);
    await eventually(
      () => [a, b].every((e) => e.replica.items.size === 101 && e.chat.length === 101),
      "survivors in sync",
    );
    assert.ok(
      a.peer.peers().some((p) => p.slot === 2),
      "the dead editor was not removed yet",
    );

    // A newcomer told about the dead editor too gives up on it and follows live.
    const d = await startEditor(3, "dot", [a, b, childContact], {
      initialSyncTimeoutMs: 1500,
    });
    const outcome = await d.peer.whenSynced();
    assert.equal(outcome.timedOut, true);
    assert.ok(outcome.replicaFrom === 0 || outcome.replicaFrom === 1);
    assert.deepEqual([...outcome.chatFrom].sort(), [0, 1]);
    assert.deepEqual(d.replica.sorted(), a.replica.sorted());
    assert.equal(d.chat.length, 101);

    const left: number[] = [];
    a.peer.on("peerLeft", ({ slot }) => left.push(slot));
    a.peer.removePeer(2);
    assert.deepEqual(left, [2]);
  });

  test("a newcomer gets the current state and the last 200 chat messages, then follows live", async () => {
    const a = await startEditor(0, "ann", []);
    const b = await startEditor(1, "bob", [a]);
    await b.peer.whenSynced();
    await eventually(() => a.peer.peers().length === 1, "a knows b");
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 125; i++) {
      sends.push(a.peer.sendChat(`a${i}`), b.peer.sendChat(`b${i}`));
      a.peer.broadcastDelta(a.replica.add(`item${i}`));
    }
    await Promise.all(sends);
    await eventually(
      () => a.chat.length === 250 && b.chat.length === 250,
      "250 messages at a and b",
    );
    await eventually(() => b.replica.items.size === 125, "items at b");

    const c = await startEditor(4, "cy", [a, b]);
    const outcome = await c.peer.whenSynced();
    assert.equal(outcome.timedOut, false);
    assert.deepEqual(c.replica.sorted(), a.replica.sorted());
    assert.equal(c.chat.length, 200, "the last 200 messages");
    assert.equal(new Set(texts(c)).size, 200);
    assert.ok(
      texts(c).includes("a124") && texts(c).includes("b124"),
      `the newcomer lacks the newest messages; it has ${texts(c).slice(0, 3).join(",")}…` +
        `${texts(c).slice(-3).join(",")} after ${JSON.stringify(outcome)}`,
    );
    // Exactly the history one of them retains (which 200 depends on the order
    // each delivered the two bursts in, under load).
    const retained = (e: Editor): string =>
      JSON.stringify(
        e.peer
          .chatHistory()
          .map((m) => m.text)
          .sort(),
      );
    const got = JSON.stringify([...texts(c)].sort());
    assert.ok(
      got === retained(a) || got === retained(b),
      "the newcomer has a peer's retained history",
    );
    assert.equal(formatClock(c.peer.deliveredChat), formatClock(a.peer.deliveredChat));
    assert.ok(c.chat.every((e) => e.senderName === (e.text.startsWith("a") ? "ann" : "bob")));

    await c.peer.sendChat("hello, I am new");
    await a.peer.sendChat("welcome");
    await eventually(
      () =>
        [a, b].every((e) => texts(e).includes("hello, I am new")) && texts(c).includes("welcome"),
      "live chat with the newcomer",
    );
    a.peer.broadcastDelta(a.replica.add("after-join"));
    await eventually(() => c.replica.items.has("after-join"), "live delta at the newcomer");
  });

  test("a newcomer in a slot freed by a clean leave continues its numbering", async () => {
    const a = await startEditor(0, "ann", []);
    const b = await startEditor(1, "bob", [a]);
    await b.peer.whenSynced();
    await eventually(() => a.peer.peers().length === 1, "a knows b");
    for (const text of ["one", "two", "three"]) await b.peer.sendChat(text);
    await eventually(() => a.chat.length === 3, "b's messages at a");
    const left = once(a.peer, "peerLeft");
    await b.peer.stop();
    assert.equal(((await left) as [{ reason: string }])[0].reason, "bye");

    const e = await startEditor(1, "eve", [a]);
    await e.peer.whenSynced();
    const entry = await e.peer.sendChat("eve here");
    assert.equal(entry.seq, 4);
    await eventually(() => texts(a).includes("eve here"), "eve's message at a");
    assert.equal(a.chat.at(-1)!.senderName, "eve");
  });

  test("causal order through ZeroMQ with injected delays, duplicates and losses", async () => {
    const random = seededRandom(42);
    const faults: MeshFaultInjector = ({ envelope }) => {
      if (envelope.body.case !== "chatMessage") return undefined;
      const roll = random();
      if (roll < 0.03) return []; // lost: anti-entropy repairs it
      if (roll < 0.1) return [random() * 15, random() * 30]; // duplicated
      return [random() * 15];
    };
    const slots = [0, 1, 2, 3];
    const names = ["ann", "bob", "cat", "dan"];
    const editors: Editor[] = [];
    for (const slot of slots) {
      const editor = await startEditor(slot, names[slot]!, editors, { faults });
      await editor.peer.whenSynced();
      editors.push(editor);
    }
    await eventually(() => editors.every((e) => e.peer.peers().length === 3), "full mesh");

    // Each editor answers some topics of the others: "re:<topic>@<name>".
    const topics = slots.flatMap((slot) =>
      Array.from({ length: 15 }, (_, i) => `t${i}@${names[slot]}`),
    );
    const answers = (topic: string, name: string): boolean =>
      !topic.endsWith(`@${name}`) &&
      [...`${topic}${name}`].reduce((h, ch) => h * 31 + ch.charCodeAt(0), 7) % 2 === 0;
    const expected = [
      ...topics,
      ...topics.flatMap((topic) =>
        names.filter((name) => answers(topic, name)).map((name) => `re:${topic}@${name}`),
      ),
    ];
    const replies: Promise<unknown>[] = [];
    for (const editor of editors) {
      editor.peer.on("chat", (entry) => {
        const name = editor.contact.user;
        if (!entry.text.startsWith("re:") && answers(entry.text, name)) {
          replies.push(editor.peer.sendChat(`re:${entry.text}@${name}`));
        }
      });
    }
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 15; i++) {
      for (const editor of editors)
        sends.push(editor.peer.sendChat(`t${i}@${editor.contact.user}`));
    }
    await Promise.all(sends);
    await eventually(
      () => editors.every((e) => e.chat.length >= expected.length),
      `${expected.length} messages everywhere`,
    );
    await Promise.all(replies);
    await new Promise((resolve) => setTimeout(resolve, 100)); // would-be duplicates have time to show

    for (const editor of editors) {
      assertExactlyOnce(editor, expected);
      const position = new Map(texts(editor).map((text, i) => [text, i]));
      for (const text of texts(editor)) {
        if (!text.startsWith("re:")) continue;
        const topic = text.slice(3, text.lastIndexOf("@"));
        assert.ok(
          position.get(topic)! < position.get(text)!,
          `${text} before its topic at ${editor.contact.user}`,
        );
      }
      // And in general: never a message after one that causally follows it.
      editor.chat.forEach((later, j) => {
        for (const earlier of editor.chat.slice(0, j)) {
          assert.notEqual(compareClocks(later.clock, earlier.clock), "before");
        }
      });
    }
  });

  test("stop() says bye, clears every timer and ends the chat stream; other sessions are ignored", async () => {
    let live = 0;
    const countingTimers: PeerTimers = {
      setTimeout: (callback, delayMs) => {
        live++;
        return setTimeout(() => {
          live--;
          callback();
        }, delayMs);
      },
      clearTimeout: (handle) => {
        live--;
        clearTimeout(handle as NodeJS.Timeout);
      },
    };
    const a = await startEditor(0, "ann", []);
    const b = await startEditor(1, "bob", [a], { timers: countingTimers });
    await b.peer.whenSynced();
    const stream = b.peer.chatMessages();
    const collected = (async () => {
      const seen: string[] = [];
      for await (const entry of stream) seen.push(entry.text);
      return seen;
    })();
    await b.peer.sendChat("last words");
    assert.ok(live > 0);
    await b.peer.stop();
    assert.equal(live, 0, "no timer left");
    assert.deepEqual(await collected, ["last words"]);
    await eventually(() => a.peer.peers().length === 0, "a dropped b on its bye");
    await assert.rejects(
      b.peer.sendChat("too late"),
      (e: unknown) => e instanceof AlbumError && e.code === ErrorCode.FailedPrecondition,
    );

    // An editor holding a key a admitted but speaking for another session
    // (another token) cannot name itself: its routing id does not match, so
    // nothing of it is even decoded.
    const receivedBefore = a.mesh.stats.received;
    const stranger = await startEditor(9, "zed", [a], {
      sessionToken: newSessionToken(),
      initialSyncTimeoutMs: 300,
    });
    assert.equal((await stranger.peer.whenSynced()).timedOut, true);
    await eventually(() => a.mesh.stats.unauthenticated > 0, "a dropped the stranger's messages");
    assert.equal(a.mesh.stats.received, receivedBefore);
    assert.equal(a.peer.stats.hellosIgnored, 0);
  });
});
