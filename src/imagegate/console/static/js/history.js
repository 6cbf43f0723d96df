// History: the caller's generations, newest first, filtered and paged by the gateway
// (GET /api/v1/generations); a row opens the generation's record.
import { ApiError, api, query } from "./api.js";
import { $, el, ms, notice, replace } from "./dom.js";
import { THUMBNAIL_GRACE_MS, recordPath, statusTag, thumbnailImage } from "./generation_parts.js";
import { age, instant, localTime } from "./timestamps.js";
import { exactUsd } from "./money.js";

const PAGE_SIZE = 20;
const FILTERS = ["model", "provider", "status", "since", "until"];

const form = $("#history-filters");
const list = $("#history-list");
const status = $("#history-status");
const pager = $("#history-pager");
const knownModels = new Set();
let offset = 0;
let shown = 0; // which load's answer may still draw (a slower, older one may not)

function filters() {
  const values = {};
  for (const name of FILTERS) values[name] = form.elements[name].value.trim();
  return values;
}

// The filters and the page live in the address, so a reload or a shared link shows the same.
function restoreFromAddress() {
  const params = new URLSearchParams(location.search);
  const provider = params.get("provider");
  if (provider) form.elements.provider.append(el("option", { value: provider }, provider));
  for (const name of FILTERS) form.elements[name].value = params.get(name) || "";
  offset = Math.max(0, Number.parseInt(params.get("offset") || "0", 10) || 0);
}

function saveToAddress() {
  const text = query({ ...filters(), offset: offset || "" });
  window.history.replaceState(null, "", `${location.pathname}${text}`);
}

async function load() {
  const mine = ++shown;
  saveToAddress();
  // Busy, not blanked: the rows stay where they are (no jump under the pointer) until the answer.
  list.setAttribute("aria-busy", "true");
  if (!list.childElementCount) replace(status, notice("Loading…"));
  let page;
  try {
    page = await api(`/api/v1/generations${query({ ...filters(), limit: PAGE_SIZE, offset })}`);
  } catch (error) {
    if (mine !== shown) return;
    replace(status, notice(explain(error), "error"));
    list.replaceChildren();
    list.setAttribute("aria-busy", "false");
    pager.hidden = true;
    return;
  }
  if (mine !== shown) return;
  status.replaceChildren();
  draw(page);
  list.setAttribute("aria-busy", "false");
  awaitThumbnails(page.data, mine);
}

function explain(error) {
  if (error instanceof ApiError && error.status === 401) {
    return "This gateway needs a key: use the Key button above.";
  }
  return `Could not list generations: ${error.message}`;
}

function draw(page) {
  const { data, total_count: total } = page;
  if (data.length === 0) {
    replace(list, notice(total ? "No more generations on this page." : "No generations match."));
  } else {
    replace(
      list,
      el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          { class: "history" },
          el("caption", { class: "hint" }, `${total} generation${total === 1 ? "" : "s"}`),
          el(
            "thead",
            {},
            el(
              "tr",
              {},
              el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Image")),
              el("th", { scope: "col" }, "Model"),
              el("th", { scope: "col", class: "hide-narrow" }, "Provider"),
              el("th", { scope: "col" }, "Status"),
              el("th", { scope: "col", class: "num" }, "Cost"),
              el("th", { scope: "col", class: "num hide-narrow" }, "Latency"),
              el("th", { scope: "col" }, "Time"),
            ),
          ),
          el("tbody", {}, data.map(row)),
        ),
      ),
    );
  }
  drawPager(total, data.length);
}

function row(generation) {
  const link = el("a", { href: recordPath(generation.id) }, generation.model);
  const line = el(
    "tr",
    { dataset: { id: generation.id }, class: "opens" },
    el("td", {}, thumbnailCell(generation)),
    el("th", { scope: "row" }, link),
    el("td", { class: "hide-narrow" }, providerOf(generation)),
    el("td", {}, statusTag(generation.status)),
    el("td", { class: "num" }, exactUsd(generation.total_cost)),
    el("td", { class: "num hide-narrow" }, ms(generation.latency)),
    el(
      "td",
      {},
      el(
        "time",
        { datetime: generation.created_at, title: localTime(generation.created_at) },
        age(generation.created_at),
      ),
    ),
  );
  // The whole row opens the record; the link stays the keyboard's (and middle-click's) way.
  line.addEventListener("click", (event) => {
    if (event.target.closest("a")) return;
    location.assign(link.href);
  });
  return line;
}

