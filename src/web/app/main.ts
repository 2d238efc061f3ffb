// The front end's entry point: asks who is logged in, then shows the login
// page, "my albums" or an album (#/album/NAME), with a header to go back and
// log out. Plain TypeScript and DOM, no framework, no network beyond its own
// server.
import { api, LOGGED_OUT } from "./api.ts";
import { albumPage, type AlbumPage } from "./album-page.ts";
import { albumsView } from "./albums-view.ts";
import { h } from "./dom.ts";
import { loginView } from "./login-view.ts";

let user: string | null = null;
let current: AlbumPage | undefined;
const root = document.getElementById("app")!;

function header(): HTMLElement {
  return h(
    "header",
    {},
    h("nav", { "aria-label": "Main" }, h("a", { href: "#/" }, "My albums")),
    h("span", { class: "who" }, user ? `Logged in as ${user}` : ""),
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
  const match = /^#\/album\/(.+)$/.exec(location.hash);
  if (match) {
    current = albumPage(decodeURIComponent(match[1]!), header());
    root.replaceChildren(current.element);
    document.title = `${decodeURIComponent(match[1]!)} — AlbumSharing`;
  } else {
    root.replaceChildren(albumsView(user, header()));
    document.title = "My albums — AlbumSharing";
  }
}

window.addEventListener("hashchange", render);
window.addEventListener(LOGGED_OUT, () => {
  if (user === null) return;
  user = null;
  render();
});
api<{ user: string | null }>("GET", "/api/me").then(
  (me) => {
    user = me.user;
    render();
  },
  () => render(),
);
