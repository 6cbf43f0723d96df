// The Playground: pick a model, fill the form generated from its endpoints' descriptors, and
// generate (at once, streamed with previews, or as a job; a video always as a job), then see the
// images with what they cost, how long they took, who made them and what was dropped.
// `?model=<id>&prompt=<text>&params=<JSON object>` fills it (Compare and the model page link here).
import { api, base, query } from "./api.js";
import { $, debounce, el, ms, notice, replace, usd } from "./dom.js";
import {
  cancelJob,
  failedGenerationId,
  fileName,
  generateImages,
  generateVideo,
  generationRecord,
} from "./generate.js";
import { mergeDescriptors, parameterForm } from "./parameter_form.js";
import { parameterHelp } from "./parameter_help.js";
import { referencePicker } from "./reference_images.js";
import { exactUsd } from "./money.js";

const form = $("#play");
const modelInput = $("#p-model");
const providerSelect = $("#p-provider");

const models = new Map(); // id -> {id, name, video, inputs}
let chosen = null; // {id, name, video, inputs, endpoints}
let parameters = null; // the generated form: {node, values, fill, reset}
let help = {};
const references = referencePicker({
  area: $("#p-references"),
  input: $("#p-files"),
  list: $("#p-reference-list"),
  refuse: (message) => showStatus(notice(message, "error")),
});
let running = null; // {controller, jobId}
let shownUrls = []; // object URLs of the images on show, let go when replaced

// --- models ------------------------------------------------------------------------------

async function loadModels() {
  const [images, videos] = await Promise.all([
    api(
      `/api/v1/images/models${query({ include_unavailable: "false", limit: 1000, sort: "name" })}`,
    ),
    // the video listing in OpenRouter's model shape: only the available ones, with modalities
    api(`/api/v1/models${query({ output_modalities: "video", limit: 1000, sort: "name" })}`).catch(
      () => ({ data: [] }),
    ),
  ]);
  models.clear();
  for (const model of images.data) {
    models.set(model.id, { id: model.id, name: model.name, video: false });
  }
  for (const model of videos.data) {
    models.set(model.id, { id: model.id, name: model.name, video: true });
  }
  replace(
    $("#p-models"),
    [...models.values()].map((model) =>
      el("option", { value: model.id }, `${model.name}${model.video ? " · video" : ""}`),
    ),
  );
}

let choosing = 0; // only the latest choice draws: an earlier, slower lookup is dropped
let inFlight = null; // {id, promise}: the lookup under way, which a second ask of it joins

// Picks a model: its endpoints, the form. Typing, leaving the box and Generate may all ask for
// the same model at once; they share one lookup, so none of them is dropped as stale.
function choose(id, { params } = {}) {
  if (!params && inFlight?.id === id) return inFlight.promise;
  const promise = lookUp(id, params);
  inFlight = { id, promise };
  promise.finally(() => {
    if (inFlight?.promise === promise) inFlight = null;
  });
  return promise;
}

async function lookUp(id, params) {
  if (chosen?.id === id && !params) return;
  const known = models.get(id);
  const mine = ++choosing;
  try {
    const [record, described] = await Promise.all([
      api(`/api/v1/images/models/${id.split("/").map(encodeURIComponent).join("/")}/endpoints`),
      parameterHelp(),
    ]);
    if (mine !== choosing) return;
    help = described;
    const outputs = record.architecture?.output_modalities || [];
    chosen = {
      id: record.id,
      name: record.name || known?.name || record.id,
      video: known?.video ?? outputs.includes("video"),
      inputs: record.architecture?.input_modalities || ["text"],
      endpoints: record.endpoints.filter((endpoint) => endpoint.available !== false),
    };
  } catch (error) {
    if (mine !== choosing) return;
    chosen = null;
    $("#p-parameters").hidden = true;
    showStatus(notice(`Cannot use model ${id}: ${error.message}`, "error"));
    return;
  }
  if (!chosen.endpoints.length) {
    showStatus(notice(`${chosen.name} has no available provider on this gateway.`, "error"));
  }
  modelInput.value = chosen.id;
  history.replaceState(null, "", `${location.pathname}${query(pageQuery())}`);
  const kind = chosen.video ? "video" : "images";
  $("#p-model-about").textContent = `${chosen.name}: makes ${kind}${
    chosen.inputs.includes("image") ? ", takes reference images" : ""
  }.`;
  fillProviders();
  buildForm(params);
}

function pageQuery() {
  const kept = Object.fromEntries(new URLSearchParams(location.search));
  return { ...kept, model: chosen?.id };
}

function fillProviders() {
  const field = $("#p-provider-field");
  const options = chosen.endpoints.map((endpoint) =>
    el(
      "option",
      { value: endpoint.provider_slug },
      `${endpoint.provider_name} · ${price(endpoint)}`,
    ),
  );
  replace(providerSelect, el("option", { value: "" }, "any (the gateway chooses)"), options);
  field.hidden = chosen.endpoints.length < 2;
  if (chosen.endpoints.length === 1) {
    const [only] = chosen.endpoints;
    $("#p-model-about").textContent += ` Served by ${only.provider_name} · ${price(only)}.`;
  }
}

