// A model's parameters as a readable table: one row per parameter, one column per endpoint.
import { el } from "./dom.js";

export function describe(descriptor) {
  if (!descriptor) return "—";
  if (descriptor.type === "enum") return descriptor.values.join(", ");
  if (descriptor.type === "range") {
    const step = descriptor.step ? ` (step ${descriptor.step})` : "";
    return `${descriptor.min} – ${descriptor.max}${step}`;
  }
  if (descriptor.type === "boolean") return "yes / no";
  return JSON.stringify(descriptor);
}

const KINDS = { enum: "one of", range: "number", boolean: "toggle" };

export function parameterTable(endpoints, help = {}) {
  const names = [...new Set(endpoints.flatMap((e) => Object.keys(e.supported_parameters)))].sort();
  if (!names.length) return el("p", { class: "hint" }, "Only a prompt.");
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "parameters" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, "Parameter"),
          endpoints.map((endpoint) => el("th", { scope: "col" }, endpoint.provider_name)),
        ),
      ),
      el(
        "tbody",
        {},
        names.map((name) => {
          const kinds = new Set(
            endpoints.map((e) => e.supported_parameters[name]?.type).filter(Boolean),
          );
          return el(
            "tr",
            { dataset: { parameter: name } },
            el(
              "th",
              { scope: "row" },
              el("code", {}, name),
              el("div", { class: "hint" }, [...kinds].map((kind) => KINDS[kind]).join(", ")),
              help[name]?.description ? el("div", { class: "hint" }, help[name].description) : null,
            ),
            endpoints.map((endpoint) =>
              el("td", {}, describe(endpoint.supported_parameters[name])),
            ),
          );
        }),
      ),
    ),
  );
}
