// How listAlbums names each album so that `getAlbum <what is shown>` opens
// it: the album's name, or `creator/name` when two albums in the list share
// a name (names are unique per creator only). Pure.

export interface ListedAlbum {
  /** Canonical name: `name`, or `creator/name` when another album had the name first. */
  name: string;
  creator: string;
}

export function albumReferences(albums: readonly ListedAlbum[]): string[] {
  const display = albums.map((album) => {
    const slash = album.name.indexOf("/");
    return slash < 0 ? album.name : album.name.slice(slash + 1);
  });
  const counts = new Map<string, number>();
  for (const name of display)
    counts.set(name.toLowerCase(), (counts.get(name.toLowerCase()) ?? 0) + 1);
  return albums.map((album, index) => {
    const name = display[index]!;
    return (counts.get(name.toLowerCase()) ?? 0) > 1 && album.creator
      ? `${album.creator}/${name}`
      : name;
  });
}