function price(endpoint) {
  const range = endpoint.price_per_image;
  if (!range) return "price unknown";
  const unit = chosen.video ? "video" : "image";
  return range.min === range.max
    ? `${usd(range.min)} / ${unit}`
    : `${usd(range.min)}–${usd(range.max)} / ${unit}`;
}

function endpointsInUse() {
  const slug = providerSelect.value;
  return slug ? chosen.endpoints.filter((e) => e.provider_slug === slug) : chosen.endpoints;
}

function buildForm(params) {
  const kept = params ?? parameters?.values() ?? {};
  const endpoints = endpointsInUse();
  const descriptors = mergeDescriptors(endpoints.map((e) => e.supported_parameters));
  parameters = parameterForm(descriptors, help, { prefix: "p" });
  replace($("#p-form"), parameters.node);
  $("#p-parameters").hidden = false;
  const unknown = parameters.fill(kept);
  if (params && unknown.length) {
    showStatus(notice(`Not taken by ${chosen.name}, so left out: ${unknown.join(", ")}.`));
  }
  // reference images: models that take images as input (and say how many)
  const takesImages = chosen.inputs.includes("image") && !chosen.video;
  $("#p-references").hidden = !takesImages;
  if (takesImages) references.limit(descriptors.input_references?.max);
  else references.clear();
  // previews while streaming, where the endpoint streams
  const streams = !chosen.video && endpoints.some((e) => e.supports_streaming);
  $("#p-stream-field").hidden = !streams;
  if (!streams) $("#p-stream").checked = false;
  const partials = descriptors.partial_images;
  const counts = [];
  for (let count = Math.max(1, partials?.min ?? 1); count <= (partials?.max ?? 0); count += 1) {
    counts.push(
      el("option", { value: count, selected: count === Math.min(2, partials.max) }, count),
    );
  }
  replace($("#p-previews"), counts);
  $("#p-job-field").hidden = chosen.video;
  $("#p-video-hint").hidden = !chosen.video;
  syncToggles();
}

// Streaming and a job exclude each other (the gateway refuses both at once).
function syncToggles() {
  const stream = $("#p-stream");
  const job = $("#p-job");
  job.disabled = stream.checked;
  stream.disabled = job.checked;
  const counts = $("#p-previews").options.length;
  $("#p-previews-field").hidden = !stream.checked || !counts || $("#p-stream-field").hidden;
}

// --- generating --------------------------------------------------------------------------

function requestBody() {
  const body = { model: chosen.id, prompt: $("#p-prompt").value, ...parameters.values() };
  if (providerSelect.value) body.provider = { only: [providerSelect.value] };
  if (chosen.video) return body;
  const chosenReferences = references.references();
  if (chosenReferences.length) body.input_references = chosenReferences;
  if ($("#p-stream").checked && !$("#p-stream-field").hidden) {
    body.stream = true;
    if ($("#p-previews").value) body.partial_images = Number($("#p-previews").value);
  } else if ($("#p-job").checked) {
    body.async = true;
  }
  return body;
}

function showStatus(node) {
  replace($("#p-status"), node);
}

function objectUrl(image) {
  if (!image.blob) return image.url;
  const url = URL.createObjectURL(image.blob);
  shownUrls.push(url);
  return url;
}

function clearResult() {
  for (const url of shownUrls) URL.revokeObjectURL(url);
  shownUrls = [];
  replace($("#p-partials"));
  $("#p-partials-area").hidden = true;
  replace($("#p-gallery"));
  replace($("#p-facts"));
  $("#p-progress").hidden = true;
  $("#p-progress").removeAttribute("value");
}

function showPartial(partial) {
  $("#p-partials-area").hidden = false;
  const count = $("#p-partials").children.length;
  $("#p-partials").append(
    el("img", { src: objectUrl(partial), alt: `Preview ${count + 1}`, class: "partial" }),
  );
}

function showProgress(progress, status) {
  const bar = $("#p-progress");
  bar.hidden = false;
  if (progress === null || progress === undefined) bar.removeAttribute("value");
  else bar.value = progress;
  const done =
    progress === null || progress === undefined ? "" : ` · ${Math.round(progress * 100)}%`;
  showStatus(notice(`Job ${status}${done}`));
}

function showGallery(result, prompt) {
  const figures = result.images.map((image, index) => {
    const url = objectUrl(image);
    return el(
      "figure",
      {},
      el("img", { src: url, alt: `Image ${index + 1} for “${prompt}”`, class: "final" }),
      el(
        "figcaption",
        {},
        el(
          "a",
          {
            href: url,
            download: fileName(result.model, result.generationId, index, image.mediaType),
          },
          "Download",
        ),
      ),
    );
  });
  const videos = result.videos.map((video, index) =>
    el(
      "figure",
      {},
      el("video", {
        src: video.url,
        controls: true,
        preload: "auto",
        "aria-label": `Video for “${prompt}”`,
      }),
      el(
        "figcaption",
        {},
        el(
          "a",
          {
            href: video.url,
            download: fileName(result.model, result.generationId, index, "video/mp4"),
          },
          "Download",
        ),
      ),
    ),
  );
  replace($("#p-gallery"), figures, videos);
}

