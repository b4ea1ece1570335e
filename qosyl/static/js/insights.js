// Insights pages (issue 13): each chart drawn by Chart.js (vendor/chart.umd.js, which only
// these pages load) from the numbers its canvas carries (JSON in data-insights-chart). The
// data tables stay in the page for whoever does not see the canvas; once a chart is drawn
// its table folds into "Show data table".

// Colours come from the stylesheet, so the charts follow its light and dark schemes.
function palette() {
  const style = getComputedStyle(document.documentElement);
  const value = (name) => style.getPropertyValue(name).trim();
  return {
    text: value("--text"),
    muted: value("--muted"),
    grid: value("--border"),
    lines: [value("--chart-1"), value("--chart-2"), value("--chart-3")],
  };
}

function draw(Chart, canvas) {
  const data = JSON.parse(canvas.dataset.insightsChart);
  const colours = palette();
  const axis = { ticks: { color: colours.muted }, grid: { color: colours.grid } };
  Chart.getChart(canvas)?.destroy();
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: data.series.map((series, index) => ({
        label: series.label,
        data: series.values,
        borderColor: colours.lines[index % colours.lines.length],
        backgroundColor: colours.lines[index % colours.lines.length],
        pointRadius: data.labels.length > 31 ? 0 : 2,
        tension: 0.2,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { ...axis, ticks: { ...axis.ticks, maxRotation: 0, autoSkip: true } },
        y: { ...axis, beginAtZero: true, ticks: { ...axis.ticks, precision: 0 } },
      },
      plugins: { legend: { labels: { color: colours.text } } },
    },
  });
}

function csrfToken() {
  try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch { return ""; }
}

// With no zone stored, days are cut in UTC: store the browser's zone once, then show the
// page again cut in it. Once per tab session, so a zone the server refuses is not retried
// on every page.
async function adoptBrowserZone(root) {
  if (!root.hasAttribute("data-zone-unset")) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || sessionStorage.getItem("qosyl:zone-sent")) return;
  sessionStorage.setItem("qosyl:zone-sent", zone);
  const response = await fetch(root.dataset.zoneUrl, {
    method: "POST",
    headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
    body: new URLSearchParams({ time_zone: zone }),
  });
  if (response.ok) window.location.reload();
}

function start() {
  const root = document.querySelector("[data-insights]");
  if (!root) return;
  adoptBrowserZone(root);
  const { Chart } = window;
  for (const canvas of root.querySelectorAll("canvas[data-insights-chart]")) {
    if (Chart.getChart(canvas)) continue;
    draw(Chart, canvas);
    canvas.closest("section").querySelector("details[data-chart-table]").open = false;
  }
}

// Redrawn when the system switches between light and dark.
function redraw() {
  for (const canvas of document.querySelectorAll("canvas[data-insights-chart]")) {
    if (window.Chart.getChart(canvas)) draw(window.Chart, canvas);
  }
}

start();
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redraw);
