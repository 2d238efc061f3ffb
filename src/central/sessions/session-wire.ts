// What the sessions layer puts on the wire and takes from it: notification
// frames, editors, kept chat messages, and the "not a member" answer (the
// same for an unknown album, so album names cannot be probed). Pure.
import { create } from "@bufbuild/protobuf";
import { permissionDenied, type AlbumError } from "../../common/album-error.ts";
import {
  ChatRecordSchema,
  LeaveReason,
  NotificationSchema,
  SessionEditorSchema,
  type ChatRecord,
  type Notification,
  type SessionEditor,
} from "../../gen/albumshare/central/v1/central_pb.ts";
import type { ConnectionState } from "../handler-context.ts";
import type { ArchivedChat } from "./chat-archive.ts";
import type { Departure, SlotHolder } from "./session-slots.ts";

export const departureReason: Record<Departure, LeaveReason> = {
  left: LeaveReason.LEFT,
  lost: LeaveReason.LOST,
  removed: LeaveReason.REMOVED,
};

export function notification(body: Notification["body"]): {
  case: "notification";
  value: Notification;
} {
  return { case: "notification", value: create(NotificationSchema, { body }) };
}

export function toWireEditor(holder: SlotHolder<ConnectionState>): SessionEditor {
  return create(SessionEditorSchema, {
    slot: holder.slot,
    user: holder.user,
    address: holder.address ?? "",
  });
}

export function chatToWire(message: ArchivedChat): ChatRecord {
  return create(ChatRecordSchema, { ...message, sentAtUnixMs: BigInt(message.sentAtUnixMs) });
}

export function chatFromWire(record: ChatRecord): ArchivedChat {
  return {
    epoch: record.epoch,
    slot: record.slot,
    seq: record.seq,
    sender: record.sender,
    text: record.text,
    // Out-of-range times are refused by the archive, not wrapped.
    sentAtUnixMs:
      record.sentAtUnixMs > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(record.sentAtUnixMs),
  };
}

export function notMemberError(album: string): AlbumError {
  return permissionDenied(`'${album}' is not an album you are a member of`);
}
