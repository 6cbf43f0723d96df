// A stacked bar chart of daily amounts, drawn with the vendored uPlot (the global `uPlot`): a
// bar per UTC day, a coloured layer per group. The legend follows the cursor and shows each
// group's own amount that day and the day's total (the layers hold running sums, to stack).
const DAY_SECONDS = 86400;
const HEIGHT = 300;
// Distinct on light and dark backgrounds alike; repeats after ten groups.
const PALETTE = [
  "#4c6ef5",
  "#f76707",
  "#2f9e44",
  "#e03131",
  "#ae3ec9",
  "#1098ad",
  "#f59f00",
  "#d6336c",
  "#74b816",
  "#868e96",
];

export function colourOf(index) {
  return PALETTE[index % PALETTE.length];
}

// `days`: UTC midnights in seconds; `groups`: [{name, values: [amount per day]}], the first at
// the bottom of each bar; `format`: an amount as text (the axis and the legend); `summary`: what
// the picture says, for a screen reader (the legend stays readable: it is text).
export function stackedDailyChart(holder, days, groups, format, summary) {
  holder.replaceChildren();
  const style = getComputedStyle(document.documentElement);
  const muted = style.getPropertyValue("--muted").trim();
  const line = style.getPropertyValue("--line").trim();
  const totals = days.map((_, day) => groups.reduce((sum, group) => sum + group.values[day], 0));
  let running = days.map(() => 0);
  const stacked = groups.map((group) => {
    running = running.map((sum, day) => sum + group.values[day]);
    return running;
  });
  // uPlot paints series in order, each over the last: the whole stack first, the bottom last.
  const order = groups.map((_, index) => index).reverse();
  const bars = uPlot.paths.bars({ size: [0.7, 48], align: 0 });
  const shown = (amounts) => (_, __, ___, day) =>
    day === null || day === undefined ? "—" : format(amounts[day]);
  const options = {
    width: holder.clientWidth || 600,
    height: HEIGHT,
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
    scales: {
      x: {
        time: true,
        range: [days[0] - DAY_SECONDS / 2, days[days.length - 1] + DAY_SECONDS / 2],
      },
      y: { range: (_, __, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } },
      {
        stroke: muted,
        size: 72,
        grid: { stroke: line, width: 1 },
        ticks: { stroke: line, width: 1 },
        values: (_, ticks) => ticks.map((tick) => format(tick)),
      },
    ],
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    legend: { live: true },
    series: [
      { label: "Day (UTC)", value: "{YYYY}-{MM}-{DD}" },
      {
        label: "Total",
        stroke: muted,
        width: 0,
        paths: () => null,
        points: { show: false },
        value: shown(totals),
      },
      ...order.map((index) => ({
        label: groups[index].name,
        stroke: colourOf(index),
        fill: colourOf(index),
        width: 0, // no outline: a day with nothing is no bar at all
        paths: bars,
        points: { show: false },
        value: shown(groups[index].values),
      })),
    ],
  };
  const plot = new uPlot(options, [days, totals, ...order.map((index) => stacked[index])], holder);
  const picture = plot.root.querySelector(".u-wrap");
  picture.setAttribute("role", "img");
  picture.setAttribute("aria-label", summary);
  const resizing = new ResizeObserver(() => {
    const width = holder.clientWidth;
    if (width && width !== plot.width) plot.setSize({ width, height: HEIGHT });
  });
  resizing.observe(holder);
  return {
    plot,
    destroy() {
      resizing.disconnect();
      plot.destroy();
    },
  };
}
