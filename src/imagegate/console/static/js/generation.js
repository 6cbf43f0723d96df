// A generation's record (GET /api/v1/generation?id=), readably: what was asked, what it cost,
// its thumbnails, and every attempt the router made (each provider tried, retried or fallen
// back from).
import { ApiError, api, base, query } from "./api.js";
import { $, el, ms, notice, replace } from "./dom.js";
import { THUMBNAIL_GRACE_MS, statusTag, thumbnailImage } from "./generation_parts.js";
import { exactUsd } from "./money.js";
import { instant, localTime } from "./timestamps.js";

const id = $("#main").dataset.id;
const status = $("#generation-status");
const record = $("#generation-record");
let refreshTimer;

async function load() {
  clearTimeout(refreshTimer);
  $("#generation-id").textContent = id;
  let generation;
  try {
    generation = (await api(`/api/v1/generation${query({ id })}`)).data;
  } catch (error) {
    record.replaceChildren();
    replace(status, notice(explain(error), "error"));
    return;
  }
  status.replaceChildren();
  draw(generation);
  if (thumbnailsPending(generation)) refreshTimer = setTimeout(load, 2000);
}

function explain(error) {
  if (error instanceof ApiError && error.status === 401) {
    return "This gateway needs a key: use the Key button above.";
  }
  if (error instanceof ApiError && error.status === 404) {
    return `No generation ${id} for this key (a record is shown only to the key that made it, and to the master key).`;
  }
  return `Could not read the record: ${error.message}`;
}

function thumbnailsPending(generation) {
  const made = instant(generation.created_at)?.getTime() ?? 0;
  return (
    generation.status === "succeeded" &&
    !generation.thumbnails.length &&
    Date.now() - made < THUMBNAIL_GRACE_MS
  );
}

function draw(generation) {
  replace(
    record,
    el(
      "div",
      { class: "stats" },
      stat("Status", statusTag(generation.status)),
      stat("Cost", exactUsd(generation.total_cost)),
      stat("Latency", ms(generation.latency)),
      stat("Images", generation.num_media_completion ?? 0),
      stat("Attempts", generation.provider_responses.length),
    ),
    generation.error ? failure(generation.error) : null,
    el(
      "div",
      { class: "record-grid" },
      el(
        "section",
        { class: "card", "aria-labelledby": "facts-title" },
        el("h2", { id: "facts-title" }, "Request"),
        facts(generation),
        el("h3", {}, "Parameters"),
        parameters(generation.parameters),
        el("h3", {}, "Dropped parameters"),
        dropped(generation.dropped_parameters),
      ),
      el(
        "section",
        { class: "card", "aria-labelledby": "images-title" },
        el("h2", { id: "images-title" }, "Images"),
        images(generation),
      ),
    ),
    el(
      "section",
      { "aria-labelledby": "attempts-title" },
      el("h2", { id: "attempts-title" }, "Attempts"),
      el(
        "p",
        { class: "hint" },
        "Every provider the router tried, in order: a retry or a fallback is a row of its own.",
      ),
      attempts(generation.provider_responses),
    ),
  );
}

function stat(label, value) {
  return el("div", { class: "stat" }, el("span", { class: "hint" }, label), el("b", {}, value));
}

function failure(error) {
  return el(
    "div",
    { class: "notice error", role: "alert" },
    el("b", {}, error.kind || "failed"),
    ": ",
    error.message || "",
    error.detail ? el("pre", { class: "detail" }, detailText(error.detail)) : null,
  );
}

function detailText(detail) {
  return typeof detail === "string" ? detail : JSON.stringify(detail, null, 2);
}