function fact(name, title, value) {
  return el(
    "div",
    { class: "stat", dataset: { fact: name } },
    el("span", { class: "hint" }, title),
    el("b", {}, value),
  );
}

function showFacts(result, record) {
  const dropped = result.dropped ?? record?.dropped_parameters ?? null;
  const cost = result.cost ?? record?.total_cost ?? null;
  replace(
    $("#p-facts"),
    fact("cost", "Cost", exactUsd(cost)),
    fact("latency", "Latency (this page)", ms(result.ms)),
    fact("gateway-latency", "Latency (gateway)", record ? ms(record.latency) : "…"),
    fact("provider", "Provider", result.provider ?? record?.provider_name ?? "…"),
    fact(
      "dropped",
      "Dropped parameters",
      dropped === null ? "…" : dropped.length ? dropped.join(", ") : "none",
    ),
    result.generationId
      ? fact(
          "record",
          "Record",
          el("a", { href: `${base}/history/${result.generationId}` }, result.generationId),
        )
      : null,
  );
}

async function generate(event) {
  event.preventDefault();
  if (running) return;
  const controller = new AbortController();
  running = { controller, jobId: null }; // before anything is awaited: one click, one generation
  const typed = modelInput.value.trim();
  if (!chosen || chosen.id !== typed) await choose(typed);
  if (!chosen || !form.reportValidity()) {
    running = null;
    return;
  }
  const body = requestBody();
  setBusy(true);
  clearResult();
  // on a phone the result is below the form: bring it into view
  if (matchMedia("(max-width: 760px)").matches) $(".result").scrollIntoView({ block: "start" });
  const job = body.async || chosen.video;
  showStatus(notice(job ? "Submitting the job…" : "Generating…"));
  const handlers = {
    signal: controller.signal,
    onPartial: showPartial,
    onProgress: showProgress,
    onJob: (id) => {
      running.jobId = id;
    },
  };
  try {
    const result = chosen.video
      ? await generateVideo(body, handlers)
      : await generateImages(body, handlers);
    $("#p-progress").hidden = true;
    showGallery(result, body.prompt);
    showFacts(result, null);
    showStatus(notice(`Done in ${ms(result.ms)}.`, "ok"));
    // the record adds the gateway's latency (and a stream's provider); without it, the
    // answer's own figures stay
    const record = result.generationId
      ? await generationRecord(result.generationId).catch(() => null)
      : null;
    if (record) showFacts(result, record);
  } catch (error) {
    $("#p-progress").hidden = true;
    const aborted = error?.name === "AbortError" || controller.signal.aborted;
    const id = failedGenerationId(error);
    showStatus(
      el(
        "div",
        {},
        notice(aborted ? "Cancelled." : error.message, aborted ? "info" : "error"),
        id
          ? el(
              "p",
              { class: "hint" },
              el("a", { href: `${base}/history/${id}` }, "The generation's record"),
            )
          : null,
      ),
    );
  } finally {
    running = null;
    setBusy(false);
  }
}

function setBusy(busy) {
  $("#p-generate").disabled = busy;
  $("#p-cancel").hidden = !busy;
  form.setAttribute("aria-busy", busy ? "true" : "false");
}

async function cancel() {
  if (!running) return;
  const { controller, jobId } = running;
  if (jobId) await cancelJob(jobId).catch(() => {});
  controller.abort();
}

// --- start -------------------------------------------------------------------------------

function wire() {
  form.addEventListener("submit", generate);
  $("#p-cancel").addEventListener("click", cancel);
  $("#p-reset").addEventListener("click", () => parameters?.reset());
  providerSelect.addEventListener("change", () => buildForm());
  $("#p-stream").addEventListener("change", syncToggles);
  $("#p-job").addEventListener("change", syncToggles);
  const picked = () => {
    const id = modelInput.value.trim();
    if (models.has(id)) choose(id);
  };
  modelInput.addEventListener("input", debounce(picked, 150));
  modelInput.addEventListener("change", () => {
    const id = modelInput.value.trim();
    if (id && id !== chosen?.id) choose(id);
  });
  modelInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault(); // Enter picks the model; it does not generate
      const id = modelInput.value.trim();
      if (id) choose(id);
    }
  });
  window.addEventListener("imagegate:key", () => loadModels().catch(() => {}));
}

async function start() {
  wire();
  const asked = new URLSearchParams(location.search);
  if (asked.get("prompt")) $("#p-prompt").value = asked.get("prompt");
  let params = null;
  if (asked.get("params")) {
    try {
      params = JSON.parse(asked.get("params"));
      if (typeof params !== "object" || params === null || Array.isArray(params)) throw new Error();
    } catch {
      params = null;
      showStatus(notice("The address's params is not a JSON object: ignored.", "error"));
    }
  }
  try {
    await loadModels();
  } catch (error) {
    showStatus(notice(`Cannot list the models: ${error.message}`, "error"));
  }
  const model = asked.get("model");
  if (model) await choose(model, { params: params ?? {} });
}

start();
