// Posting a file straight to S3 with a presigned POST form.

import { httpError } from "./api.js";

// Posts `fields` and then `blob` to `url` as multipart/form-data.
// `onProgress(percent)` is called as the body goes up. XMLHttpRequest rather
// than fetch, because only XHR reports upload progress. Resolves when S3
// accepts the object; rejects with an httpError otherwise.
export function postToS3(url, fields, blob, onProgress) {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  // S3 ignores every field that comes after the file, so it must be last.
  data.append("file", blob, blob.name || "avatar");

  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress((event.loaded / event.total) * 100);
    };
    xhr.onload = () => {
      if ([200, 201, 204].includes(xhr.status)) resolve();
      else reject(s3Error(xhr));
    };
    xhr.onerror = () => reject(httpError(0, "network_error", "Upload to S3 failed (network or CORS error)."));
    xhr.send(data);
  });
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
