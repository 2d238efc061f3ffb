// The routing table of the central server: one handler per request type.
// A request type missing here is answered with "unknown request type".
import type { HandlerTable } from "../handler-context.ts";
import { handleAnnounceEditor } from "./announce-editor.ts";
import { handleCreateAlbum } from "./create-album.ts";
import { handleGetAlbum } from "./get-album.ts";
import { handleHandOff } from "./hand-off.ts";
import { handlePutAlbum } from "./put-album.ts";
import { handleRecordRating } from "./record-rating.ts";
import { handleGetRing } from "./get-ring.ts";
import { handleListAlbums } from "./list-albums.ts";
import { handleLogin } from "./login.ts";
import { handleLogout } from "./logout.ts";
import { handlePing } from "./ping.ts";
import { handleRegister } from "./register.ts";
import { handleResumeAlbum } from "./resume-album.ts";
import { handleUserExists } from "./user-exists.ts";

export const centralHandlers: HandlerTable = {
  ping: handlePing,
  register: handleRegister,
  login: handleLogin,
  logout: handleLogout,
  createAlbum: handleCreateAlbum,
  listAlbums: handleListAlbums,
  userExists: handleUserExists,
  getAlbum: handleGetAlbum,
  announceEditor: handleAnnounceEditor,
  handOff: handleHandOff,
  putAlbum: handlePutAlbum,
  recordRating: handleRecordRating,
  resumeAlbum: handleResumeAlbum,
  getRing: handleGetRing,
};
