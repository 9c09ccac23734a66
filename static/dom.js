// Building DOM and formatting values for it.
//
// Every node is made with createElement and every value added as text, so a
// name or metadata holding HTML renders as plain text.

export function el(tag, props = {}, ...children) {
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

export function formatSize(bytes) {
  if (bytes == null) return "—";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// Two sizes to compare: in bytes when rounding would show them equal
// ("10.0 MB; the limit is 10.0 MB" says nothing).
export function formatSizes(a, b) {
  const [sa, sb] = [formatSize(a), formatSize(b)];
  return sa === sb ? [`${a} bytes`, `${b} bytes`] : [sa, sb];
}

const TYPE_NAMES = {
  "image/webp": "WebP",
  "image/jpeg": "JPEG",
  "image/png": "PNG",
  "image/gif": "GIF",
};

export function formatImageType(type) {
  return TYPE_NAMES[type] || type || "unknown type";
}
