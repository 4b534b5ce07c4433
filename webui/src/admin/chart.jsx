// One Chart.js chart on a canvas, re-drawn when its data or the theme
// changes. The canvas is an image with a text summary for screen readers.
import { useEffect, useRef } from "preact/hooks";
import {
  Chart,
  BarController,
  BarElement,
  LineController,
  LineElement,
  PointElement,
  CategoryScale,
  LinearScale,
  Tooltip,
  Legend,
} from "chart.js";
import { theme } from "../theme.js";
import { useSignal } from "../signal.js";

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/** The series colours, by the meaning of the series (tone names of styles.css). */
export function tone(name) {
  return cssVar("--" + name);
}

/** series: [{label, data: [numbers], tone: "ok"|"warn"|..., }] */
export function ChartBox({ id, type = "bar", labels, series, stacked, percent, summary, height = 220 }) {
  const ref = useRef(null);
  const t = useSignal(theme);
  useEffect(() => {
    if (!ref.current) return;
    const text = cssVar("--muted");
    const grid = cssVar("--border");
    const chart = new Chart(ref.current, {
      type,
      data: {
        labels,
        datasets: series.map((s) => ({
          label: s.label,
          data: s.data,
          backgroundColor: tone(s.tone),
          borderColor: tone(s.tone),
          borderWidth: type === "line" ? 2 : 0,
          pointRadius: type === "line" ? 2 : 0,
          spanGaps: true,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked, ticks: { color: text, maxRotation: 0, autoSkip: true, maxTicksLimit: 8 }, grid: { color: grid } },
          y: {
            stacked,
            beginAtZero: true,
            ticks: { color: text, precision: 0, callback: percent ? (v) => v + " %" : undefined },
            grid: { color: grid },
            max: percent ? 100 : undefined,
          },
        },
        plugins: {
          legend: { labels: { color: text, boxWidth: 12 } },
          tooltip: percent ? { callbacks: { label: (c) => `${c.dataset.label}: ${c.parsed.y == null ? "no mail" : c.parsed.y.toFixed(1) + " %"}` } } : {},
        },
      },
    });
    return () => chart.destroy();
  }, [labels, series, t, type, stacked, percent]);
  return (
    <div class="chart" style={{ height: height + "px" }}>
      <canvas id={id} ref={ref} role="img" aria-label={summary} />
    </div>
  );
}
