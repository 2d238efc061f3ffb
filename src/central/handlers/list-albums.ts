// listAlbums: the albums the logged-in user is a member of.
import { create } from "@bufbuild/protobuf";
import {
  AlbumSummarySchema,
  ListAlbumsReplySchema,
} from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { requireLogin } from "../require-login.ts";

export const handleListAlbums: Handler<"listAlbums"> = (_request, { connection, services }) => {
  const user = requireLogin(connection);
  const albums = services.store.albumsOf(user).map((album) =>
    create(AlbumSummarySchema, {
      name: album.name,
      memberCount: album.memberCount,
      editorCount: services.sessions.editorCount(album.name),
      creator: services.store.findAlbum(album.name)?.createdBy ?? "",
    }),
  );
  return { case: "listAlbums", value: create(ListAlbumsReplySchema, { albums }) };
};
