// Device pages. The Content-Security-Policy forbids inline scripts: everything is wired here.
"use strict";

// The list's "select all" box ticks every device checkbox of the page (bulk actions).
document.addEventListener("change", function (event) {
  var box = event.target.closest("[data-select-all]");
  if (!box) return;
  var table = box.closest("table");
  table.querySelectorAll("input[type=checkbox][name=" + box.dataset.selectAll + "]").forEach(function (item) {
    item.checked = box.checked;
  });
});

// The fleet overview's firmware chart: data from a json_script element, drawn with Chart.js.
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("firmware-chart");
  var source = document.getElementById("firmware-chart-data");
  if (!canvas || !source || typeof window.Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [{ label: data.title, data: data.counts, backgroundColor: "#0d6efd" }]
    },
    options: {
      indexAxis: "y",
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }
    }
  });
});
