// Conversion between the peer wire messages (albumshare.peer.v1) and the
// in-process chat values, with validation of everything that comes off the
// wire. Decoding never throws on bad input except through decodePeerEnvelope,
// which turns garbage into AlbumError(InvalidArgument); conversions return an
// error string instead, so a handler can log and drop one bad message without
// crashing. Never accepts an unbounded field.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import {
  ChatMessageSchema,
  ChatSyncReplySchema,
  ChatSyncRequestSchema,
  ClockEntrySchema,
  PeerEnvelopeSchema,
  VectorClockSchema,
  type ChatMessage as ChatMessageWire,
  type ChatSyncReply as ChatSyncReplyWire,
  type ChatSyncRequest as ChatSyncRequestWire,
  type PeerEnvelope,
  type VectorClock as VectorClockWire,
} from "../gen/albumshare/peer/v1/peer_pb.ts";
import { checkChatText, MAX_SENDER_NAME_BYTES } from "./causal-chat.ts";
import type { ChatSyncReplyData, ChatSyncRequestData } from "./causal-chat.ts";
import type { ChatEntry } from "./chat-history.ts";
import {
  clockEntries,
  clockFromEntries,
  counterOf,
  MAX_SESSION_SLOT,
  type VectorClock,
} from "./vector-clock.ts";

/** Version carried in Hello; peers speaking another one are ignored. */
export const PEER_PROTOCOL_VERSION = 2;

/**
 * Largest envelope of each kind, checked before anything inside it is decoded.
 * A live delta is one local operation and a chat message one line, so both
 * are small and cheap to merge; the replies that carry a whole replica or the
 * chat history are bounded only by the socket's maximum message size, and
 * the engine accepts them only when it asked for them.
 */
export const MAX_ENVELOPE_BYTES: Partial<Record<PeerMessageCase, number>> = {
  hello: 1024,
  bye: 1024,
  crdtDelta: 64 * 1024,
  chatMessage: 16 * 1024,
  chatSyncRequest: 64 * 1024,
  crdtSyncRequest: 1024 * 1024,
};

/** Why an envelope of this size is refused, or undefined. */
export function sizeProblem(envelope: PeerEnvelope, bytes: number): string | undefined {
  const kind = envelope.body.case;
  const limit = kind === undefined ? undefined : MAX_ENVELOPE_BYTES[kind];
  if (limit === undefined || bytes <= limit) return undefined;
  return `${kind} of ${bytes} bytes, above its limit of ${limit}`;
}

/** The body of an envelope: `{ case: "hello", value: ... }` etc. */
export type PeerMessageBody = PeerEnvelope["body"];
export type PeerMessageCase = NonNullable<PeerMessageBody["case"]>;

export function encodePeerEnvelope(senderSlot: number, body: PeerMessageBody): Uint8Array {
  return toBinary(PeerEnvelopeSchema, create(PeerEnvelopeSchema, { senderSlot, body }));
}

/** Decodes one envelope; throws AlbumError(InvalidArgument) for bytes that are not one. */
export function decodePeerEnvelope(bytes: Uint8Array): PeerEnvelope {
  let envelope: PeerEnvelope;
  try {
    envelope = fromBinary(PeerEnvelopeSchema, bytes);
  } catch (error) {
    throw new AlbumError(ErrorCode.InvalidArgument, "malformed peer envelope", { cause: error });
  }
  if (envelope.senderSlot > MAX_SESSION_SLOT) {
    throw new AlbumError(
      ErrorCode.InvalidArgument,
      `peer envelope from slot ${envelope.senderSlot}, above ${MAX_SESSION_SLOT}`,
    );
  }
  if (envelope.body.case === undefined) {
    throw new AlbumError(ErrorCode.InvalidArgument, "peer envelope without a body");
  }
  return envelope;
}

export function clockToWire(clock: VectorClock): VectorClockWire {
  return create(VectorClockSchema, {
    entries: clockEntries(clock).map((entry) => create(ClockEntrySchema, entry)),
  });
}

export function clockFromWire(wire: VectorClockWire | undefined): VectorClock | string {
  return clockFromEntries(wire?.entries ?? []);
}

export function chatEntryToWire(entry: ChatEntry): ChatMessageWire {
  return create(ChatMessageSchema, {
    slot: entry.slot,
    seq: entry.seq,
    clock: clockToWire(entry.clock),
    senderName: entry.senderName,
    text: entry.text,
    sentAtUnixMs: BigInt(Math.max(0, Math.trunc(entry.sentAtUnixMs))),
  });
}

/** A chat message off the wire, or why it is refused. */
export function chatEntryFromWire(wire: ChatMessageWire): ChatEntry | string {
  if (wire.slot > MAX_SESSION_SLOT) return `chat message from slot ${wire.slot} out of range`;
  if (wire.seq < 1) return "chat message with sequence number 0";
  const clock = clockFromWire(wire.clock);
  if (typeof clock === "string") return `chat message with a bad clock: ${clock}`;
  if (counterOf(clock, wire.slot) !== wire.seq) {
    return `chat message ${wire.slot}:${wire.seq} whose clock disagrees with its sequence number`;
  }
  const textProblem = checkChatText(wire.text);
  if (textProblem) return textProblem;
  if (Buffer.byteLength(wire.senderName, "utf8") > MAX_SENDER_NAME_BYTES) {
    return `sender name longer than ${MAX_SENDER_NAME_BYTES} bytes`;
  }
  return {
    slot: wire.slot,
    seq: wire.seq,
    clock,
    senderName: wire.senderName,
    text: wire.text,
    sentAtUnixMs: Number(wire.sentAtUnixMs),
  };
}

export function chatSyncRequestToWire(request: ChatSyncRequestData): PeerMessageBody {
  return {
    case: "chatSyncRequest",
    value: create(ChatSyncRequestSchema, {
      delivered: clockToWire(request.delivered),
      initial: request.initial,
    }),
  };
}

export function chatSyncRequestFromWire(wire: ChatSyncRequestWire): ChatSyncRequestData | string {
  const delivered = clockFromWire(wire.delivered);
  if (typeof delivered === "string") return `chat sync request with a bad clock: ${delivered}`;
  return { delivered, initial: wire.initial };
}

export function chatSyncReplyToWire(reply: ChatSyncReplyData): PeerMessageBody {
  return {
    case: "chatSyncReply",
    value: create(ChatSyncReplySchema, {
      messages: reply.messages.map(chatEntryToWire),
      delivered: clockToWire(reply.delivered),
      initial: reply.initial,
      requesterSlotSeen: reply.requesterSlotSeen,
    }),
  };
}

/** A sync reply off the wire; invalid messages inside it are left out (and counted). */
export function chatSyncReplyFromWire(
  wire: ChatSyncReplyWire,
): { reply: ChatSyncReplyData; refused: number } | string {
  const delivered = clockFromWire(wire.delivered);
  if (typeof delivered === "string") return `chat sync reply with a bad clock: ${delivered}`;
  const messages: ChatEntry[] = [];
  let refused = 0;
  for (const message of wire.messages) {
    const entry = chatEntryFromWire(message);
    if (typeof entry === "string") refused++;
    else messages.push(entry);
  }
  return {
    reply: {
      messages,
      delivered,
      initial: wire.initial,
      requesterSlotSeen: wire.requesterSlotSeen,
    },
    refused,
  };
}
