// The catalog browser: filters, sort and paging done by the listing APIs, one page in the DOM.
import { api, base, query } from "./api.js";
import { $, debounce, el, notice, replace, usd } from "./dom.js";
import { openapi } from "./parameter_help.js";

const PAGE = 50;
const form = $("#filters");
let offset = 0;
let videoPrices = null; // per-second prices of video models, by id (one call, when first asked)

function filters() {
  const data = new FormData(form);
  return {
    q: data.get("q").trim(),
    output: data.get("output"),
    provider: data.get("provider"),
    supports: data.get("supports"),
    min_price: data.get("min_price"),
    max_price: data.get("max_price"),
    sort: data.get("sort"),
    edits: data.get("edits") === "on",
    unavailable: data.get("unavailable") === "on",
  };
}

// The page's address keeps the filters, so a view can be shared and Back returns to it.
function remember(chosen) {
  const kept = { ...chosen, offset: offset || "" };
  kept.edits = chosen.edits ? "1" : "";
  kept.unavailable = chosen.unavailable ? "1" : "";
  if (kept.output === "image") kept.output = "";
  if (kept.sort === "date") kept.sort = "";
  history.replaceState(null, "", `${location.pathname}${query(kept)}`);
}

function restore() {
  const params = new URLSearchParams(location.search);
  for (const element of form.elements) {
    if (!element.name || !params.has(element.name)) continue;
    if (element.type === "checkbox") element.checked = params.get(element.name) === "1";
    else element.value = params.get(element.name);
  }
  offset = Number(params.get("offset")) || 0;
}

async function imagePage(chosen) {
  const answer = await api(
    `/api/v1/images/models${query({
      q: chosen.q,
      provider: chosen.provider,
      supports: chosen.supports,
      min_price: chosen.min_price,
      max_price: chosen.max_price,
      sort: chosen.sort,
      input_modalities: chosen.edits ? "image" : "",
      include_unavailable: chosen.unavailable ? "true" : "",
      limit: PAGE,
      offset,
    })}`,
  );
  return {
    total: answer.total_count,
    rows: answer.data.map((model) =>
      row(model, model.providers, priceRange(model.price_per_image, "image")),
    ),
  };
}

// A table row from either listing's model object (both have OpenRouter's architecture).
function row(model, providers, price) {
  return {
    id: model.id,
    name: model.name,
    providers,
    inputs: model.architecture.input_modalities,
    outputs: model.architecture.output_modalities,
    price,
    available: model.available,
  };
}

async function videoPage(chosen) {
  if (videoPrices === null) {
    const listed = await api("/api/v1/videos/models");
    videoPrices = new Map(listed.data.map((model) => [model.id, model.pricing_skus || {}]));
  }
  const sorts = { date: "newest", price: "pricing-low-to-high" };
  const answer = await api(
    `/api/v1/models${query({
      output_modalities: "video",
      q: chosen.q,
      supported_parameters: chosen.supports,
      sort: sorts[chosen.sort] || chosen.sort,
      input_modalities: chosen.edits ? "image" : "",
      include_unavailable: chosen.unavailable ? "true" : "",
      limit: PAGE,
      offset,
    })}`,
  );
  return {
    total: answer.total_count,
    rows: answer.data.map((model) => row(model, null, perSecond(videoPrices.get(model.id)))),
  };
}

function priceRange(range, unit) {
  if (!range) return "—";
  const low = usd(range.min);
  return range.min === range.max ? `${low} / ${unit}` : `${low} – ${usd(range.max)} / ${unit}`;
}

function perSecond(skus) {
  const second = skus?.duration_seconds ?? skus?.video_seconds;
  return second === undefined ? "—" : `${usd(Number(second))} / second`;
}

function table(rows, video) {
  if (!rows.length) return notice("No model matches these filters.");
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      {},
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, "Model"),
          el("th", { scope: "col", class: "hide-narrow" }, "Modalities"),
          el("th", { scope: "col", class: "hide-narrow" }, "Providers"),
          el("th", { scope: "col", class: "num" }, video ? "Price" : "Price per image"),
          el("th", { scope: "col" }, "Status"),
        ),
      ),
      el(
        "tbody",
        {},
        rows.map((row) =>
          el(
            "tr",
            { dataset: { model: row.id } },
            el(
              "td",
              {},
              el("a", { href: `${base}/models/${row.id}` }, row.name),
              el("div", { class: "hint mono" }, row.id),
            ),
            el(
              "td",
              { class: "hide-narrow modalities" },
              `${row.inputs.join(" + ")} → ${row.outputs.join(" + ")}`,
            ),
            el(
              "td",
              { class: "hide-narrow" },
              row.providers
                ? el(
                    "div",
                    { class: "tags" },
                    row.providers.map((name) => el("span", { class: "tag" }, name)),
                  )
                : el("a", { href: `${base}/models/${row.id}` }, "on its page"),
            ),
            el("td", { class: "num" }, row.price),
            el(
              "td",
              {},
              el(
                "span",
                { class: row.available ? "tag ok" : "tag" },
                row.available ? "available" : "not configured",
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

let asked = 0;
async function show() {
  const chosen = filters();
  const video = chosen.output === "video";
  $("#f-provider").disabled = video; // the video listing has no provider filter
  $("#f-min-price").disabled = video;
  $("#f-max-price").disabled = video;
  remember(chosen);
  const mine = ++asked;
  try {
    const page = await (video ? videoPage(chosen) : imagePage(chosen));
    if (mine !== asked) return; // a newer request is on its way
    replace($("#results"), table(page.rows, video));
    const last = Math.min(offset + page.rows.length, page.total);
    $("#count").textContent = `${page.total} ${video ? "video" : "image"} models`;
    $("#page-of").textContent = page.total ? `${offset + 1}–${last} of ${page.total}` : "";
    $("#previous").disabled = offset === 0;
    $("#next").disabled = last >= page.total;
  } catch (error) {
    if (mine === asked) replace($("#results"), notice(error.message, "error"));
  }
}

async function fillChoices() {
  const [providers, spec] = await Promise.all([
    api("/api/v1/providers"),
    openapi(),
  ]);
  const select = $("#f-provider");
  const chosen = new URLSearchParams(location.search).get("provider");
  const configuredFirst = [...providers.data].sort((a, b) => Number(b.configured) - Number(a.configured));
  for (const provider of configuredFirst) {
    const label = `${provider.name} (${provider.models})${provider.configured ? "" : " · not configured"}`;
    select.append(el("option", { value: provider.slug, selected: provider.slug === chosen }, label));
  }
  const names = spec.paths["/api/v1/images/models"].get.parameters.find((p) => p.name === "supports");
  const supports = $("#f-supports");
  const wanted = new URLSearchParams(location.search).get("supports");
  for (const name of names.schema.items?.enum || names.schema.enum || []) {
    supports.append(el("option", { value: name, selected: name === wanted }, name));
  }
}

const again = debounce(() => {
  offset = 0;
  show();
});
form.addEventListener("input", again);
form.addEventListener("submit", (event) => event.preventDefault());
$("#previous").addEventListener("click", () => {
  offset = Math.max(0, offset - PAGE);
  show();
});
$("#next").addEventListener("click", () => {
  offset += PAGE;
  show();
});
window.addEventListener("imagegate:key", show);

// The choices first: the address may name a provider or parameter that only they list.
fillChoices()
  .catch(() => {})
  .then(() => {
    restore();
    show();
  });
