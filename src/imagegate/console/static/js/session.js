// The key chip in the header: who the console talks as, and the dialog to type a key.
import { getKey, setKey, whoami } from "./api.js";
import { $ } from "./dom.js";

const LABELS = {
  protected: "no key needed (protected mode)",
  master: "master key",
  none: "no key: sign in",
};

async function show() {
  const chip = $("#who");
  chip.textContent = "checking…";
  try {
    const who = await whoami();
    chip.dataset.mode = who.mode;
    chip.textContent =
      who.mode === "key" ? `key ${who.record.name || who.record.label || ""}`.trim() : LABELS[who.mode];
    if (who.mode === "none" && getKey()) {
      chip.textContent = "key refused: sign in again";
      chip.title = who.error; // the gateway's own words: not valid, or revoked
    } else {
      chip.removeAttribute("title");
    }
    document.body.dataset.mode = who.mode;
  } catch (error) {
    chip.dataset.mode = "error";
    chip.textContent = `gateway unreachable: ${error.message}`;
  }
}

function wire() {
  const dialog = $("#key-dialog");
  $("#key-button").addEventListener("click", () => {
    $("#key-input").value = getKey() || "";
    dialog.returnValue = ""; // Escape closes with no value: never the last one
    dialog.showModal();
  });
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "save") setKey($("#key-input").value.trim() || null);
    if (dialog.returnValue === "forget") setKey(null);
    $("#key-input").value = "";
  });
  $("#theme-button").addEventListener("click", () => {
    const root = document.documentElement;
    const dark =
      root.dataset.theme === "dark" ||
      (!root.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("imagegate.theme", root.dataset.theme);
  });
  window.addEventListener("imagegate:key", show);
}

wire();
show();