function facts(generation) {
  const model = generation.model || "";
  const modelCell = model.includes("/")
    ? el(
        "a",
        { href: `${base}/models/${model.split("/").map(encodeURIComponent).join("/")}` },
        model,
      )
    : model || "—";
  const tokens =
    generation.tokens_prompt === null && generation.tokens_completion === null
      ? "—"
      : `${generation.tokens_prompt ?? 0} in · ${generation.tokens_completion ?? 0} out`;
  const rows = [
    ["Model", modelCell],
    ["Provider", generation.provider_name || "—"],
    ["Surface", el("code", {}, generation.surface || "—")],
    ["Created", el("time", { datetime: generation.created_at }, localTime(generation.created_at))],
    ["Streamed", generation.streamed ? "yes" : "no"],
    ["Tokens", tokens],
    ["Finish", generation.finish_reason || "—"],
  ];
  if (generation.cancelled) rows.push(["Cancelled", "yes (the client left before the answer)"]);
  return el(
    "table",
    { class: "facts" },
    el(
      "tbody",
      {},
      rows.map(([name, value]) =>
        el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, value)),
      ),
    ),
  );
}

function parameters(values) {
  const entries = Object.entries(values || {});
  if (!entries.length)
    return el("p", { class: "hint" }, "None besides the prompt (prompts are not stored).");
  return el(
    "table",
    { class: "facts" },
    el(
      "tbody",
      {},
      entries.map(([name, value]) =>
        el(
          "tr",
          {},
          el("th", { scope: "row" }, el("code", {}, name)),
          el("td", {}, typeof value === "string" ? value : JSON.stringify(value)),
        ),
      ),
    ),
  );
}

function dropped(names) {
  if (!names || !names.length)
    return el("p", { class: "hint" }, "None: the endpoint took every parameter.");
  return el(
    "div",
    {},
    el("p", { class: "hint" }, "Asked for, but the endpoint that served it does not take them:"),
    el(
      "div",
      { class: "tags" },
      names.map((name) => el("span", { class: "tag" }, name)),
    ),
  );
}

function images(generation) {
  if (generation.thumbnails.length) {
    return el(
      "div",
      { class: "gallery" },
      generation.thumbnails.map((thumbnail, index) =>
        el(
          "figure",
          {},
          el(
            "a",
            { href: thumbnail.url },
            thumbnailImage(thumbnail, `output ${index + 1} of ${generation.model}`, "record-thumb"),
          ),
          el("figcaption", {}, `${thumbnail.width}×${thumbnail.height} thumbnail`),
        ),
      ),
    );
  }
  if (thumbnailsPending(generation))
    return el("p", { class: "hint" }, "Thumbnails are being made…");
  if (generation.status !== "succeeded")
    return el("p", { class: "hint" }, "No images: it did not succeed.");
  return el(
    "p",
    { class: "hint" },
    "No thumbnails kept (they expire, and a gateway may keep none: thumbnail_ttl_seconds).",
  );
}

function attempts(responses) {
  if (!responses.length) return notice("No attempt was made (refused before any provider).");
  const details = responses.some((attempt) => attempt.detail);
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "attempts" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col", class: "num" }, "#"),
          el("th", { scope: "col" }, "Provider"),
          el("th", { scope: "col" }, "Model"),
          el("th", { scope: "col" }, "Status"),
          el("th", { scope: "col", class: "num" }, "Latency"),
          el("th", { scope: "col" }, "Error"),
        ),
      ),
      el(
        "tbody",
        {},
        responses.map((attempt, index) =>
          el(
            "tr",
            {},
            el("td", { class: "num" }, index + 1),
            el("th", { scope: "row" }, attempt.provider_name || "—"),
            el("td", {}, el("code", {}, attempt.model_permaslug || "—")),
            el("td", {}, httpStatus(attempt.status)),
            el("td", { class: "num" }, ms(attempt.latency)),
            el(
              "td",
              {},
              attempt.error_kind ? el("b", {}, attempt.error_kind) : "—",
              attempt.message ? `: ${attempt.message}` : "",
              details && attempt.detail
                ? el("pre", { class: "detail" }, detailText(attempt.detail))
                : null,
            ),
          ),
        ),
      ),
    ),
  );
}

function httpStatus(code) {
  const ok = code >= 200 && code < 300;
  return el("span", { class: `tag ${ok ? "ok" : "bad"}` }, code ?? "—");
}

window.addEventListener("imagegate:key", load);
load();
