// What the sessions layer puts on the wire and takes from it: notifications
// (and telling the other editors), editors, rating tallies, kept chat
// messages, and the "not a member" answer (the same for an unknown album, so
// album names cannot be probed). Pure.
import { create } from "@bufbuild/protobuf";
import { permissionDenied, type AlbumError } from "../../common/album-error.ts";
import {
  EditorJoinedSchema,
  EditorLeftSchema,
  LeaveReason,
  RatingRecordedSchema,
  RatingTallySchema,
  SessionEndedSchema,
  NotificationSchema,
  SessionEditorSchema,
  type Notification,
  type RatingTally as RatingTallyWire,
  type SessionEditor,
} from "../../gen/albumshare/central/v1/central_pb.ts";
import type { RatingTally } from "../../crdt/delta-audit.ts";
import type { ConnectionState } from "../handler-context.ts";
import type { OpenSession } from "./open-session.ts";
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

export {
  keptChatFromWire as chatFromWire,
  keptChatToWire as chatToWire,
} from "../../common/kept-chat.ts";

export function notMemberError(album: string): AlbumError {
  return permissionDenied(`'${album}' is not an album you are a member of`);
}

type NoticeBody = Notification["body"];

export function editorJoined(
  session: OpenSession,
  holder: SlotHolder<ConnectionState>,
): NoticeBody {
  return {
    case: "editorJoined",
    value: create(EditorJoinedSchema, { album: session.album, editor: toWireEditor(holder) }),
  };
}

export function editorLeft(
  session: OpenSession,
  holder: SlotHolder<ConnectionState>,
  how: Departure,
): NoticeBody {
  return {
    case: "editorLeft",
    value: create(EditorLeftSchema, {
      album: session.album,
      slot: holder.slot,
      user: holder.user,
      reason: departureReason[how],
    }),
  };
}

export function ratingTallyToWire(fileId: string, tally: RatingTally): RatingTallyWire {
  return create(RatingTallySchema, { fileId, raters: tally.raters, stars: BigInt(tally.stars) });
}

/** Every editor of the session learns a file's new rate-once tally. */
export function ratingRecorded(
  session: OpenSession,
  fileId: string,
  tally: RatingTally,
): NoticeBody {
  return {
    case: "ratingRecorded",
    value: create(RatingRecordedSchema, {
      album: session.album,
      tally: ratingTallyToWire(fileId, tally),
    }),
  };
}

export function sessionEnded(session: OpenSession, reason: string): NoticeBody {
  return {
    case: "sessionEnded",
    value: create(SessionEndedSchema, { album: session.album, reason }),
  };
}

/** Tells every connected holder but `except` (away holders learn on resume). */
export function notifyOthers(
  session: OpenSession,
  except: SlotHolder<ConnectionState>,
  body: NoticeBody,
): void {
  const frame = notification(body);
  for (const holder of session.slots.holders()) {
    if (holder !== except) holder.connection?.notify(frame);
  }
}
