// The front end's entry point: asks who is logged in, then shows the login
// page, "my albums" or an album (#/album/NAME), with a header to go back and
// log out. An album's page starts at once, while the question is on its way
// (its live channel needs the same cookie, and the page gives way to the
// login page if there is none). Plain TypeScript and DOM, no framework, no
// network beyond its own server.
import { api, LOGGED_OUT } from "./api.ts";
import { albumPage, type AlbumPage } from "./album-page.ts";
import { albumsView } from "./albums-view.ts";
import { h } from "./dom.ts";
import { loginView } from "./login-view.ts";

let user: string | null = null;
/** False until the server said who is logged in (until then only an album page may show). */
let answered = false;
let current: AlbumPage | undefined;
const root = document.getElementById("app")!;
const who = h("span", { class: "who" });

function header(): HTMLElement {
  return h(
    "header",
    {},
    h("nav", { "aria-label": "Main" }, h("a", { href: "#/" }, "My albums")),
    who,
    h(
      "button",
      {
        type: "button",
        onclick: () => {
          void api("POST", "/api/logout").finally(() => {
            user = null;
            location.hash = "#/";
            render();
          });
        },
      },
      "Log out",
    ),
  );
}

function render(): void {
  who.textContent = user ? `Logged in as ${user}` : "";
  current?.dispose();
  current = undefined;
  if (user === null) {
    root.replaceChildren(
      loginView((name) => {
        user = name;
        render();
      }),
    );
    return;
  }
  const album = albumMatch();
  if (album) {
    showAlbum(album);
  } else {
    root.replaceChildren(albumsView(user, header()));
    document.title = "My albums — AlbumSharing";
  }
}

/** The album named by the address (#/album/NAME), if any. */
function albumMatch(): string | undefined {
  const match = /^#\/album\/(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

function showAlbum(album: string): void {
  current = albumPage(album, header());
  root.replaceChildren(current.element);
  document.title = `${album} — AlbumSharing`;
}

window.addEventListener("hashchange", () => {
  if (answered) render();
});
window.addEventListener(LOGGED_OUT, () => {
  if (user === null) return;
  user = null;
  render();
});
const asked = api<{ user: string | null }>("GET", "/api/me");
const albumFirst = albumMatch();
if (albumFirst) showAlbum(albumFirst);
asked.then(
  (me) => {
    answered = true;
    user = me.user;
    // The album page already showing stays (a render would open its channel again).
    if (albumFirst && current && user !== null && albumMatch() === albumFirst) {
      who.textContent = `Logged in as ${user}`;
      return;
    }
    render();
  },
  () => {
    answered = true;
    render();
  },
);
