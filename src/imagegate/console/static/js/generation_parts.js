// Pieces of a generation record shared by the History list and the record's own page.
import { base } from "./api.js";
import { el } from "./dom.js";

const STATUS_KINDS = { succeeded: "ok", failed: "bad", abandoned: "warn" };

export function statusTag(status) {
  return el("span", { class: `tag ${STATUS_KINDS[status] || ""}`.trim() }, status);
}

export function recordPath(id) {
  return `${base}/history/${encodeURIComponent(id)}`;
}

// One of the record's `thumbnails` ({url, media_type, width, height}): a keyless /media link.
export function thumbnailImage(thumbnail, alt, className = "thumb") {
  return el("img", {
    class: className,
    src: thumbnail.url,
    alt,
    width: thumbnail.width,
    height: thumbnail.height,
    decoding: "async",
  });
}

// A succeeded generation's thumbnails are made just after its answer is sent: one younger than
// this may simply not have them yet.
export const THUMBNAIL_GRACE_MS = 20000;
