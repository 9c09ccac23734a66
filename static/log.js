// The Status section: the error line and the log of what happened.

import { el } from "./dom.js";

const LOG_LIMIT = 100;
const logList = document.getElementById("log");
const errorLine = document.getElementById("error");

export function log(text, kind = "info") {
  const time = new Date().toISOString().slice(11, 19);
  logList.append(el("li", { className: `log-${kind}` }, `${time} ${text}`));
  while (logList.children.length > LOG_LIMIT) logList.firstElementChild.remove();
  logList.scrollTop = logList.scrollHeight; // the log is its own scroll box
}

export function showError(message) {
  errorLine.textContent = message;
}

export function clearError() {
  showError("");
}

// Shows an error to the user and records it in the log with its status.
export function report(err, prefix = "error") {
  const status = err.status ? ` (${err.status}${err.error ? ` ${err.error}` : ""})` : "";
  log(`${prefix}${status}: ${err.message}`, "error");
  showError(err.message);
}
