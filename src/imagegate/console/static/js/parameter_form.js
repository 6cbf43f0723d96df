// A form generated from an endpoint's typed parameter descriptors (the same ones the gateway
// validates against): an enum is a select, a range a slider with a number input bounded by it,
// a boolean a toggle. Only what the user changed is sent, so the provider's defaults stay.
import { el } from "./dom.js";

// Parameters the descriptors publish that are not values to type: reference images (uploaded),
// partial previews (the stream toggle), and flags saying an endpoint accepts a kind of image.
export const NOT_FIELDS = new Set([
  "input_references",
  "partial_images",
  "mask",
  "first_frame",
  "last_frame",
]);
const SLIDER_STEPS = 10000; // past this many steps a slider is no help (a seed): a number alone

// One set of descriptors from several: "union" (what any of a model's endpoints takes, for
// "any provider") or "common" (what every one of several models takes, for Compare).
export function mergeDescriptors(sets, how = "union") {
  const merged = {};
  const names = new Set(sets.flatMap((set) => Object.keys(set)));
  for (const name of names) {
    const present = sets.map((set) => set[name]).filter(Boolean);
    if (how === "common" && present.length < sets.length) continue;
    const kinds = new Set(present.map((descriptor) => descriptor.type));
    if (kinds.size !== 1) continue; // a duration that is an enum here and a range there
    const [kind] = kinds;
    if (kind === "enum") {
      let values = present[0].values;
      for (const other of present.slice(1)) {
        values =
          how === "union"
            ? [...values, ...other.values.filter((value) => !values.includes(value))]
            : values.filter((value) => other.values.includes(value));
      }
      if (values.length) merged[name] = { type: "enum", values };
    } else if (kind === "range") {
      const pick = how === "union" ? [Math.min, Math.max] : [Math.max, Math.min];
      const min = pick[0](...present.map((descriptor) => descriptor.min));
      const max = pick[1](...present.map((descriptor) => descriptor.max));
      const steps = new Set(present.map((descriptor) => descriptor.step).filter(Boolean));
      const range = { type: "range", min, max };
      if (steps.size === 1) [range.step] = steps;
      if (min <= max) merged[name] = range;
    } else {
      merged[name] = { type: kind };
    }
  }
  return merged;
}

