// The one way the page talks to the app.
//
// Every path is relative ("users", never "/users"): deployed, the page is
// served under a stage prefix such as /api/, and relative URLs resolve under it.

// An error the page can show: `status` is the HTTP status (0 when no answer
// came, or the browser refused on its own) and `error` the app's error code.
export function httpError(status, error, message) {
  return Object.assign(new Error(message), { status, error });
}

// A body, when given, is always JSON with an explicit Content-Type: the app
// refuses anything else with 415, which is what stops cross-site form posts
// (CSRF). Errors are read from the app's {"error", "message"}.
export async function api(method, path, body) {
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
