// Generating through the gateway's public APIs: OpenRouter's Image API (`POST /api/v1/images`,
// answered at once, streamed as server-sent events, or as a job) and its video API
// (`POST /api/v1/videos`, always a job). Every function answers one shape, a "generation":
// {generationId, model, provider, images: [{blob, url, mediaType}], videos: [{url}], cost,
//  dropped, ms}; a failure is thrown as an ApiError with the gateway's own message.
import { ApiError, api, request } from "./api.js";

const POLL_MS = 600;
const ENDED = new Set(["failed", "cancelled", "expired"]);

// `X-Imagegate-Dropped-Parameters`: the names the endpoint did not take (percent-encoded when
// not plain ASCII); null when the answer has no such header (a job's result).
export function droppedOf(response) {
  const header = response.headers.get("X-Imagegate-Dropped-Parameters");
  if (header === null) return null;
  return header
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean)
    .map((name) => decodeURIComponent(name));
}

function costOf(response) {
  const header = response.headers.get("X-Imagegate-Cost");
  return header === null ? null : Number(header);
}

function imageOf(item) {
  if (item.b64_json) {
    const bytes = Uint8Array.from(atob(item.b64_json), (char) => char.charCodeAt(0));
    const mediaType = item.media_type || "image/png";
    return { blob: new Blob([bytes], { type: mediaType }), mediaType };
  }
  return { url: item.url, mediaType: item.media_type || "image/png" };
}

// The Image API's JSON answer (or a job's `result`, which is the same body) as a generation.
function fromAnswer(answer, extra) {
  return {
    generationId: answer.id,
    model: answer.model,
    provider: answer.provider ?? null,
    images: (answer.data || []).map(imageOf),
    videos: [],
    cost: answer.usage?.cost ?? null,
    dropped: null,
    ...extra,
  };
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

// Server-sent events from a fetch() body: the `data:` of each event, as text.
async function* serverEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const blocks = buffer.split(/\r?\n\r?\n/);
    buffer = blocks.pop();
    for (const block of blocks) {
      const data = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""));
      if (data.length) yield data.join("\n");
    }
  }
}

async function streamed(body, { onPartial, signal }, started) {
  const response = await request("/api/v1/images", { method: "POST", body, signal });
  const generationId = response.headers.get("X-Imagegate-Generation-Id");
  const images = [];
  let usage = null;
  for await (const data of serverEvents(response.body)) {
    if (data === "[DONE]") break;
    const event = JSON.parse(data);
    if (event.type?.endsWith(".partial_image")) {
      onPartial?.({ index: event.partial_image_index, ...imageOf(event) });
    } else if (event.type?.endsWith(".completed")) {
      images.push(imageOf(event));
      usage = event.usage ?? usage;
    } else if (event.type === "error") {
      const failure = { ...event, generation_id: generationId };
      throw new ApiError(502, event.error?.message || "the stream failed", failure);
    }
  }
  return {
    generationId,
    model: body.model,
    provider: null, // a stream's events do not name it: the record does
    images,
    videos: [],
    cost: usage?.cost ?? null,
    dropped: droppedOf(response),
    ms: performance.now() - started,
  };
}

// A job followed until it ends: `onProgress(progress 0..1 or null, status)` on every poll.
export async function followJob(id, { onProgress, signal } = {}) {
  for (;;) {
    const job = await api(`/api/v1/jobs/${encodeURIComponent(id)}`, { signal });
    onProgress?.(job.progress, job.status, job);
    if (job.status === "completed") return job;
    if (ENDED.has(job.status)) {
      const message = job.error?.message || `the job ended ${job.status}`;
      throw new ApiError(job.error?.status || 500, message, job);
    }
    await sleep(POLL_MS, signal);
  }
}

export async function cancelJob(id) {
  return api(`/api/v1/jobs/${encodeURIComponent(id)}/cancel`, { method: "POST" });
}

// Images: `body` is the Image API's request. `body.stream` streams (partials to `onPartial`);
// `body.async` asks for a job and follows it (`onJob(id)` once accepted, then `onProgress`).
export async function generateImages(body, { onPartial, onProgress, onJob, signal } = {}) {
  const started = performance.now();
  if (body.stream) return streamed(body, { onPartial, signal }, started);
  const response = await request("/api/v1/images", { method: "POST", body, signal });
  if (response.status === 202) {
    const accepted = await response.json();
    onJob?.(accepted.id);
    const job = await followJob(accepted.id, { onProgress, signal });
    return fromAnswer(job.result, {
      generationId: job.generation_id || job.result.id,
      jobId: job.id,
      ms: performance.now() - started,
    });
  }
  const answer = await response.json();
  return fromAnswer(answer, {
    generationId: response.headers.get("X-Imagegate-Generation-Id") || answer.id,
    cost: costOf(response) ?? answer.usage?.cost ?? null,
    dropped: droppedOf(response),
    ms: performance.now() - started,
  });
}

// A video: always a job. Progress comes from the jobs API (the video object has none); the
// finished video's `urls` are keyless, so a <video> can play them.
export async function generateVideo(body, { onProgress, onJob, signal } = {}) {
  const started = performance.now();
  const accepted = await api("/api/v1/videos", { method: "POST", body, signal });
  onJob?.(accepted.id);
  await followJob(accepted.id, { onProgress, signal });
  const video = await api(`/api/v1/videos/${encodeURIComponent(accepted.id)}`, { signal });
  if (video.status !== "completed") {
    throw new ApiError(500, video.error?.message || `the video is ${video.status}`, video);
  }
  return {
    generationId: video.generation_id,
    jobId: accepted.id,
    model: body.model,
    provider: null,
    images: [],
    videos: (video.urls || []).map((url) => ({ url })),
    cost: video.usage?.cost ?? null,
    dropped: null,
    ms: performance.now() - started,
  };
}

// The generation's record (`GET /api/v1/generation?id=`): provider, cost, latency, dropped.
export async function generationRecord(id) {
  return (await api(`/api/v1/generation?id=${encodeURIComponent(id)}`)).data;
}

// The id of the generation a failure made (OpenRouter's error body names it), if any.
export function failedGenerationId(error) {
  return error?.body?.error?.metadata?.generation_id || error?.body?.generation_id || null;
}

// A file name for a download: the model, the generation and the image's place, e.g.
// `sandbox-image-0a1b2c3d-1.png`.
export function fileName(model, generationId, index, mediaType) {
  const extensions = { "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp" };
  const extension = extensions[mediaType] || mediaType?.split("/")[1] || "bin";
  const slug = (model || "image").replace(/[^A-Za-z0-9._-]+/g, "-");
  const short = (generationId || "").replace(/^gen-/, "").slice(0, 8);
  return [slug, short, index + 1].filter(Boolean).join("-") + `.${extension}`;
}
