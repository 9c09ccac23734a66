// Browser side of the three-phase avatar upload demo.
//
// Every URL below is relative ("users", never "/users"): deployed, the page is
// served under a stage prefix such as /api/, and relative URLs resolve under it.
// All DOM is built with createElement + textContent, so names that contain
// HTML render as plain text.

const ALLOWED_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
// Limit known before step 1; step 1 returns the authoritative maxBytes.
const MAX_BYTES_BEFORE_FORM = 1048576;
const LOG_LIMIT = 100;

const $ = (selector) => document.querySelector(selector);
const els = {
  users: $("#users"),
  whoami: $("#whoami"),
  signOut: $("#sign-out"),
  uploads: $("#uploads"),
  progress: $("#progress"),
  steps: {
    form: $('#steps [data-step="form"]'),
    upload: $('#steps [data-step="upload"]'),
    finalize: $('#steps [data-step="finalize"]'),
  },
  stepStatus: $("#step-status"),
  error: $("#error"),
  log: $("#log"),
  bucket: $("#bucket-table tbody"),
  bucketCount: $("#bucket-count"),
  table: $("#table-table tbody"),
  inputs: {
    normal: $("#upload-normal"),
    skip: $("#upload-skip-finalize"),
    reuse: $("#upload-reuse-form"),
  },
};

// ---------------------------------------------------------------- helpers

function httpError(status, error, message) {
  return Object.assign(new Error(message), { status, error });
}

// The one way the page talks to the backend. A body, when given, is always
// JSON with an explicit Content-Type: the backend refuses anything else with
// 415, which is what stops cross-site form posts (CSRF).
async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw httpError(0, "network_error", `${method} ${path}: network error`);
  }
  const type = res.headers.get("Content-Type") || "";
  let data = null;
  if (/\bjson\b/i.test(type)) {
    data = await res.json().catch(() => null);
  }
  if (!res.ok) {
    const statusText = `${res.status} ${res.statusText || "error"}`.trim();
    throw httpError(
      res.status,
      data && data.error ? data.error : null,
      data && data.message ? data.message : statusText,
    );
  }
  return data;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function formatSize(bytes) {
  if (bytes == null) return "—";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function log(text, kind = "info") {
  const time = new Date().toISOString().slice(11, 19);
  els.log.append(el("li", { className: `log-${kind}` }, `${time} ${text}`));
  while (els.log.children.length > LOG_LIMIT) els.log.firstElementChild.remove();
  els.log.scrollTop = els.log.scrollHeight; // the log is its own scroll box
}

const showError = (message) => { els.error.textContent = message; };
const clearError = () => showError("");

// Shows an error to the user and records it in the log with its status.
function report(err, prefix = "error") {
  const status = err.status ? ` (${err.status}${err.error ? ` ${err.error}` : ""})` : "";
  log(`${prefix}${status}: ${err.message}`, "error");
  showError(err.message);
}

// The three steps of the current upload: each <li> in #steps carries
// data-state pending|active|done|error, and #step-status says what happens now.
const STEP_ORDER = ["form", "upload", "finalize"];
let currentStep = null;

function resetSteps() {
  currentStep = null;
  for (const name of STEP_ORDER) els.steps[name].dataset.state = "pending";
}

function setStatus(text) {
  els.stepStatus.textContent = text;
}

function startStep(name, status) {
  currentStep = name;
  els.steps[name].dataset.state = "active";
  setStatus(status);
}

function finishStep(name) {
  els.steps[name].dataset.state = "done";
  if (currentStep === name) currentStep = null;
}

function failSteps(message) {
  if (currentStep) els.steps[currentStep].dataset.state = "error";
  currentStep = null;
  setStatus(`failed: ${message}`);
}

// ---------------------------------------------------------------- rendering

function renderUsers(users, me) {
  const cards = users.map((user) => {
    const signedIn = user.username === me;
    const label = user.name || user.username;
    const avatar = user.avatarUrl
      ? el("img", { className: "avatar", src: user.avatarUrl, alt: `Avatar of ${label}`, width: 96, height: 96 })
      : el("div", { className: "avatar placeholder", role: "img", "aria-label": `No avatar for ${label}` });
    const button = el("button", { type: "button", className: "sign-in" }, `Sign in as ${user.username}`);
    button.addEventListener("click", () => signIn(user.username));
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
  els.users.replaceChildren(...cards);
}

function renderSession(me) {
  els.whoami.textContent = me || "not signed in";
  els.signOut.hidden = !me;
  els.uploads.hidden = !me;
}

function cell(text, className) {
  return el("td", className ? { className } : {}, text == null || text === "" ? "—" : text);
}

function emptyRow(columns, text) {
  return el("tr", {}, el("td", { colSpan: columns, className: "empty" }, text));
}

function renderBucket(objects, total) {
  // The view describes only the newest objects (one HEAD each); say so.
  els.bucketCount.hidden = !(total > objects.length);
  els.bucketCount.textContent = `Showing the newest ${objects.length} of ${total} objects.`;
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
  els.bucket.replaceChildren(...(rows.length ? rows : [emptyRow(6, "The bucket is empty.")]));
}

function renderTable(items) {
  const rows = items.map((item) =>
    el("tr", {}, cell(item.Username, "mono"), cell(item.Name), cell(item.Avatar, "mono")),
  );
  els.table.replaceChildren(...(rows.length ? rows : [emptyRow(3, "The table is empty.")]));
}

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
  if (users.status === "fulfilled") renderUsers(users.value.users || [], me);
  if (bucket.status === "fulfilled") renderBucket(bucket.value.objects || [], bucket.value.total);
  if (table.status === "fulfilled") renderTable(table.value.items || []);
  for (const result of [users, who, bucket, table]) {
    if (result.status === "rejected") report(result.reason, "refresh failed");
  }
}

// ---------------------------------------------------------------- session

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

// ---------------------------------------------------------------- upload steps

function checkFile(file, maxBytes) {
  if (!ALLOWED_TYPES.includes(file.type)) {
    return `"${file.name}" is not a JPEG, PNG, GIF or WebP image.`;
  }
  if (file.size < 1) return `"${file.name}" is empty.`;
  if (file.size > maxBytes) {
    return `"${file.name}" is ${formatSize(file.size)}; the limit is ${formatSize(maxBytes)}.`;
  }
  return null;
}

// Step 1: ask the app for a presigned S3 POST form.
async function requestForm(file) {
  const form = await api("POST", "uploads", {});
  log(`1/3 form for ${form.key} (expires ${form.expiresAt})`);
  const problem = checkFile(file, form.maxBytes || MAX_BYTES_BEFORE_FORM);
  if (problem) throw httpError(0, "too_large", problem);
  return form;
}

// Short "status: Code: Message" from S3's XML error body.
function s3Error(xhr) {
  let detail = xhr.statusText || "error";
  const doc = new DOMParser().parseFromString(xhr.responseText || "", "application/xml");
  const code = doc.querySelector("Error > Code");
  const message = doc.querySelector("Error > Message");
  if (code) detail = `${code.textContent}${message ? `: ${message.textContent}` : ""}`;
  return httpError(xhr.status, "s3_error", `S3 refused the upload (${xhr.status}): ${detail.slice(0, 200)}`);
}

// Step 2: post the file straight to S3. XMLHttpRequest rather than fetch,
// because only XHR reports upload progress.
function postToS3(form, file) {
  const data = new FormData();
  for (const [name, value] of Object.entries(form.fields || {})) data.append(name, value);
  data.append("Content-Type", file.type);
  // S3 ignores every field that comes after the file, so it must be last.
  data.append("file", file);

  els.progress.value = 0;
  els.progress.hidden = false;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.url);
    xhr.upload.onprogress = (event) => {
      if (!event.lengthComputable) return;
      const percent = (event.loaded / event.total) * 100;
      els.progress.value = percent;
      setStatus(`uploading ${Math.floor(percent)}%…`);
    };
    xhr.onload = () => {
      if ([200, 201, 204].includes(xhr.status)) {
        els.progress.value = 100;
        resolve();
      } else {
        reject(s3Error(xhr));
      }
    };
    xhr.onerror = () => reject(httpError(0, "network_error", "Upload to S3 failed (network or CORS error)."));
    xhr.send(data);
  }).finally(() => {
    els.progress.hidden = true;
  });
}

