// An album's page: the gallery, the viewer, uploads and the side panels, all
// fed by the live channel (a WebSocket to the web server's client core):
// every change any editor makes arrives as a new album view, every chat line
// as it is delivered. The channel reconnects by itself unless the session
// ended (e.g. this user was removed from the album), which the page says.
import { h } from "./dom.ts";
import { Gallery } from "./gallery.ts";
import { ChatPanel, EditorsPanel, MembersPanel } from "./side-panels.ts";
import { Uploads } from "./uploads.ts";
import { Viewer } from "./viewer.ts";
import type { LiveMessage } from "../live-types.ts";

export interface AlbumPage {
  element: HTMLElement;
  dispose(): void;
}

export function albumPage(album: string, header: HTMLElement): AlbumPage {
  const banner = h("p", { role: "alert", class: "banner", hidden: true });
  const status = h("p", { class: "live-status", "aria-live": "polite" }, "connecting…");
  const viewer = new Viewer(album);
  const gallery = new Gallery(album, (id) => viewer.open(id));
  const uploads = new Uploads(album);
  // People drop files on the grid they are looking at, not only on the drop zone.
  uploads.acceptDrops(gallery.element);
  const members = new MembersPanel(album);
  const editors = new EditorsPanel();
  const chat = new ChatPanel(album);
  const count = h("p", { class: "file-count" });
  const element = h(
    "div",
    { class: "album-page" },
    header,
    h(
      "main",
      {},
      h("h1", {}, album),
      banner,
      status,
      uploads.element,
      count,
      gallery.element,
      viewer.element,
    ),
    h("aside", {}, editors.element, members.element, chat.element),
  );

  let socket: WebSocket | undefined;
  let disposed = false;
  let ended = false;
  let retryTimer: number | undefined;
  let retryMs = 500;

  const end = (text: string): void => {
    ended = true;
    banner.textContent = text;
    banner.hidden = false;
    status.textContent = "not editing";
    uploads.element.hidden = true;
    members.element.hidden = true;
    chat.disable();
    socket?.close();
  };

  const onMessage = (message: LiveMessage): void => {
    switch (message.type) {
      case "album":
        status.textContent = "live";
        count.textContent = `${message.album.files.length} file${message.album.files.length === 1 ? "" : "s"}`;
        gallery.update(message.album.files);
        viewer.update(message.album.files);
        members.update(message.album);
        editors.update(message.album);
        break;
      case "chat":
        chat.add(message.message);
        break;
      case "ended":
        end(`You are no longer editing this album: ${message.reason}`);
        break;
      case "error":
        end(message.message);
        break;
    }
  };

  const connect = (): void => {
    if (disposed || ended) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(
      `${scheme}//${location.host}/api/live?album=${encodeURIComponent(album)}`,
    );
    socket = ws;
    let first = true;
    ws.onmessage = (event) => {
      if (first) {
        // A reconnect sends the chat history again: start the log afresh.
        chat.element.querySelector(".chat-log")?.replaceChildren();
        first = false;
        retryMs = 500;
      }
      onMessage(JSON.parse(String(event.data)) as LiveMessage);
    };
    ws.onclose = () => {
      if (disposed || ended) return;
      status.textContent = "reconnecting…";
      retryTimer = window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 8000);
    };
  };
  connect();

  return {
    element,
    dispose: () => {
      disposed = true;
      clearTimeout(retryTimer);
      viewer.close();
      socket?.close();
    },
  };
}
