// Reference images for a model that takes images: chosen with a file input, dropped on the
// area, or pasted; kept as data URIs (what `input_references` takes), shown with a way to
// remove each, and no more than the endpoint takes.
import { el, replace } from "./dom.js";

const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/webp"]);

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// `area` (hidden when the model takes no images), `input` (a file input), `list` (a <ul>), and
// `refuse(message)` to say why a file was not taken.
export function referencePicker({ area, input, list, refuse }) {
  let items = []; // [{name, url}]
  let most; // how many the endpoint takes, when it says

  function show() {
    replace(
      list,
      items.map((item, index) =>
        el(
          "li",
          {},
          el("img", { src: item.url, alt: `Reference ${index + 1}: ${item.name}`, class: "thumb" }),
          el("span", { class: "hint" }, item.name),
          el(
            "button",
            {
              type: "button",
              class: "ghost",
              "aria-label": `Remove ${item.name}`,
              onclick: () => {
                items = items.filter((_, i) => i !== index);
                show();
              },
            },
            "✕",
          ),
        ),
      ),
    );
  }

  async function add(files) {
    if (area.hidden) return;
    for (const file of files) {
      if (!IMAGE_TYPES.has(file.type)) {
        refuse(`${file.name || "That file"} is not a PNG, JPEG or WebP image.`);
        continue;
      }
      if (most !== undefined && items.length >= most) {
        refuse(`This model takes at most ${most} reference image${most === 1 ? "" : "s"}.`);
        break;
      }
      const name = file.name || `pasted.${file.type.split("/")[1]}`;
      items.push({ name, url: await readAsDataUrl(file) });
    }
    show();
  }

  input.addEventListener("change", async () => {
    await add([...input.files]);
    input.value = "";
  });
  area.addEventListener("dragover", (event) => {
    event.preventDefault();
    area.classList.add("dragging");
  });
  area.addEventListener("dragleave", () => area.classList.remove("dragging"));
  area.addEventListener("drop", (event) => {
    event.preventDefault();
    area.classList.remove("dragging");
    add([...event.dataTransfer.files]);
  });
  document.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])].filter((file) =>
      IMAGE_TYPES.has(file.type),
    );
    if (files.length && !area.hidden) {
      event.preventDefault();
      add(files);
    }
  });

  return {
    // as `input_references` sends them
    references: () => items.map((item) => ({ type: "image_url", image_url: { url: item.url } })),
    // how many the chosen endpoint takes (undefined: no limit said); extra ones are let go
    limit(count) {
      most = count;
      if (most !== undefined && items.length > most) items = items.slice(0, most);
      show();
    },
    clear() {
      items = [];
      show();
    },
  };
}
