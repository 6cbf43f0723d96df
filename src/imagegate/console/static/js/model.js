// A model's page: what it is, every endpoint side by side (price lines, health, source), its
// parameters from the typed descriptors, and how to call it.
import { api, base, query } from "./api.js";
import { $, el, ms, notice, percent, replace, usd, when } from "./dom.js";
import { parameterHelp } from "./parameter_help.js";
import { parameterTable } from "./parameter_table.js";
import { snippetTabs } from "./snippets.js";

const id = $("#main").dataset.model;

// A model id's two parts as path segments: whatever the address held stays in the path.
function modelPath(model) {
  return model.split("/").map(encodeURIComponent).join("/");
}

function pricingLines(endpoint) {
  return el(
    "table",
    { class: "pricing" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { scope: "col" }, "Billed"),
        el("th", { scope: "col" }, "Per"),
        el("th", { scope: "col", class: "num" }, "USD"),
      ),
    ),
    el(
      "tbody",
      {},
      endpoint.pricing.map((line) =>
        el(
          "tr",
          {},
          el("td", {}, line.billable.replaceAll("_", " "), line.variant ? el("div", { class: "hint" }, variant(line.variant)) : null),
          el("td", {}, line.unit.replaceAll("_", " ")),
          el("td", { class: "num" }, line.cost_usd === 0 ? "free" : `$${line.cost_usd}`),
        ),
      ),
    ),
  );
}

function variant(value) {
  return typeof value === "object"
    ? Object.entries(value).map(([name, v]) => `${name} ${v}`).join(", ")
    : String(value);
}

function endpointCard(endpoint) {
  const source = endpoint.pricing_source || {};
  return el(
    "article",
    { class: "card endpoint", "aria-label": endpoint.provider_name, dataset: { provider: endpoint.provider_slug } },
    el(
      "h3",
      {},
      endpoint.provider_name,
      " ",
      el("span", { class: endpoint.available ? "tag ok" : "tag" }, endpoint.available ? "available" : "not configured"),
    ),
    el(
      "div",
      { class: "stats" },
      el("div", { class: "stat" }, el("span", { class: "hint" }, "per image"), el("b", {}, priceRange(endpoint.price_per_image))),
      el("div", { class: "stat" }, el("span", { class: "hint" }, "uptime 30 min"), el("b", {}, percent(endpoint.uptime_last_30m))),
      el("div", { class: "stat" }, el("span", { class: "hint" }, "latency 30 min"), el("b", {}, ms(endpoint.latency_last_30m))),
    ),
    el(
      "p",
      { class: "hint" },
      `uptime 5 min ${percent(endpoint.uptime_last_5m)} · 1 day ${percent(endpoint.uptime_last_1d)}`,
      endpoint.supports_streaming ? " · streams previews" : "",
      endpoint.max_prompt_length ? ` · prompts up to ${endpoint.max_prompt_length} characters` : "",
      endpoint.expiration_date ? ` · retired on ${endpoint.expiration_date}` : "",
    ),
    pricingLines(endpoint),
    el(
      "details",
      { class: "source" },
      el(
        "summary",
        {},
        `Prices read from ${source.publisher || "?"}`,
        source.verified_on ? `, checked ${source.verified_on}` : "",
        source.unconfirmed ? " (unconfirmed)" : "",
        source.url ? el("span", {}, " · ", el("a", { href: source.url, rel: "noreferrer" }, "page")) : "",
      ),
      el("p", {}, endpoint.source || ""),
    ),
  );
}

function priceRange(range) {
  if (!range) return "—";
  return range.min === range.max ? usd(range.min) : `${usd(range.min)} – ${usd(range.max)}`;
}

function header(record, fallback) {
  const name = record.name || fallback?.name || record.id;
  const description = record.description || fallback?.description || "";
  const architecture = record.architecture || fallback?.architecture;
  document.title = `${name} · imagegate`;
  const makesVideo = architecture?.output_modalities?.includes("video");
  return el(
    "div",
    {},
    el("h1", { id: "model-name" }, name),
    el("p", { class: "mono hint" }, record.id),
    description ? el("p", { class: "description" }, description) : null,
    el(
      "div",
      { class: "tags" },
      architecture ? el("span", { class: "tag" }, `${architecture.input_modalities.join(" + ")} → ${architecture.output_modalities.join(" + ")}`) : null,
      (record.aliases || []).map((alias) => el("span", { class: "tag", title: "alias" }, `alias: ${alias}`)),
      record.created ? el("span", { class: "tag" }, `released ${when(record.created).split(",")[0]}`) : null,
    ),
    el(
      "div",
      { class: "actions" },
      el("a", { class: "button primary", href: `${base}/playground${query({ model: record.id })}` }, makesVideo ? "Try it in the playground" : "Try it in the playground"),
      el("a", { class: "button", href: `${base}/compare${query({ models: record.id })}` }, "Compare"),
    ),
  );
}

async function show() {
  try {
    const [record, help] = await Promise.all([
      api(`/api/v1/images/models/${modelPath(id)}/endpoints${query({ include_unavailable: "true" })}`),
      parameterHelp(),
    ]);
    const fallback = record.name ? null : await api(`/api/v1/model/${modelPath(record.id)}`).then((a) => a.data).catch(() => null);
    replace($("#model-head"), header(record, fallback));
    replace($("#endpoints"), record.endpoints.length ? record.endpoints.map(endpointCard) : notice("No provider serves this model."));
    replace($("#parameters"), parameterTable(record.endpoints, help));
    replace($("#snippets"), snippetTabs(record.id, location.origin + document.body.dataset.api));
  } catch (error) {
    replace($("#model-head"), el("h1", {}, id), notice(error.message, "error"));
  }
}

show();