export function label(name) {
  const words = name.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function coerce(value, type) {
  if (type === "integer") return Number.parseInt(value, 10);
  if (type === "number") return Number.parseFloat(value);
  return value;
}

function selectField(id, descriptor) {
  const input = el(
    "select",
    { id },
    el("option", { value: "" }, "default"),
    descriptor.values.map((value) => el("option", { value }, String(value))),
  );
  const write = (value) => {
    const known = value === "" || descriptor.values.map(String).includes(String(value));
    input.value = known ? String(value) : "";
    return known;
  };
  return { input, read: () => input.value, write };
}

function rangeField(id, name, descriptor, type) {
  const step = descriptor.step ?? (type === "integer" ? 1 : "any");
  const bounds = { min: descriptor.min, max: descriptor.max, step };
  const number = el("input", {
    id,
    type: "number",
    inputmode: type === "integer" ? "numeric" : "decimal",
    placeholder: "default",
    ...bounds,
  });
  const span =
    (descriptor.max - descriptor.min) / (descriptor.step || (type === "integer" ? 1 : 0.01));
  let slider = null;
  if (span <= SLIDER_STEPS) {
    slider = el("input", {
      type: "range",
      "aria-label": `${label(name)} slider`,
      class: "unset",
      ...bounds,
      value: descriptor.min,
      step: descriptor.step ?? (type === "integer" ? 1 : (descriptor.max - descriptor.min) / 100),
    });
    slider.addEventListener("input", () => {
      number.value = slider.value;
      slider.classList.remove("unset");
    });
    number.addEventListener("input", () => {
      if (number.value === "") slider.classList.add("unset");
      else {
        slider.value = number.value;
        slider.classList.remove("unset");
      }
    });
  }
  const write = (value) => {
    number.value = value === "" ? "" : String(value);
    number.dispatchEvent(new Event("input"));
  };
  return {
    input: number,
    control: el("div", { class: "range-pair" }, slider, number),
    read: () => number.value,
    write,
    hint: `${descriptor.min} – ${descriptor.max}${descriptor.step ? `, step ${descriptor.step}` : ""}`,
  };
}

// A toggle with three states: the provider's default (indeterminate: nothing is sent) until the
// user clicks it, then on or off, both sent.
function toggleField(id) {
  const input = el("input", { id, type: "checkbox" });
  const state = el("span", { class: "toggle-state hint", id: `${id}-state` }, "default");
  const show = () => {
    state.textContent = input.dataset.changed ? (input.checked ? "on" : "off") : "default";
  };
  const write = (value) => {
    if (value === "") {
      delete input.dataset.changed;
      input.checked = false;
      input.indeterminate = true;
    } else {
      input.dataset.changed = "1";
      input.indeterminate = false;
      input.checked = value === true || value === "true";
    }
    show();
  };
  input.indeterminate = true;
  input.addEventListener("change", () => {
    input.dataset.changed = "1";
    show();
  });
  return {
    input,
    state,
    read: () => (input.dataset.changed ? input.checked : ""),
    write,
  };
}

function textField(id) {
  const input = el("input", { id, type: "text", placeholder: "none", autocomplete: "off" });
  return { input, read: () => input.value.trim(), write: (value) => (input.value = value) };
}

// The form for `descriptors`; `help` from parameterHelp(). `prefix` keeps ids unique on a page.
// Returns {node, values(), fill(params) -> names it has no field for, reset()}.
export function parameterForm(descriptors, help = {}, { prefix = "param" } = {}) {
  const order = Object.keys(help);
  const names = Object.keys(descriptors)
    .filter((name) => !NOT_FIELDS.has(name))
    .sort((a, b) => {
      const [i, j] = [order.indexOf(a), order.indexOf(b)];
      if (i === -1 || j === -1) return i === j ? a.localeCompare(b) : i === -1 ? 1 : -1;
      return i - j;
    });
  const fields = new Map();
  const rows = names.map((name) => {
    const descriptor = descriptors[name];
    const fallback = { boolean: "boolean", range: "number" }[descriptor.type] || "string";
    const type = help[name]?.type || fallback;
    const id = `${prefix}-${name}`;
    let field;
    if (descriptor.type === "enum") field = selectField(id, descriptor);
    else if (descriptor.type === "range") field = rangeField(id, name, descriptor, type);
    else if (type === "boolean") field = toggleField(id);
    else field = textField(id); // a boolean descriptor of a text: "accepts a negative prompt"
    fields.set(name, { ...field, type });
    const about = [help[name]?.description, field.hint].filter(Boolean).join(" · ");
    const aboutNode = about ? el("span", { class: "hint", id: `${id}-help` }, about) : null;
    const described = [field.state?.id, aboutNode?.id].filter(Boolean).join(" ");
    if (described) field.input.setAttribute("aria-describedby", described);
    if (field.state) {
      return el(
        "div",
        { class: "field toggle", dataset: { parameter: name, kind: "boolean" } },
        el(
          "div",
          { class: "inline" },
          field.input,
          el("label", { for: id }, label(name)),
          field.state,
        ),
        aboutNode,
      );
    }
    return el(
      "div",
      { class: "field", dataset: { parameter: name, kind: descriptor.type } },
      el("label", { for: id }, label(name)),
      field.control || field.input,
      aboutNode,
    );
  });
  const node = el(
    "div",
    { class: "parameter-form" },
    rows.length ? rows : el("p", { class: "hint" }, "This model takes only a prompt."),
  );

  function values() {
    const chosen = {};
    for (const [name, field] of fields) {
      const value = field.read();
      if (value === "" || value === undefined) continue;
      chosen[name] = typeof value === "boolean" ? value : coerce(value, field.type);
    }
    return chosen;
  }

  function fill(params) {
    const unknown = [];
    for (const [name, value] of Object.entries(params || {})) {
      const field = fields.get(name);
      if (!field || value === null || value === undefined || field.write(value) === false) {
        unknown.push(name);
      }
    }
    return unknown;
  }

  function reset() {
    for (const field of fields.values()) field.write("");
  }

  return { node, values, fill, reset };
}
