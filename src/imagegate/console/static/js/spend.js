// Spend: what was charged per UTC day over the last 30 days (GET /api/v1/activity), stacked per
// model, per provider, or (for the master key) per key, drawn with the vendored uPlot; the
// totals, and a table of the same rows for whoever cannot see the chart.
import { ApiError, api, whoami } from "./api.js";
import { $, el, notice, replace } from "./dom.js";
import { exactUsd } from "./money.js";
import { stackedDailyChart } from "./stacked_chart.js";

const WINDOW_DAYS = 30;
const DAY_SECONDS = 86400;
const NO_KEY = "master key or no key";
const SPLITS = {
  model: (row) => row.model,
  provider: (row) => row.provider_name || row.provider_slug,
  api_key: (row, keyNames) =>
    row.api_key_hash ? keyNames.get(row.api_key_hash) || row.api_key_hash : NO_KEY,
};

const state = { split: "model", mode: null, rows: [], keyNames: new Map() };
let chart = null;
let loads = 0;

async function load() {
  const mine = ++loads;
  if (!chart) replace($("#spend-status"), notice("Loading…"));
  $("#spend-chart").setAttribute("aria-busy", "true");
  try {
    const who = await whoami();
    state.mode = who.mode;
    splitButton("api_key").hidden = who.mode !== "master";
    if (state.split === "api_key" && who.mode !== "master") choose("model");
    const byKey = state.split === "api_key";
    const [activity, keys] = await Promise.all([
      api(`/api/v1/activity${byKey ? "?group_by=api_key" : ""}`),
      byKey ? api("/api/v1/keys") : null,
    ]);
    if (mine !== loads) return;
    state.rows = activity.data;
    state.keyNames = new Map((keys?.data || []).map((key) => [key.hash, key.name || key.label]));
  } catch (error) {
    if (mine !== loads) return;
    state.rows = [];
    replace($("#spend-status"), notice(explain(error), "error"));
    draw();
    return;
  }
  $("#spend-status").replaceChildren();
  draw();
}

function explain(error) {
  if (error instanceof ApiError && error.status === 401) {
    return "This gateway needs a key: use the Key button above.";
  }
  return `Could not read the spend: ${error.message}`;
}

function splitButton(name) {
  return $(`#spend-split [data-split="${name}"]`);
}

function choose(split) {
  state.split = split;
  for (const button of $("#spend-split").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.split === split));
  }
}

// The window's days, as UTC midnights in seconds: the 30 days up to today, or up to the
// newest row's day if the gateway's clock is ahead of this browser's.
function windowDays(rows) {
  const today = Math.floor(Date.now() / 1000 / DAY_SECONDS) * DAY_SECONDS;
  const newest = rows.reduce((last, row) => Math.max(last, dayOf(row.date)), today);
  return Array.from(
    { length: WINDOW_DAYS },
    (_, index) => newest - (WINDOW_DAYS - 1 - index) * DAY_SECONDS,
  );
}

function dayOf(date) {
  return Date.parse(`${date}T00:00:00Z`) / 1000;
}

function series(rows, days) {
  const nameOf = SPLITS[state.split];
  const position = new Map(days.map((day, index) => [day, index]));
  const groups = new Map();
  for (const row of rows) {
    const index = position.get(dayOf(row.date));
    if (index === undefined) continue;
    const name = nameOf(row, state.keyNames);
    if (!groups.has(name)) groups.set(name, { name, values: days.map(() => 0), total: 0 });
    const group = groups.get(name);
    group.values[index] += row.usage;
    group.total += row.usage;
  }
  return [...groups.values()].sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
}

function draw() {
  const rows = state.rows;
  const sum = (field) => rows.reduce((total, row) => total + (row[field] || 0), 0);
  const spent = sum("usage");
  replace(
    $("#spend-totals"),
    total("Spent", exactUsd(spent), "spend-total"),
    total("Requests", sum("requests"), "spend-requests"),
    total("Images", sum("images"), "spend-images"),
  );
  const days = windowDays(rows);
  const groups = series(rows, days);
  const holder = $("#spend-chart");
  const split = state.split.replace("_", " ");
  const summary = `Spend per day over the last ${WINDOW_DAYS} days, ${exactUsd(spent)} in all, by ${split}`;
  chart?.destroy();
  chart = stackedDailyChart(holder, days, groups, exactUsd, summary);
  holder.setAttribute("aria-busy", "false");
  drawTable(rows);
}

function total(label, value, id) {
  return el("div", { class: "stat" }, el("span", { class: "hint" }, label), el("b", { id }, value));
}

function drawTable(rows) {
  const byKey = state.split === "api_key";
  if (!rows.length) {
    replace($("#spend-table"), notice("Nothing was charged in the last 30 days."));
    return;
  }
  const newestFirst = [...rows].sort((a, b) => b.date.localeCompare(a.date));
  replace(
    $("#spend-table"),
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        { "aria-labelledby": "spend-table-title" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, "Day (UTC)"),
            el("th", { scope: "col" }, "Model"),
            el("th", { scope: "col" }, "Provider"),
            byKey ? el("th", { scope: "col" }, "Key") : null,
            el("th", { scope: "col", class: "num" }, "Requests"),
            el("th", { scope: "col", class: "num" }, "Images"),
            el("th", { scope: "col", class: "num" }, "Cost"),
          ),
        ),
        el(
          "tbody",
          {},
          newestFirst.map((row) =>
            el(
              "tr",
              {},
              el("th", { scope: "row" }, row.date),
              el("td", {}, row.model),
              el("td", {}, row.provider_name || row.provider_slug),
              byKey ? el("td", {}, SPLITS.api_key(row, state.keyNames)) : null,
              el("td", { class: "num" }, row.requests),
              el("td", { class: "num" }, row.images),
              el("td", { class: "num" }, exactUsd(row.usage)),
            ),
          ),
        ),
      ),
    ),
  );
}

function wire() {
  $("#spend-split").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-split]");
    if (!button || button.dataset.split === state.split) return;
    choose(button.dataset.split);
    load();
  });
  $("#spend-reload").addEventListener("click", load);
  window.addEventListener("imagegate:key", load);
  // Redraw in the other theme's colours.
  new MutationObserver(() => draw()).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["data-theme"],
  });
}

wire();
load();
