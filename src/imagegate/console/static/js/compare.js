// Compare: one prompt to up to six image models at once, each in a tile that fills in as its
// model answers. The requests run in parallel and are not streamed: a browser keeps six
// connections per origin, and six streams would hold them all.
// `?models=a,b,c&prompt=<text>&params=<JSON object>` fills it.
import { api, base, query } from "./api.js";
import { $, el, ms, notice, replace } from "./dom.js";
import { failedGenerationId, fileName, generateImages } from "./generate.js";
import { mergeDescriptors, parameterForm } from "./parameter_form.js";
import { parameterHelp } from "./parameter_help.js";
import { exactUsd } from "./money.js";

const MOST = 6;
const form = $("#compare");
const modelInput = $("#c-model");
const models = new Map(); // id -> the listing's model
let picked = []; // ids, in the order chosen
let settings = null; // the form of what every picked model takes
let help = {};
let shownUrls = [];
let pending = {}; // settings asked for (the address's params) until the form can show them

async function loadModels() {
  const listed = await api(
    `/api/v1/images/models${query({ include_unavailable: "false", limit: 1000, sort: "name" })}`,
  );
  models.clear();
  for (const model of listed.data) models.set(model.id, model);
  replace(
    $("#c-models"),
    listed.data.map((model) => el("option", { value: model.id }, model.name)),
  );
}

function status(node) {
  replace($("#c-status"), node);
}

function find(typed) {
  const wanted = typed.trim().toLowerCase();
  return [...models.values()].find(
    (model) =>
      model.id.toLowerCase() === wanted ||
      (model.aliases || []).some((alias) => alias.toLowerCase() === wanted),
  );
}

// Adds a model to the comparison; false (and says why) when it cannot.
function add(typed) {
  if (!typed.trim() || !models.size) return false; // Add is enabled once the models are listed
  const model = find(typed);
  if (!model) {
    status(notice(`No available image model is called “${typed.trim()}”.`, "error"));
    return false;
  }
  if (picked.includes(model.id)) {
    status(notice(`${model.name} is already in the comparison.`));
    return false;
  }
  if (picked.length >= MOST) {
    status(
      notice(`Compare takes at most ${MOST} models: remove one to add ${model.name}.`, "error"),
    );
    return false;
  }
  picked.push(model.id);
  status(null);
  showPicked();
  return true;
}

function remove(id) {
  picked = picked.filter((other) => other !== id);
  status(null);
  showPicked();
}

function showPicked() {
  replace(
    $("#c-chosen"),
    picked.map((id) => {
      const model = models.get(id);
      return el(
        "li",
        { class: "chip", dataset: { model: id } },
        el("span", {}, model.name),
        el(
          "button",
          {
            type: "button",
            class: "ghost",
            "aria-label": `Remove ${model.name}`,
            onclick: () => remove(id),
          },
          "✕",
        ),
      );
    }),
  );
  const full = picked.length >= MOST;
  modelInput.disabled = full;
  $("#c-add").disabled = full;
  $("#c-count").textContent = full
    ? `${MOST} of ${MOST} models: remove one to add another.`
    : `${picked.length} of up to ${MOST} models, each generating in parallel.`;
  buildSettings();
}

function buildSettings() {
  const kept = { ...pending, ...(settings?.values() ?? {}) };
  const descriptors = mergeDescriptors(
    picked.map((id) => models.get(id).supported_parameters || {}),
    "common",
  );
  settings = parameterForm(picked.length ? descriptors : {}, help, { prefix: "c" });
  replace($("#c-form"), settings.node);
  settings.fill(kept);
}

function extraFields() {
  const text = $("#c-extra").value.trim();
  if (!text) return {};
  let extra;
  try {
    extra = JSON.parse(text);
  } catch (error) {
    throw new Error(`The extra request fields are not JSON: ${error.message}`);
  }
  if (typeof extra !== "object" || extra === null || Array.isArray(extra)) {
    throw new Error("The extra request fields must be a JSON object.");
  }
  return extra;
}

function fact(name, title, value) {
  return el(
    "div",
    { class: "fact", dataset: { fact: name } },
    el("span", { class: "hint" }, `${title} `),
    el("b", {}, value),
  );
}

function emptyTile(model) {
  return el(
    "article",
    { class: "tile", dataset: { model: model.id }, "aria-label": model.name, "aria-busy": "true" },
    el("div", { class: "placeholder" }, "Generating…"),
    el(
      "div",
      { class: "meta" },
      el("h2", { class: "tile-title" }, model.name),
      el("div", { class: "hint mono" }, model.id),
    ),
  );
}

function playgroundLink(modelId, prompt, params) {
  const kept = Object.keys(params).length ? JSON.stringify(params) : "";
  return `${base}/playground${query({ model: modelId, prompt, params: kept })}`;
}

function recordLink(id) {
  return el("a", { href: `${base}/history/${id}` }, "Record");
}