// The provider that served it; for a failed one, the last one tried.
function providerOf(generation) {
  const tried = generation.provider_responses || [];
  return generation.provider_name || tried[tried.length - 1]?.provider_name || "—";
}

function thumbnailCell(generation) {
  const [first] = generation.thumbnails || [];
  if (first) return thumbnailImage(first, `${generation.model} output`);
  const mark = generation.status === "failed" ? "×" : "—";
  return el("span", { class: "thumb empty", "aria-hidden": "true" }, mark);
}

function drawPager(total, count) {
  pager.hidden = total <= PAGE_SIZE && offset === 0;
  $("#page-position").textContent = count
    ? `${offset + 1}–${offset + count} of ${total}`
    : `${total} in all`;
  $("#page-previous").disabled = offset === 0;
  $("#page-next").disabled = offset + count >= total;
}

// A generation finished a moment ago may not have its thumbnails yet (they are made just after
// its answer): ask for its record again for a little while, and put them in its row in place.
async function awaitThumbnails(data, load) {
  const made = (generation) => instant(generation.created_at)?.getTime() ?? 0;
  let waiting = data.filter(
    (generation) =>
      generation.status === "succeeded" &&
      !(generation.thumbnails || []).length &&
      Date.now() - made(generation) < THUMBNAIL_GRACE_MS,
  );
  while (waiting.length) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (load !== shown) return; // another page or filter is shown now
    const records = await Promise.all(
      waiting.map((generation) =>
        api(`/api/v1/generation${query({ id: generation.id })}`).then(
          (answer) => answer.data,
          () => null,
        ),
      ),
    );
    if (load !== shown) return;
    for (const found of records) {
      if (!found?.thumbnails?.length) continue;
      const cell = list.querySelector(`tr[data-id="${CSS.escape(found.id)}"] td`);
      if (cell) replace(cell, thumbnailCell(found));
    }
    waiting = waiting.filter(
      (generation, index) =>
        records[index] &&
        !records[index].thumbnails.length &&
        Date.now() - made(generation) < THUMBNAIL_GRACE_MS,
    );
  }
}

// The model box suggests the catalog's image models; the provider box lists the catalog's
// providers (those configured here first). Either may fail: the filters still take values.
async function fillChoices() {
  const [listing, providers] = await Promise.all([
    api("/api/v1/images/models?limit=1000").catch(() => null),
    api("/api/v1/providers").catch(() => null),
  ]);
  for (const model of listing?.data || []) knownModels.add(model.id);
  replace(
    $("#model-ids"),
    [...knownModels].sort().map((id) => el("option", { value: id })),
  );
  if (!providers) return;
  const select = form.elements.provider;
  const chosen = select.value;
  const option = (provider) => el("option", { value: provider.slug }, provider.name);
  const group = (label, configured) =>
    el(
      "optgroup",
      { label },
      providers.data.filter((provider) => provider.configured === configured).map(option),
    );
  replace(
    select,
    el("option", { value: "" }, "any provider"),
    group("Configured here", true),
    group("Others in the catalog", false),
  );
  select.value = chosen;
  if (select.value !== chosen) select.append(option({ slug: chosen, name: chosen }));
  select.value = chosen;
}

function refilter() {
  offset = 0;
  load();
}

function wire() {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    refilter();
  });
  form.addEventListener("change", refilter);
  // A model picked from the list (or the box emptied) applies at once; typing waits for Enter.
  form.elements.model.addEventListener("input", () => {
    const value = form.elements.model.value.trim();
    if (value === "" || knownModels.has(value)) refilter();
  });
  form.addEventListener("reset", () => setTimeout(refilter));
  $("#page-previous").addEventListener("click", () => {
    offset = Math.max(0, offset - PAGE_SIZE);
    load();
  });
  $("#page-next").addEventListener("click", () => {
    offset += PAGE_SIZE;
    load();
  });
  window.addEventListener("imagegate:key", refilter);
}

restoreFromAddress();
wire();
fillChoices();
load();
