// What the browser refuses on its own, so that a file the app would refuse
// costs no upload. The app checks everything again from the bytes: these
// checks only save the user a wait.

import { formatImageType, formatSizes } from "./dom.js";

// What the app stores avatars from, as the file inputs' accept list says.
const ALLOWED_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
const ALLOWED_NAMES = "JPEG, PNG, GIF or WebP";

// Before any request: what no preparation can turn into an avatar. Another
// image type (HEIC, AVIF...) goes on: the browser may be able to convert it.
// SVG never does: the app refuses it as a document that can carry script.
export function checkChosenFile(file) {
  const type = file.type;
  if (type === "image/svg+xml" || (type !== "" && !type.startsWith("image/"))) {
    return `"${file.name}" is not a ${ALLOWED_NAMES} image.`;
  }
  if (file.size < 1) return `"${file.name}" is empty.`;
  return null;
}

// Before step 2: `upload` (from prepareImage) is what would be sent, and
// `maxBytes` the limit step 1 answered with (the app's, which it always sends).
export function checkUpload(file, upload, maxBytes) {
  if (!upload.prepared && !ALLOWED_TYPES.includes(upload.type)) {
    // Not converted, and not a type the app accepts: sending it would only
    // bring back a 415. Sent as it is, a file declared as an allowed type
    // gets the app's own verdict instead.
    return `"${file.name}" (${formatImageType(upload.type)}) could not be converted by this browser; choose a ${ALLOWED_NAMES} image.`;
  }
  if (upload.blob.size <= maxBytes) return null;
  const [size, limit] = formatSizes(upload.blob.size, maxBytes);
  const why = upload.prepared ? ` even after resizing to ${upload.width}x${upload.height}` : NOT_SMALLER[upload.reason];
  return `"${file.name}" is ${size}${why}; the limit is ${limit}.`;
}

// Why an original over the limit was not made smaller (prepareImage's reasons).
const NOT_SMALLER = {
  "not-decodable": ", and this browser could not read it to make it smaller",
  "cannot-encode": ", and this browser could not re-encode it",
  "original-smaller": ", and re-encoding it would not make it smaller",
};
