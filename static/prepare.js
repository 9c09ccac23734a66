// Preparing a photo in the browser before step 2: decoded, turned upright by
// its EXIF orientation, scaled so its longest side is at most 1024 px, and
// encoded anew as WebP (JPEG where the browser cannot encode WebP). A 12 MP
// phone photo of several MB is sent as a few hundred KB, without its EXIF
// (place, camera, time). The app makes the avatar from whatever arrives
// anyway; this only makes the upload small.
//
// No DOM but a <canvas> where OffscreenCanvas is missing: tests import this
// module on its own and call prepareImage.

const MAX_SIDE = 1024;
const QUALITY = 0.85;
// In order of preference. Encoders return PNG for a type they lack (WebP in
// older Safari, for one), so the blob's own type says what was made.
const OUTPUT_TYPES = ["image/webp", "image/jpeg"];

// What to send for `file`: {blob, type, width, height, prepared, reason, source}.
// `prepared` says whether `blob` is a new encoding or the file itself; the
// file is sent when it is already smaller, or when this browser cannot decode
// or encode it (the app then gives its own verdict). `reason` says why the
// file is sent as it is (null when prepared); `width` and `height` are the
// upright size of what is sent (null if the browser could not decode it);
// `source` has the file's size, type and upright pixel size.
export async function prepareImage(file, { maxSide = MAX_SIDE, quality = QUALITY } = {}) {
  const source = { size: file.size, type: file.type, width: null, height: null };
  const asItIs = (reason) => ({
    blob: file,
    type: file.type,
    width: source.width,
    height: source.height,
    prepared: false,
    reason,
    source,
  });
  const bitmap = await decode(file);
  if (!bitmap) return asItIs("not-decodable");
  try {
    source.width = bitmap.width;
    source.height = bitmap.height;
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const blob = await encode(bitmap, width, height, quality);
    if (!blob) return asItIs("cannot-encode");
    if (file.size <= blob.size) return asItIs("original-smaller");
    return { blob, type: blob.type, width, height, prepared: true, reason: null, source };
  } finally {
    bitmap.close();
  }
}

// The file's pixels, upright, or null if this browser cannot decode it.
async function decode(file) {
  if (typeof createImageBitmap !== "function") return null;
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    return null;
  }
}

async function encode(bitmap, width, height, quality) {
  try {
    const context = makeContext(width, height);
    context.imageSmoothingQuality = "high";
    for (const type of OUTPUT_TYPES) {
      if (type === "image/jpeg") {
        // JPEG has no alpha: transparent pixels would turn black.
        context.fillStyle = "#fff";
        context.fillRect(0, 0, width, height);
      }
      context.drawImage(bitmap, 0, 0, width, height);
      const blob = await toBlob(context.canvas, type, quality);
      if (blob && blob.type === type) return blob;
    }
  } catch {
    // No 2D context, or the encoder failed: the file goes as it is.
  }
  return null;
}

function makeContext(width, height) {
  if (typeof OffscreenCanvas === "function") {
    // null where the engine has OffscreenCanvas but not its 2D context.
    const context = new OffscreenCanvas(width, height).getContext("2d");
    if (context) return context;
  }
  return Object.assign(document.createElement("canvas"), { width, height }).getContext("2d");
}

function toBlob(canvas, type, quality) {
  if (typeof canvas.convertToBlob === "function") return canvas.convertToBlob({ type, quality });
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}
