// What each request parameter means and what type it takes, as the gateway's own OpenAPI
// document says (its request schema is generated from the catalog's parameter table); the
// document is read once per page.
import { root } from "./api.js";

let document_ = null;
let help = null;

export function openapi() {
  document_ ??= fetch(`${root}/openapi.json`).then((answer) => answer.json());
  return document_;
}

// {name: {description, type}}, in the document's order; {} when it cannot be read.
export function parameterHelp() {
  help ??= openapi()
    .then((spec) => {
      const properties = spec.components.schemas.OpenRouterImageRequest.properties;
      const found = {};
      for (const [name, property] of Object.entries(properties)) {
        const types = [property.type].flat().filter((type) => type && type !== "null");
        found[name] = {
          description: (property.description || "").replace(/; null means left out$/, ""),
          type: types[0] || "string",
        };
      }
      return found;
    })
    .catch(() => ({}));
  return help;
}