// Step 3: ask the app to check the pending object and make it the avatar.
function finalize(key) {
  return api("POST", "avatar", { key });
}

// ---------------------------------------------------------------- flows

async function changeAvatar(file, mode) {
  startStep("form", "requesting form…");
  const form = await requestForm(file);
  finishStep("form");
  refresh();
  startStep("upload", "uploading 0%…");
  await postToS3(form, file);
  finishStep("upload");
  log(`2/3 uploaded ${formatSize(file.size)}`);
  refresh();
  if (mode === "skip") {
    log(`3/3 skipped: ${form.key} is left for the lifecycle rule to expire`);
    setStatus("done (finalize skipped: the pending object waits for the lifecycle rule)");
    return;
  }
  startStep("finalize", "finalizing…");
  const first = await finalize(form.key);
  finishStep("finalize");
  log(`3/3 finalized: ${first.avatar}`);
  if (mode !== "reuse") {
    setStatus("done");
    return;
  }
  refresh();
  setStatus("reusing the form…");

  // Replay: the same presigned form is still valid, so S3 may well accept a
  // second copy. The point is that finalizing it again must not change the
  // live avatar; whatever the backend answers is shown.
  try {
    await postToS3(form, file);
    log(`reuse: S3 accepted a second copy with the same form`);
  } catch (err) {
    report(err, "reuse: second upload refused");
  }
  refresh();
  try {
    const second = await finalize(form.key);
    const verdict = second.avatar === first.avatar ? "unchanged" : "CHANGED";
    log(`reuse: finalize again answered 200, avatar ${second.avatar} (${verdict})`);
  } catch (err) {
    report(err, "reuse: finalize again refused");
  }
  setStatus("done (form reused)");
}

let busy = false;
function setBusy(value) {
  busy = value;
  for (const input of Object.values(els.inputs)) input.disabled = value;
}

async function onFileChosen(input, mode) {
  const file = input.files && input.files[0];
  if (!file || busy) return;
  clearError();
  resetSteps();
  // Checked in the browser first: a bad file costs no request at all.
  const problem = checkFile(file, MAX_BYTES_BEFORE_FORM);
  if (problem) {
    input.value = "";
    log(problem, "error");
    showError(problem);
    failSteps(problem);
    return;
  }
  setBusy(true);
  try {
    await changeAvatar(file, mode);
  } catch (err) {
    failSteps(err.message);
    report(err, "upload failed");
  } finally {
    input.value = ""; // so the same file can be chosen again
    setBusy(false);
    await refresh();
  }
}

// ---------------------------------------------------------------- start

els.signOut.addEventListener("click", signOut);
for (const [mode, input] of Object.entries(els.inputs)) {
  input.addEventListener("change", () => onFileChosen(input, mode));
}
refresh();
