// Keys (the master key only): list them, create one (its secret shown once), change its limits,
// revoke it, all through the keys API (/api/v1/keys, docs/accounting.md).
import { ApiError, api, whoami } from "./api.js";
import { $, el, notice, replace } from "./dom.js";
import { exactUsd } from "./money.js";
import { instant, localTime } from "./timestamps.js";

const LIMIT_FIELDS = ["limit", "requests_per_minute", "images_per_minute"];
const WHY_NOT = {
  protected:
    "This gateway runs without keys (protected mode). Set IMAGEGATE_MASTER_KEY to manage keys, then sign in here with it.",
  key: "Managing keys needs the master key: the key in use is an ordinary one. Use the Key button to sign in with the master key.",
  none: "Managing keys needs the master key: use the Key button to sign in with it.",
};

const status = $("#keys-status");
const manager = $("#keys-manager");
let keys = [];
let editing = null; // the key whose limits the dialog shows
let revoking = null;

async function load() {
  let who;
  try {
    who = await whoami();
  } catch (error) {
    manager.hidden = true;
    replace(status, notice(`Could not reach the gateway: ${error.message}`, "error"));
    return;
  }
  if (who.mode !== "master") {
    manager.hidden = true;
    replace(status, notice(WHY_NOT[who.mode] || WHY_NOT.none, "info"));
    return;
  }
  manager.hidden = false;
  status.replaceChildren();
  await refresh();
}

async function refresh() {
  try {
    keys = (await api("/api/v1/keys")).data;
  } catch (error) {
    replace($("#keys-list"), notice(`Could not list the keys: ${error.message}`, "error"));
    return;
  }
  keys.sort(
    (a, b) => (instant(b.created_at)?.getTime() ?? 0) - (instant(a.created_at)?.getTime() ?? 0),
  );
  drawList();
}

function drawList() {
  if (!keys.length) {
    replace($("#keys-list"), notice("No keys yet: create one above."));
    return;
  }
  replace(
    $("#keys-list"),
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        { class: "keys", "aria-labelledby": "keys-title" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ["Name", "Label"].map((name) => el("th", { scope: "col" }, name)),
            ["Limit", "Remaining", "Usage"].map((name) =>
              el("th", { scope: "col", class: "num" }, name),
            ),
            el(
              "th",
              { scope: "col", class: "num" },
              el("abbr", { title: "requests / images per minute" }, "RPM / IPM"),
            ),
            el("th", { scope: "col" }, "Status"),
            el("th", { scope: "col", class: "hide-narrow" }, "Created"),
            el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Actions")),
          ),
        ),
        el("tbody", {}, keys.map(row)),
      ),
    ),
  );
}

function row(key) {
  const name = key.name || key.label;
  const active = !key.disabled;
  return el(
    "tr",
    { dataset: { hash: key.hash } },
    el("th", { scope: "row" }, name),
    el("td", {}, el("code", {}, key.label)),
    el("td", { class: "num" }, key.limit === null ? "none" : exactUsd(key.limit)),
    el("td", { class: "num" }, key.limit_remaining === null ? "—" : exactUsd(key.limit_remaining)),
    el("td", { class: "num" }, exactUsd(key.usage)),
    el(
      "td",
      { class: "num" },
      `${key.requests_per_minute ?? "—"} / ${key.images_per_minute ?? "—"}`,
    ),
    el(
      "td",
      {},
      el("span", { class: `tag ${active ? "ok" : "bad"}` }, active ? "active" : "revoked"),
    ),
    el("td", { class: "hide-narrow" }, localTime(key.created_at)),
    el(
      "td",
      { class: "row-actions" },
      active
        ? [
            el(
              "button",
              { type: "button", "aria-label": `Limits of ${name}`, onclick: () => openLimits(key) },
              "Limits",
            ),
            el(
              "button",
              {
                type: "button",
                class: "danger",
                "aria-label": `Revoke ${name}`,
                onclick: () => openRevoke(key),
              },
              "Revoke",
            ),
          ]
        : null,
    ),
  );
}

