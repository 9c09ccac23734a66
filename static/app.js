// The page's entry: keeps the views up to date, signs in and out, and starts
// an avatar change when a file is chosen. upload.js runs the steps.

import { api } from "./api.js";
import { checkChosenFile } from "./checks.js";
import { clearError, log, report, showError } from "./log.js";
import {
  renderBucket,
  renderDebugViewsOff,
  renderSession,
  renderTable,
  renderUsers,
} from "./render.js";
import { failSteps, resetSteps } from "./steps.js";
import { changeAvatar } from "./upload.js";

const signOutButton = document.getElementById("sign-out");
const inputs = {
  normal: document.getElementById("upload-normal"),
  skip: document.getElementById("upload-skip-finalize"),
  reuse: document.getElementById("upload-reuse-form"),
};

// Reloads users, session and both tables. Responses from an older refresh
// that arrive after a newer one are dropped, so the page never goes backwards.
let refreshSeq = 0;
async function refresh() {
  const seq = ++refreshSeq;
  const [users, who, bucket, table] = await Promise.allSettled([
    api("GET", "users"),
    api("GET", "whoami"),
    api("GET", "debug/bucket"),
    api("GET", "debug/table"),
  ]);
  if (seq !== refreshSeq) return;
  const me = who.status === "fulfilled" && who.value ? who.value.username : null;
  renderSession(me);
  if (users.status === "fulfilled") renderUsers(users.value.users || [], me, signIn);
  if (bucket.status === "fulfilled") renderBucket(bucket.value.objects || [], bucket.value.total);
  if (table.status === "fulfilled") renderTable(table.value.items || []);
  const debugOff = [bucket, table].find(
    (result) => result.status === "rejected" && result.reason.error === "debug_views_off",
  );
  if (debugOff) renderDebugViewsOff(debugOff.reason.message);
  for (const result of [users, who, bucket, table]) {
    if (result.status === "rejected" && result.reason.error !== "debug_views_off") {
      report(result.reason, "refresh failed");
    }
  }
}

async function signIn(username) {
  clearError();
  try {
    await api("PUT", "login", { username });
    log(`signed in as ${username}`);
  } catch (err) {
    report(err, "sign in failed");
  }
  await refresh();
}

async function signOut() {
  clearError();
  try {
    // An empty JSON body keeps the request inside the JSON-only CSRF rule.
    await api("POST", "logout", {});
    log("signed out");
  } catch (err) {
    report(err, "sign out failed");
  }
  await refresh();
}

let busy = false;
function setBusy(value) {
  busy = value;
  for (const input of Object.values(inputs)) input.disabled = value;
}

async function onFileChosen(input, mode) {
  const file = input.files && input.files[0];
  if (!file || busy) return;
  clearError();
  resetSteps();
  // A file no preparation could make acceptable costs no request at all.
  const problem = checkChosenFile(file);
  if (problem) {
    input.value = "";
    log(problem, "error");
    showError(problem);
    failSteps(problem);
    return;
  }
  setBusy(true);
  try {
    await changeAvatar(file, mode, refresh);
  } catch (err) {
    failSteps(err.message);
    report(err, "upload failed");
  } finally {
    input.value = ""; // so the same file can be chosen again
    // Enabled again once the views show the outcome.
    await refresh();
    setBusy(false);
  }
}

signOutButton.addEventListener("click", signOut);
for (const [mode, input] of Object.entries(inputs)) {
  input.addEventListener("change", () => onFileChosen(input, mode));
}
refresh();
