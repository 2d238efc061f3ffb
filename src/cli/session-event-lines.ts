// How the shell prints what happens in an editing session without being
// asked (chat, editors joining and leaving, the session ending): one line
// each, plain for people, one JSON object for scripts. Pure formatting. Plain
// lines never carry control characters from the network (a peer's text must
// not drive our terminal).
import type {
  EditorLeftView,
  LeaveKind,
  SessionChatMessage,
  SessionEditorView,
  SessionEnd,
} from "../client/session/album-session.ts";

export type SessionEvent =
  | { kind: "chat"; message: SessionChatMessage }
  | { kind: "joined"; editor: SessionEditorView }
  | { kind: "left"; editor: EditorLeftView }
  | { kind: "sessionEnded"; end: SessionEnd }
  // The connection to the central server: lost (reconnecting by itself) and back.
  | { kind: "reconnecting"; reason: string }
  | { kind: "restored" };

const LEAVE_NOTE: Record<LeaveKind, string> = {
  left: "",
  lost: " (connection lost)",
  removed: " (removed from the album)",
};

export function plainEventLine(event: SessionEvent): string {
  switch (event.kind) {
    case "chat":
      return `[${printable(event.message.from)}] ${printable(event.message.text)}`;
    case "joined":
      return `* ${printable(event.editor.user)} joined (slot ${event.editor.slot})`;
    case "left":
      return `* ${printable(event.editor.user)} left${LEAVE_NOTE[event.editor.reason]}`;
    case "sessionEnded":
      return `* session ended: ${printable(event.end.reason)}`;
    case "reconnecting":
      return `* ${printable(event.reason)}; reconnecting (editing and chat go on with the others)`;
    case "restored":
      return "* reconnected to the central server";
  }
}

export function jsonEventLine(event: SessionEvent): string {
  switch (event.kind) {
    case "chat":
      return JSON.stringify({
        event: "chat",
        from: event.message.from,
        text: event.message.text,
        time: event.message.time,
      });
    case "joined":
      return JSON.stringify({ event: "joined", user: event.editor.user, slot: event.editor.slot });
    case "left":
      return JSON.stringify({
        event: "left",
        user: event.editor.user,
        slot: event.editor.slot,
        reason: event.editor.reason,
      });
    case "sessionEnded":
      return JSON.stringify({ event: "sessionEnded", reason: event.end.reason });
    case "reconnecting":
      return JSON.stringify({ event: "reconnecting", reason: event.reason });
    case "restored":
      return JSON.stringify({ event: "restored" });
  }
}

/** Control characters (escape sequences, line breaks) become '?'. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we replace
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}
