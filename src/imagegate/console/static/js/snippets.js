// "Copy as": a request to a model from curl, the openai SDK (Python) and @openrouter/sdk
// (TypeScript), pointed at this gateway.
import { el } from "./dom.js";

export function snippets(model, origin, prompt = "a lighthouse at dusk, oil painting") {
  const body = JSON.stringify({ model, prompt }, null, 2);
  return {
    curl: [
      `curl ${origin}/api/v1/images \\`,
      `  -H "Authorization: Bearer $IMAGEGATE_API_KEY" \\`,
      `  -H "Content-Type: application/json" \\`,
      `  -d '${body.replaceAll("'", "'\\''")}'`,
    ].join("\n"),
    python: [
      "import base64",
      "import os",
      "",
      "from openai import OpenAI",
      "",
      `client = OpenAI(base_url="${origin}/v1", api_key=os.environ["IMAGEGATE_API_KEY"])`,
      "result = client.images.generate(",
      `    model=${JSON.stringify(model)},`,
      `    prompt=${JSON.stringify(prompt)},`,
      ")",
      'with open("image.png", "wb") as out:',
      "    out.write(base64.b64decode(result.data[0].b64_json))",
    ].join("\n"),
    typescript: [
      'import { OpenRouter } from "@openrouter/sdk";',
      "",
      "const openRouter = new OpenRouter({",
      "  apiKey: process.env.IMAGEGATE_API_KEY,",
      `  serverURL: "${origin}/api/v1",`,
      "});",
      "const result = await openRouter.images.generate({",
      `  imageGenerationRequest: { model: ${JSON.stringify(model)}, prompt: ${JSON.stringify(prompt)} },`,
      "});",
      "console.log(result.data[0].b64Json.length);",
    ].join("\n"),
  };
}

const TITLES = { curl: "curl", python: "Python (openai)", typescript: "TypeScript (@openrouter/sdk)" };

export function snippetTabs(model, origin) {
  const texts = snippets(model, origin);
  const code = el("code", {});
  const pre = el("pre", { id: "snippet-text", tabindex: "0" }, code);
  const status = el("span", { class: "hint", role: "status", "aria-live": "polite" });
  const tabs = el("div", { class: "tabs", role: "tablist", "aria-label": "Copy as" });
  let shown = "curl";
  const choose = (name) => {
    shown = name;
    code.textContent = texts[name];
    for (const tab of tabs.children) tab.setAttribute("aria-selected", String(tab.dataset.name === name));
    status.textContent = "";
  };
  for (const name of Object.keys(texts)) {
    tabs.append(
      el("button", { type: "button", role: "tab", dataset: { name }, onclick: () => choose(name) }, TITLES[name]),
    );
  }
  const copy = el(
    "button",
    {
      type: "button",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(texts[shown]);
          status.textContent = "Copied.";
        } catch {
          const range = document.createRange();
          range.selectNodeContents(code);
          getSelection().removeAllRanges();
          getSelection().addRange(range);
          status.textContent = "Selected: press Ctrl+C to copy.";
        }
      },
    },
    "Copy",
  );
  choose("curl");
  return el("div", {}, tabs, pre, el("div", { class: "actions" }, copy, status));
}
