// The views of what the app returns: the user cards, the session line, and
// the debug views of the bucket and the table.

import { el, formatSize } from "./dom.js";

const users = document.getElementById("users");
const whoami = document.getElementById("whoami");
const signOutButton = document.getElementById("sign-out");
const uploads = document.getElementById("uploads");
const bucket = document.querySelector("#bucket-table tbody");
const bucketCount = document.getElementById("bucket-count");
const table = document.querySelector("#table-table tbody");

// `onSignIn(username)` runs when a card's "Sign in as" button is pressed.
export function renderUsers(list, me, onSignIn) {
  const cards = list.map((user) => {
    const signedIn = user.username === me;
    const label = user.name || user.username;
    const avatar = user.avatarUrl
      ? el("img", { className: "avatar", src: user.avatarUrl, alt: `Avatar of ${label}`, width: 96, height: 96 })
      : el("div", { className: "avatar placeholder", role: "img", "aria-label": `No avatar for ${label}` });
    const button = el("button", { type: "button", className: "sign-in" }, `Sign in as ${user.username}`);
    button.addEventListener("click", () => onSignIn(user.username));
    return el(
      "article",
      { className: signedIn ? "user-card signed-in" : "user-card", dataset: { username: user.username } },
      avatar,
      el("h3", { className: "name" }, label),
      el("p", { className: "username" }, user.username),
      signedIn ? el("p", { className: "badge" }, "signed in") : null,
      button,
    );
  });
  users.replaceChildren(...cards);
}

export function renderSession(me) {
  whoami.textContent = me || "not signed in";
  signOutButton.hidden = !me;
  uploads.hidden = !me;
}

function cell(text, className) {
  return el("td", className ? { className } : {}, text == null || text === "" ? "—" : text);
}

function emptyRow(columns, text) {
  return el("tr", {}, el("td", { colSpan: columns, className: "empty" }, text));
}

export function renderBucket(objects, total) {
  // The view describes only the newest objects (one HEAD each); say so.
  bucketCount.hidden = !(total > objects.length);
  bucketCount.textContent = `Showing the newest ${objects.length} of ${total} objects.`;
  const rows = objects.map((obj) => {
    const meta = Object.entries(obj.metadata || {}).map(([k, v]) => `${k}=${v}`).join("\n");
    return el(
      "tr",
      {},
      cell(obj.key, "mono"),
      cell(obj.lastModified),
      cell(formatSize(obj.size), "num"),
      cell(obj.contentType),
      cell(meta, "mono pre"),
      cell(obj.expiration),
    );
  });
  bucket.replaceChildren(...(rows.length ? rows : [emptyRow(6, "The bucket is empty.")]));
}

export function renderTable(items) {
  const rows = items.map((item) =>
    el("tr", {}, cell(item.Username, "mono"), cell(item.Name), cell(item.Avatar, "mono")),
  );
  table.replaceChildren(...(rows.length ? rows : [emptyRow(3, "The table is empty.")]));
}

// A stage without the debug views (DEBUG_ROUTES off) answers them 404
// `debug_views_off`: say so in place of the rows.
export function renderDebugViewsOff(message) {
  bucketCount.hidden = true;
  bucket.replaceChildren(emptyRow(6, message));
  table.replaceChildren(emptyRow(3, message));
}
