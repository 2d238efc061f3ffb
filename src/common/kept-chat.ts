// A chat message as the central server keeps it (ChatRecord on the wire), in
// the shape both the server's archive and the client library use, and its
// conversions both ways. Pure. A time outside what a JavaScript number holds
// exactly becomes -1 rather than being wrapped (the archive refuses it).
import { create } from "@bufbuild/protobuf";
import { ChatRecordSchema, type ChatRecord } from "../gen/albumshare/central/v1/central_pb.ts";

export interface KeptChatMessage {
  readonly epoch: number;
  readonly slot: number;
  readonly seq: number;
  readonly sender: string;
  readonly text: string;
  readonly sentAtUnixMs: number;
}

export function keptChatToWire(message: KeptChatMessage): ChatRecord {
  return create(ChatRecordSchema, { ...message, sentAtUnixMs: BigInt(message.sentAtUnixMs) });
}

export function keptChatFromWire(record: ChatRecord): KeptChatMessage {
  return {
    epoch: record.epoch,
    slot: record.slot,
    seq: record.seq,
    sender: record.sender,
    text: record.text,
    sentAtUnixMs:
      record.sentAtUnixMs > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(record.sentAtUnixMs),
  };
}