function filled(tile, model, result, prompt, params) {
  const images = result.images.map((image, index) => {
    const url = image.blob ? URL.createObjectURL(image.blob) : image.url;
    if (image.blob) shownUrls.push(url);
    return { url, name: fileName(result.model, result.generationId, index, image.mediaType) };
  });
  tile.removeAttribute("aria-busy");
  tile.dataset.generation = result.generationId || "";
  replace(
    tile,
    images.map((image, index) =>
      el("img", { src: image.url, alt: `${model.name}, image ${index + 1}, for “${prompt}”` }),
    ),
    el(
      "div",
      { class: "meta" },
      el("h2", { class: "tile-title" }, model.name),
      fact("provider", "Provider", result.provider ?? "—"),
      fact("cost", "Cost", exactUsd(result.cost)),
      fact("latency", "Latency", ms(result.ms)),
      result.dropped?.length ? fact("dropped", "Dropped", result.dropped.join(", ")) : null,
      el(
        "div",
        { class: "actions" },
        el(
          "a",
          { class: "button", href: playgroundLink(model.id, prompt, params) },
          "Use these settings",
        ),
        images.map((image, index) =>
          el(
            "a",
            { class: "button", href: image.url, download: image.name },
            images.length > 1 ? `Download ${index + 1}` : "Download",
          ),
        ),
        result.generationId ? recordLink(result.generationId) : null,
      ),
    ),
  );
}

function failed(tile, model, error, started) {
  const id = failedGenerationId(error);
  tile.removeAttribute("aria-busy");
  tile.classList.add("failed");
  replace(
    tile,
    el(
      "div",
      { class: "meta" },
      el("h2", { class: "tile-title" }, model.name),
      notice(error.message, "error"),
      fact("latency", "Latency", ms(performance.now() - started)),
      id ? el("div", { class: "actions" }, recordLink(id)) : null,
    ),
  );
}

async function run(event) {
  event.preventDefault();
  if (!picked.length) {
    status(notice("Add at least one model to compare.", "error"));
    modelInput.focus();
    return;
  }
  if (!form.reportValidity()) return;
  let extra;
  try {
    extra = extraFields();
  } catch (error) {
    status(notice(error.message, "error"));
    return;
  }
  const prompt = $("#c-prompt").value;
  const params = settings.values();
  const kept = {
    models: picked,
    prompt,
    params: Object.keys(params).length ? JSON.stringify(params) : "",
  };
  history.replaceState(null, "", `${location.pathname}${query(kept)}`);
  for (const url of shownUrls) URL.revokeObjectURL(url);
  shownUrls = [];
  status(notice(`Generating with ${picked.length} models…`));
  $("#c-run").disabled = true;
  const chosen = picked.map((id) => models.get(id));
  const tiles = chosen.map(emptyTile);
  replace($("#c-tiles"), tiles);
  const started = performance.now();
  const outcomes = await Promise.allSettled(
    chosen.map(async (model, index) => {
      const body = { ...extra, model: model.id, prompt, ...params };
      try {
        filled(tiles[index], model, await generateImages(body), prompt, params);
      } catch (error) {
        failed(tiles[index], model, error, started);
        throw error;
      }
    }),
  );
  const failures = outcomes.filter((outcome) => outcome.status === "rejected").length;
  status(
    notice(
      failures
        ? `${chosen.length - failures} of ${chosen.length} models answered; ${failures} failed.`
        : `All ${chosen.length} models answered.`,
      failures ? "error" : "ok",
    ),
  );
  $("#c-run").disabled = false;
}

function wire() {
  form.addEventListener("submit", run);
  const adding = () => {
    if (add(modelInput.value)) modelInput.value = "";
  };
  $("#c-add").addEventListener("click", adding);
  modelInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault(); // Enter adds the model; it does not start the comparison
      adding();
    }
  });
  // a key typed (or changed) later: list the models again, and finish starting if the
  // first listing failed (a gateway that needs a key, opened without one)
  window.addEventListener("imagegate:key", () => (started ? loadModels().catch(() => {}) : begin()));
}

let started = false;

async function start() {
  wire();
  const asked = new URLSearchParams(location.search);
  if (asked.get("prompt")) $("#c-prompt").value = asked.get("prompt");
  try {
    const params = JSON.parse(asked.get("params") || "{}");
    if (params && typeof params === "object" && !Array.isArray(params)) pending = params;
  } catch {
    status(notice("The address's params is not a JSON object: ignored.", "error"));
  }
  await begin();
}

// The models and parameter types, then what the address asks for; again on a new key if the
// listing failed.
async function begin() {
  try {
    [help] = await Promise.all([parameterHelp(), loadModels()]);
  } catch (error) {
    status(notice(`Cannot list the models: ${error.message}`, "error"));
    return;
  }
  started = true;
  status(null);
  const wanted = (new URLSearchParams(location.search).get("models") || "").split(",");
  for (const id of wanted.filter(Boolean)) add(id);
  if (!picked.length) showPicked();
  pending = {};
}

start();