// A form's limit fields as the keys API takes them: a number, or null (no limit) when empty.
// What the browser could not read as a number ("5e", "1,5") is refused, not taken as empty:
// an empty limit means no limit at all.
function limits(form, emptyAs) {
  const values = {};
  for (const name of LIMIT_FIELDS) {
    const field = form.elements[name];
    if (field.validity.badInput) {
      const label = form.querySelector(`label[for="${field.id}"]`)?.textContent || name;
      field.focus();
      throw new Error(`${label.trim()}: not a number (write it as 5 or 0.25)`);
    }
    const text = field.value.trim();
    if (text === "") {
      if (emptyAs !== undefined) values[name] = emptyAs;
    } else {
      values[name] = Number(text);
    }
  }
  return values;
}

function failure(error) {
  if (error instanceof ApiError && error.status === 401) {
    return "The master key is no longer accepted: sign in again with the Key button.";
  }
  return error.message;
}

async function create(event) {
  event.preventDefault();
  const form = event.target;
  const name = form.elements.name.value.trim();
  const where = $("#create-status");
  if (!name) {
    replace(where, notice("Give the key a name.", "error"));
    form.elements.name.focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await api("/api/v1/keys", { method: "POST", body: { name, ...limits(form) } });
    form.reset();
    where.replaceChildren();
    showSecret(answer.data, answer.key);
    await refresh();
  } catch (error) {
    replace(where, notice(`The key was not created: ${failure(error)}`, "error"));
  } finally {
    button.disabled = false;
  }
}

// The secret lives in this input only until it is dismissed: it is in no list, no storage.
function showSecret(key, secret) {
  $("#secret-name").textContent = key.name;
  $("#secret-value").value = secret;
  $("#copy-status").textContent = "";
  $("#new-secret").hidden = false;
  $("#secret-value").focus();
  $("#secret-value").select();
}

function hideSecret() {
  $("#secret-value").value = "";
  $("#new-secret").hidden = true;
}

async function copySecret() {
  const input = $("#secret-value");
  try {
    await navigator.clipboard.writeText(input.value);
    $("#copy-status").textContent = "Copied to the clipboard.";
  } catch {
    input.select();
    $("#copy-status").textContent =
      "This browser did not allow copying: the key is selected, press Ctrl+C (⌘C).";
  }
}

function openLimits(key) {
  editing = key;
  const form = $("#limits-form");
  $("#limits-name").textContent = key.name || key.label;
  for (const name of LIMIT_FIELDS) form.elements[name].value = key[name] ?? "";
  $("#limits-status").replaceChildren();
  $("#limits-dialog").returnValue = ""; // Escape closes with no value: never the last one
  $("#limits-dialog").showModal();
}

async function saveLimits(event) {
  event.preventDefault();
  const dialog = $("#limits-dialog");
  if (event.submitter?.value !== "save") {
    dialog.close();
    return;
  }
  try {
    const answer = await api(`/api/v1/keys/${encodeURIComponent(editing.hash)}`, {
      method: "PATCH",
      body: limits(event.target, null),
    });
    dialog.close();
    replace(status, notice(`Saved the limits of ${answer.data.name}.`, "ok"));
    await refresh();
  } catch (error) {
    replace($("#limits-status"), notice(`Not saved: ${failure(error)}`, "error"));
  }
}

function openRevoke(key) {
  revoking = key;
  $("#revoke-name").textContent = key.name || key.label;
  $("#revoke-dialog").returnValue = ""; // Escape closes with no value: never the last one
  $("#revoke-dialog").showModal();
}

async function revoke() {
  const dialog = $("#revoke-dialog");
  if (dialog.returnValue !== "revoke" || !revoking) return;
  const key = revoking;
  revoking = null;
  try {
    await api(`/api/v1/keys/${encodeURIComponent(key.hash)}`, { method: "DELETE" });
    replace(status, notice(`Revoked ${key.name || key.label}: it is refused from now on.`, "ok"));
  } catch (error) {
    replace(status, notice(`Not revoked: ${failure(error)}`, "error"));
  }
  await refresh();
}

function wire() {
  $("#create-form").addEventListener("submit", create);
  $("#copy-secret").addEventListener("click", copySecret);
  $("#hide-secret").addEventListener("click", hideSecret);
  $("#limits-form").addEventListener("submit", saveLimits);
  $("#revoke-dialog").addEventListener("close", revoke);
  window.addEventListener("imagegate:key", () => {
    hideSecret();
    load();
  });
}

wire();
load();
