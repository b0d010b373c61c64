// Upgrade pages. The Content-Security-Policy forbids inline scripts: everything is wired here.
"use strict";

// The job page's chart of devices by state: data from a json_script element, drawn with
// Chart.js; drawn again whenever htmx swaps in a fresh copy of the job's live part.
var jobChart = null;

function drawJobChart() {
  var canvas = document.getElementById("job-chart");
  var source = document.getElementById("job-chart-data");
  if (!canvas || !source || typeof window.Chart === "undefined") return;
  if (jobChart && jobChart.canvas === canvas) return;
  var data = JSON.parse(source.textContent);
  if (jobChart) jobChart.destroy();
  jobChart = new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [{ data: data.counts, backgroundColor: data.colours }]
    },
    options: {
      indexAxis: "y",
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }
    }
  });
}

document.addEventListener("DOMContentLoaded", drawJobChart);
document.addEventListener("htmx:afterSettle", drawJobChart);
