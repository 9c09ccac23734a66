// The "Current upload" box: one <li data-step> per step of the current upload,
// each with data-state pending|active|done|error, the status line saying what
// happens now, and step 2's progress bar.
//
// Preparing the image and step 1 run at the same time, so more than one step
// can be active; the status line shows the latest one started.

const stepNodes = new Map(
  [...document.querySelectorAll("#steps [data-step]")].map((node) => [node.dataset.step, node]),
);
const statusLine = document.getElementById("step-status");
const progress = document.getElementById("progress");
// The status text of each active step, in the order they started.
const active = new Map();

export function setStatus(text) {
  statusLine.textContent = text;
}

export function resetSteps() {
  active.clear();
  for (const node of stepNodes.values()) node.dataset.state = "pending";
}

function settle(name, state) {
  stepNodes.get(name).dataset.state = state;
  active.delete(name);
  const still = [...active.values()];
  if (still.length) setStatus(still[still.length - 1]);
}

// Runs `work` as step `name`: active while it runs, then done, or error if it throws.
export async function runStep(name, status, work) {
  active.set(name, status);
  stepNodes.get(name).dataset.state = "active";
  setStatus(status);
  try {
    const result = await work();
    settle(name, "done");
    return result;
  } catch (err) {
    settle(name, "error");
    throw err;
  }
}

// The flow stopped: any step still active failed with it.
export function failSteps(message) {
  for (const name of [...active.keys()]) settle(name, "error");
  setStatus(`failed: ${message}`);
}

export function showProgress(percent) {
  progress.value = percent;
  progress.hidden = false;
}

export function hideProgress() {
  progress.hidden = true;
}
