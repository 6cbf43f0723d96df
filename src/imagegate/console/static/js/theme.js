// Dark or light before the first paint: the user's choice (kept in this browser), else the system's.
(() => {
  const chosen = localStorage.getItem("imagegate.theme");
  if (chosen === "dark" || chosen === "light") document.documentElement.dataset.theme = chosen;
})();
