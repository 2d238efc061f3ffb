// Tells images, videos and other files apart by name, for files whose entry
// records no media kind (added before renditions existed, or by a client that
// made none), and the Content-Type to serve each with. Only types a browser
// shows inline safely are named; everything else is served as a download of
// application/octet-stream. Pure.

import type { MediaKind } from "../crdt/index.ts";

export type { MediaKind };

const IMAGE_TYPES: Readonly<Record<string, string>> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
};

const VIDEO_TYPES: Readonly<Record<string, string>> = {
  mp4: "video/mp4",
  m4v: "video/mp4",
  webm: "video/webm",
  ogv: "video/ogg",
  mov: "video/quicktime",
};

function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
}

export function mediaKindOf(name: string): MediaKind {
  const extension = extensionOf(name);
  if (extension in IMAGE_TYPES) return "image";
  if (extension in VIDEO_TYPES) return "video";
  return "file";
}

/** The Content-Type an original is served with; never text/html or SVG (script). */
export function contentTypeOf(name: string): string {
  const extension = extensionOf(name);
  return IMAGE_TYPES[extension] ?? VIDEO_TYPES[extension] ?? "application/octet-stream";
}
