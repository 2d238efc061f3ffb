// The JSON the web server sends a page (the album view and live-channel
// messages), shared by the server and the front end. Declarations only, no
// imports, so the browser bundle pulls in nothing of the server. No field
// here may ever hold a content key.

export type MediaKindView = "image" | "video" | "file";

export interface FileView {
  /** The FileId: a hash that names the file without revealing its content key. */
  id: string;
  name: string;
  addedBy: string;
  size: number;
  average: number | null;
  ratings: number;
  /** True when this user rated it (in any session). */
  rated: boolean;
  /** This user's stars, when given through this web server. */
  myStars: number | null;
  kind: MediaKindView;
  /**
   * Version of its pictures, for their addresses (?v=): changes when they
   * would; never a content key nor derived from one without the server's secret.
   */
  version: string;
  /** Whether the server can serve a thumbnail / a preview picture of it. */
  thumbnail: boolean;
  preview: boolean;
  width: number | null;
  height: number | null;
  /** When the photo was taken (EXIF), unix ms. */
  takenAt: number | null;
  /** When it was added, unix ms (files added without renditions may lack it). */
  addedAt: number | null;
}

export interface EditorView {
  user: string;
  slot: number;
}

export interface AlbumView {
  name: string;
  me: string;
  slot: number;
  members: string[];
  /** Everyone editing now, ourselves included. */
  editors: EditorView[];
  files: FileView[];
}

export interface ChatView {
  from: string;
  slot: number;
  text: string;
  time: number;
}

export type LiveMessage =
  | { type: "album"; album: AlbumView }
  | { type: "chat"; message: ChatView }
  | { type: "ended"; reason: string }
  | { type: "error"; message: string };
