// The three steps of an avatar change, and the three ways the page runs them.
//
// 1. POST uploads: the app signs an S3 POST form for a new pending key.
// 2. The browser posts the prepared image straight to S3 with that form.
// 3. POST avatar {key}: the app checks the upload and makes it the avatar.

import { api, httpError } from "./api.js";
import { checkUpload } from "./checks.js";
import { formatImageType, formatSize } from "./dom.js";
import { log, report } from "./log.js";
import { prepareImage } from "./prepare.js";
import { postToS3 } from "./s3.js";
import { hideProgress, runStep, setStatus, showProgress } from "./steps.js";

// Step 1: ask the app for a presigned S3 POST form.
async function requestForm() {
  const form = await api("POST", "uploads", {});
  log(`1/3 form for ${form.key} (expires ${form.expiresAt})`);
  return form;
}

// Step 1 and the preparation at once: the form costs the app no AWS call, and
// preparing a phone photo takes a moment. Both are awaited, so neither is
// still running when the flow reports its outcome.
async function requestFormWhilePreparing(file) {
  const [form, upload] = await Promise.allSettled([
    runStep("form", "requesting form…", requestForm),
    runStep("prepare", "preparing…", () => prepareImage(file)),
  ]);
  for (const result of [form, upload]) {
    if (result.status === "rejected") throw result.reason;
  }
  return [form.value, upload.value];
}

// Step 2: post what was prepared straight to S3 with the form, showing progress.
async function uploadToS3(form, upload) {
  // The type of what is sent, which preparing may have changed.
  const fields = { ...form.fields, "Content-Type": upload.type };
  showProgress(0);
  try {
    await postToS3(form.url, fields, upload.blob, (percent) => {
      showProgress(percent);
      setStatus(`uploading ${Math.floor(percent)}%…`);
    });
    showProgress(100);
  } finally {
    hideProgress();
  }
}

// Step 3: ask the app to check the pending object and make it the avatar.
function finalize(key) {
  return api("POST", "avatar", { key });
}

const SENT_AS_IT_IS = {
  "not-decodable": "this browser could not decode it",
  "cannot-encode": "this browser could not re-encode it",
  "original-smaller": "smaller than a re-encoded copy",
};

// "312.4 KB (prepared from 3.1 MB, 3024x4032 -> 768x1024 WebP)"
function describeUpload(upload) {
  const { source } = upload;
  if (upload.prepared) {
    return `${formatSize(upload.blob.size)} (prepared from ${formatSize(source.size)}, ` +
      `${source.width}x${source.height} -> ${upload.width}x${upload.height} ${formatImageType(upload.type)})`;
  }
  return `${formatSize(upload.blob.size)} (the original ${formatImageType(upload.type)}: ${SENT_AS_IT_IS[upload.reason]})`;
}

// Changes the signed-in user's avatar to `file`. `mode` is "normal", "skip"
// (steps 1 and 2 only) or "reuse" (then posts again with the same form and
// finalizes again). `onChange` runs after each step that changes the bucket
// or the table.
export async function changeAvatar(file, mode, onChange) {
  const [form, upload] = await requestFormWhilePreparing(file);
  onChange();
  await runStep("upload", "uploading 0%…", async () => {
    const problem = checkUpload(file, upload, form.maxBytes);
    if (problem) throw httpError(0, "refused_in_browser", problem);
    await uploadToS3(form, upload);
  });
  log(`2/3 uploaded ${describeUpload(upload)}`);
  onChange();
  if (mode === "skip") {
    log(`3/3 skipped: ${form.key} is left for the lifecycle rule to expire`);
    setStatus("done (finalize skipped: the pending object waits for the lifecycle rule)");
    return;
  }
  const first = await runStep("finalize", "finalizing…", () => finalize(form.key));
  log(`3/3 finalized: ${first.avatar}`);
  if (mode !== "reuse") {
    setStatus("done");
    return;
  }
  onChange();
  setStatus("reusing the form…");

  // Replay: the same presigned form is still valid, so S3 may well accept a
  // second copy. The point is that finalizing it again must not change the
  // live avatar; whatever the backend answers is shown.
  try {
    await uploadToS3(form, upload);
    log(`reuse: S3 accepted a second copy with the same form`);
  } catch (err) {
    report(err, "reuse: second upload refused");
  }
  onChange();
  try {
    const second = await finalize(form.key);
    const verdict = second.avatar === first.avatar ? "unchanged" : "CHANGED";
    log(`reuse: finalize again answered 200, avatar ${second.avatar} (${verdict})`);
  } catch (err) {
    report(err, "reuse: finalize again refused");
  }
  setStatus("done (form reused)");
}
