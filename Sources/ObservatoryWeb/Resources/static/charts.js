/*
 * Draws the dashboard charts with Chart.js from the JSON the server embeds in
 * <script type="application/json" id="chart-data">. The tables on each page
 * carry the same figures, so when Chart.js is not installed the charts are
 * replaced by a short note instead of failing. Colors come from the CSS
 * custom properties in style.css so there is one palette.
 */
'use strict';

(function () {
  const MISSING_TEXT =
    'Charts need Chart.js (Debian package libjs-chart.js); the table has the same figures.';
  const LABEL_MAX = 24;

  let instances = [];

  function cssVar(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function palette() {
    return {
      text: cssVar('--text-muted', '#5e6a7a'),
      grid: cssVar('--chart-grid', '#e6e9ee'),
      font: cssVar('--font', 'system-ui, sans-serif'),
      series1: cssVar('--chart-1', '#2d6cdf'),
      series2: cssVar('--chart-2', '#7a5bd3'),
      series3: cssVar('--chart-3', '#e07800'),
      health: {
        green: cssVar('--health-green', '#2f9e5f'),
        yellow: cssVar('--health-yellow', '#dba300'),
        red: cssVar('--health-red', '#d53b3b'),
        critical: cssVar('--health-critical', '#7d0f55'),
      },
    };
  }

  // A row's health comes from the server (observability.health() decides it, the
  // one place its thresholds live); the palette only colors it. A value the palette
  // does not know, which the server never sends, is drawn in the text color.
  function healthColor(colors, item) {
    const health = item && item.health;
    return Object.hasOwn(colors.health, health) ? colors.health[health] : colors.text;
  }

  function truncate(text, max) {
    const s = String(text);
    return s.length > max ? s.slice(0, max - 1) + '\u2026' : s;
  }

  function num(value) {
    const n = Number(value);
    return value === null || value === undefined || !Number.isFinite(n) ? null : n;
  }

  function formatNumber(value, digits) {
    if (value === null || value === undefined || !Number.isFinite(Number(value))) return '–';
    return Number(value).toLocaleString(undefined, {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  }

  function pad2(n) {
    return String(n).padStart(2, '0');
  }

  // Summary labels are ISO instants; Chart.js has no date adapter here, so the
  // time axis is a category axis of preformatted local times.
  function timeLabels(isoLabels) {
    const dates = isoLabels.map((s) => new Date(s));
    const valid = dates.filter((d) => !Number.isNaN(d.getTime()));
    const spanMs = valid.length > 1 ? valid[valid.length - 1] - valid[0] : 0;
    const withDate = Math.abs(spanMs) > 24 * 3600 * 1000;
    return dates.map((d, i) => {
      if (Number.isNaN(d.getTime())) return String(isoLabels[i]);
      const hm = pad2(d.getHours()) + ':' + pad2(d.getMinutes());
      return withDate ? pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' + hm : hm;
    });
  }

  function canvasById(id) {
    const el = document.getElementById(id);
    return el instanceof HTMLCanvasElement ? el : null;
  }

  // Chart.js sizes a responsive chart to the canvas's parent, so each canvas
  // gets a parent of its own with a fixed height (see .chart-canvas).
  function ensureWrapper(canvas) {
    const parent = canvas.parentElement;
    if (parent && parent.classList.contains('chart-canvas')) return;
    const wrap = document.createElement('div');
    wrap.className = 'chart-canvas';
    canvas.replaceWith(wrap);
    wrap.appendChild(canvas);
  }

  function destroyAll() {
    for (const chart of instances) chart.destroy();
    instances = [];
  }

  function create(canvas, config) {
    ensureWrapper(canvas);
    const existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    instances.push(new Chart(canvas, config));
  }

  function baseOptions(colors) {
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: { intersect: false, mode: 'index' },
      },
      scales: {
        x: {
          grid: { display: false },
          ticks: { color: colors.text, maxRotation: 45, autoSkip: true },
        },
        y: {
          beginAtZero: true,
          grid: { color: colors.grid },
          ticks: { color: colors.text },
        },
      },
    };
  }

  // Category tick callback that shortens long names; tooltips keep the full name.
  function truncatedTicks() {
    return function (value) {
      return truncate(this.getLabelForValue(value), LABEL_MAX);
    };
  }

  // opts.markers, optional: points drawn over the bars ({label, values, urls, color,
  // hint}); clicking one opens its url, the example trace behind the figure.
  function barChart(canvas, colors, names, values, opts) {
    const options = baseOptions(colors);
    options.scales.x.ticks.callback = truncatedTicks();
    const markers = opts.markers;
    options.plugins.tooltip.callbacks = {
      label: (ctx) => {
        if (markers && ctx.datasetIndex === 1) {
          return ' ' + markers.label + ': ' + opts.format(ctx.parsed.y) +
            (markers.urls[ctx.dataIndex] ? ' (' + markers.hint + ')' : '');
        }
        return ' ' + opts.format(ctx.parsed.y);
      },
    };
    if (opts.max !== undefined) options.scales.y.suggestedMax = opts.max;
    const datasets = [{
      label: opts.label,
      data: values,
      backgroundColor: opts.color,
      borderRadius: 2,
      maxBarThickness: 48,
    }];
    if (markers) {
      datasets.push({
        type: 'line',
        label: markers.label,
        data: markers.values,
        showLine: false,
        pointStyle: 'rectRot',
        pointRadius: 6,
        pointHoverRadius: 8,
        backgroundColor: markers.color,
        borderColor: markers.color,
      });
      options.plugins.legend = { display: true, labels: { color: colors.text, boxWidth: 12 } };
      options.onClick = (event, elements) => {
        const hit = elements.find((e) => e.datasetIndex === 1);
        const url = hit ? markers.urls[hit.index] : null;
        if (url) window.location.assign(url);
      };
      options.onHover = (event, elements) => {
        const hit = elements.some((e) => e.datasetIndex === 1 && markers.urls[e.index]);
        event.native.target.style.cursor = hit ? 'pointer' : '';
      };
    }
    create(canvas, { type: 'bar', data: { labels: names, datasets }, options });
  }

  // A same-origin path the server wrote, or null: a marker never navigates elsewhere.
  function localPath(value) {
    return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : null;
  }

  function drawKind(data, colors) {
    const rows = Array.isArray(data.rows) ? data.rows : [];
    const names = rows.map((r) => String(r.name));
    const colorOf = (item) => healthColor(colors, item);

    const usage = canvasById('chart-usage');
    if (usage) {
      barChart(usage, colors, names, rows.map((r) => num(r.count)), {
        label: 'Calls', color: colors.series1, format: (v) => formatNumber(v, 0) + ' calls',
      });
    }
    const latency = canvasById('chart-latency');
    if (latency) {
      barChart(latency, colors, names, rows.map((r) => num(r.avg_ms)), {
        label: 'Average latency', color: colors.series2, format: (v) => formatNumber(v, 1) + ' ms',
        markers: {
          label: 'p95', values: rows.map((r) => num(r.p95_ms)), urls: rows.map((r) => localPath(r.p95_url)),
          color: colors.series3, hint: 'click for an example trace',
        },
      });
    }
    const errors = canvasById('chart-errors');
    if (errors) {
      barChart(errors, colors, names, rows.map((r) => num(r.error_pct)), {
        label: 'Error rate', color: rows.map(colorOf), format: (v) => formatNumber(v, 1) + ' %',
      });
    }

    const top = canvasById('chart-top-errors');
    if (top) {
      const items = Array.isArray(data.top_errors) ? data.top_errors : [];
      const options = baseOptions(colors);
      options.indexAxis = 'y';
      options.scales = {
        x: {
          beginAtZero: true,
          suggestedMax: 100,
          grid: { color: colors.grid },
          ticks: { color: colors.text, callback: (v) => v + ' %' },
        },
        y: {
          grid: { display: false },
          ticks: { color: colors.text, autoSkip: false, callback: truncatedTicks() },
        },
      };
      options.plugins.tooltip.callbacks = {
        label: (ctx) => {
          const item = items[ctx.dataIndex] || {};
          const count = num(item.error_count);
          return ' ' + formatNumber(ctx.parsed.x, 1) + ' %' +
            (count === null ? '' : ' (' + formatNumber(count, 0) + ' errors)');
        },
      };
      create(top, {
        type: 'bar',
        data: {
          labels: items.map((r) => String(r.name)),
          datasets: [{
            label: 'Error rate',
            data: items.map((r) => num(r.error_pct)),
            backgroundColor: items.map(colorOf),
            borderRadius: 2,
            maxBarThickness: 22,
          }],
        },
        options,
      });
    }
  }

  function drawSummary(data, colors) {
    const canvas = canvasById('chart-timeseries');
    if (!canvas) return;
    const series = data.series || {};
    const labels = Array.isArray(series.labels) ? series.labels : [];
    const values = (key) => (Array.isArray(series[key]) ? series[key].map(num) : []);

    const options = baseOptions(colors);
    options.plugins.legend = {
      display: true,
      position: 'top',
      align: 'end',
      labels: { color: colors.text, boxWidth: 12, boxHeight: 12 },
    };
    options.interaction = { mode: 'index', intersect: false };
    options.scales.y.title = { display: true, text: 'requests', color: colors.text };
    options.scales.y1 = {
      position: 'right',
      beginAtZero: true,
      grid: { drawOnChartArea: false },
      ticks: { color: colors.text },
      title: { display: true, text: 'p95 ms', color: colors.text },
    };
    options.plugins.tooltip.callbacks = {
      label: (ctx) => {
        const v = ctx.parsed.y;
        if (ctx.dataset.yAxisID === 'y1') return ' p95: ' + formatNumber(v, 1) + ' ms';
        return ' ' + ctx.dataset.label + ': ' + formatNumber(v, 0);
      },
    };

    create(canvas, {
      type: 'bar',
      data: {
        labels: timeLabels(labels),
        datasets: [
          {
            label: 'Requests',
            data: values('requests'),
            backgroundColor: colors.series1,
            yAxisID: 'y',
            order: 2,
            maxBarThickness: 28,
          },
          {
            label: 'Errors',
            data: values('errors'),
            backgroundColor: colors.health.red,
            yAxisID: 'y',
            order: 2,
            maxBarThickness: 28,
          },
          {
            type: 'line',
            label: 'p95 latency',
            data: values('p95_ms'),
            borderColor: colors.series3,
            backgroundColor: colors.series3,
            borderWidth: 2,
            pointRadius: 2,
            tension: 0.2,
            spanGaps: false,
            yAxisID: 'y1',
            order: 1,
          },
        ],
      },
      options,
    });
  }

  function showMissing() {
    for (const canvas of document.querySelectorAll('.chart-box canvas')) {
      const note = document.createElement('p');
      note.className = 'chart-missing';
      note.textContent = MISSING_TEXT;
      const wrap = canvas.parentElement;
      if (wrap && wrap.classList.contains('chart-canvas')) wrap.replaceWith(note);
      else canvas.replaceWith(note);
    }
  }

  function readData() {
    const el = document.getElementById('chart-data');
    if (!el) return null;
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      const note = document.createElement('p');
      note.className = 'notice';
      note.textContent = 'Chart data could not be read; the table has the same figures.';
      el.replaceWith(note);
      return null;
    }
  }

  function draw() {
    if (typeof Chart === 'undefined') {
      showMissing();
      return;
    }
    destroyAll();
    const data = readData();
    if (!data || typeof data !== 'object') return;

    const colors = palette();
    Chart.defaults.font.family = colors.font;
    Chart.defaults.color = colors.text;
    Chart.defaults.borderColor = colors.grid;

    if (data.page === 'kind') drawKind(data, colors);
    else if (data.page === 'summary') drawSummary(data, colors);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', draw);
  } else {
    draw();
  }
  document.addEventListener('observatory:refreshed', draw);

  window.ObservatoryCharts = { draw };
})();
