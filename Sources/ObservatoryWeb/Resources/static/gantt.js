/*
 * Gantt chart of one trace on the trace detail page: one row per span in tree
 * order, bars placed on a shared time axis, collapsible subtrees, zoom and
 * pan, hover details, and a click that finds the span's row in the server's
 * span table (on another page of it when the table is paged). For a very large
 * trace the server sends an outline: summary rows stand for the spans it left
 * out, with their time range as a hatched bar and a link to where the table
 * lists them. Span fields are untrusted, so every string goes in through
 * textContent or setAttribute. Nothing recurses: chains can be thousands deep.
 */
'use strict';

(function () {
  const INDENT_PX = 14;
  const STATUSES = ['ok', 'error', 'unset'];
  const DRAG_THRESHOLD_PX = 3;

  function formatMs(ms) {
    const v = Number(ms);
    if (!Number.isFinite(v)) return '–';
    const a = Math.abs(v);
    if (a >= 1000) return (v / 1000).toFixed(a >= 10000 ? 1 : 2) + ' s';
    if (a >= 10) return v.toFixed(1) + ' ms';
    if (a === 0) return '0 ms';
    if (a >= 0.01) return v.toFixed(2) + ' ms';
    return v.toFixed(3) + ' ms';
  }

  // 1, 2 or 5 times a power of ten, giving about `count` ticks over `range`.
  function niceStep(range, count) {
    const raw = range / Math.max(count, 1);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  }

  function tickText(t, step) {
    if (t === 0) return '0';
    if (step >= 100) {
      const digits = Math.max(0, -Math.floor(Math.log10(step / 1000)));
      return (t / 1000).toFixed(Math.min(digits, 3)) + ' s';
    }
    const digits = Math.max(0, -Math.floor(Math.log10(step)));
    return t.toFixed(Math.min(digits, 4)) + ' ms';
  }

  const { el, num, count } = window.ObservatoryTraceModel;

  function statusOf(span) {
    return STATUSES.includes(span.status) ? span.status : 'unset';
  }

  function legend() {
    const box = el('div', 'gantt-legend');
    const items = [
      ['status-ok', 'OK'],
      ['status-error', 'Error'],
      ['status-unset', 'Unset'],
      ['critical', 'red border = critical path'],
      ['slow', 'striped = slow'],
      ['rank-high', 'p90 and up for its target'],
    ];
    for (const [cls, text] of items) {
      const item = el('span', 'legend-item');
      item.appendChild(el('span', 'legend-swatch ' + cls));
      item.appendChild(document.createTextNode(text));
      box.appendChild(item);
    }
    return box;
  }

  function tooltipLines(span) {
    const status = statusOf(span);
    return [
      'service: ' + String(span.service ?? ''),
      'operation: ' + String(span.operation ?? ''),
      span.target != null ? 'target: ' + String(span.target) : null,
      'start: +' + formatMs(span.start_offset_ms),
      'duration: ' + formatMs(span.duration_ms),
      'status: ' + status,
      span.status_message != null ? 'message: ' + String(span.status_message) : null,
      span.critical ? 'on the critical path' : null,
      span.slow ? 'slow' : null,
      rankLine(span.rank),
    ];
  }

  // "rank: p97 of 1,062 durations of its target in the last 24 hours"; null without one.
  function rankLine(rank) {
    if (!rank || typeof rank !== 'object' || typeof rank.label !== 'string') return null;
    return 'rank: ' + rank.label + ' of ' + count(rank.sample_count) + ' durations of its target in the last 24 hours';
  }

  // The rank's band as a class name: only the two the page colours.
  function rankClass(rank) {
    return rank && (rank.band === 'high' || rank.band === 'extreme') ? 'rank-' + rank.band : null;
  }

  // Moves the highlight in the server-rendered span table to this span's row;
  // `elsewhere` is the address of the table page listing it when it is not here.
  function highlightTableRow(spanId, elsewhere) {
    for (const old of document.querySelectorAll('[id^="span-"].highlight')) old.classList.remove('highlight');
    const row = document.getElementById('span-' + spanId);
    if (!row) {
      if (elsewhere) window.location.assign(elsewhere);
      return;
    }
    row.scrollIntoView({ block: 'center' });
    void row.offsetWidth; // restart the flash animation when the same row is chosen again
    row.classList.add('highlight');
  }

  let relayout = null;
  window.addEventListener('resize', () => {
    if (relayout) relayout();
  });

  function render(data, container) {
    const root = container || document.getElementById('gantt');
    if (!root) return;
    root.replaceChildren();
    root.classList.remove('zoomed', 'panning');
    relayout = null;

    // ----- Model (trace-model.js) -----
    const model = window.ObservatoryTraceModel;
    const { spans, ids, parentOf, childrenOf, full, groups, limits } = model.build(data);
    if (spans.length === 0) {
      root.appendChild(el('p', 'notice', 'This trace has no spans.'));
      return;
    }
    const minWidth = Math.max(full * 1e-4, 1e-3);
    let view = { start: 0, end: full };
    const collapsed = new Set();

    // ----- Toolbar -----
    const toolbar = el('div', 'gantt-toolbar');
    const zoomIn = el('button', '', '+');
    zoomIn.id = 'gantt-zoom-in';
    zoomIn.type = 'button';
    zoomIn.title = 'Zoom in';
    zoomIn.setAttribute('aria-label', 'Zoom in');
    const zoomOut = el('button', '', '\u2212');
    zoomOut.id = 'gantt-zoom-out';
    zoomOut.type = 'button';
    zoomOut.title = 'Zoom out';
    zoomOut.setAttribute('aria-label', 'Zoom out');
    const reset = el('button', '', 'Reset');
    reset.id = 'gantt-reset';
    reset.type = 'button';
    reset.title = 'Show the whole trace';
    const zoomLabel = el('span', 'gantt-zoom-label');
    zoomLabel.setAttribute('aria-live', 'polite');
    toolbar.append(zoomIn, zoomOut, reset, zoomLabel, legend());

    // ----- Header with the time axis -----
    const header = el('div', 'gantt-header');
    header.appendChild(el('div', 'gantt-header-label', 'Span'));
    const axis = el('div', 'gantt-axis');
    header.appendChild(axis);

    // ----- Rows -----
    const body = el('div', 'gantt-body');
    const gridlines = el('div', 'gantt-gridlines');
    body.appendChild(gridlines);
    const rows = [];
    const rowById = new Map();
    const groupParents = new Set(groups.map((g) => g.parent).filter((p) => p !== null));
    const indentOf = (depth) => {
      const level = Math.max(0, Math.floor(num(depth, 0)));
      return (limits.indentLevels === null ? Math.min(level, spans.length) : Math.min(level, limits.indentLevels)) *
        INDENT_PX + 4;
    };

    // A summary row: the spans the server left out, as one hatched bar over their
    // time range, and a link to where the span table lists the first of them.
    function addGroupRow(group) {
      const row = el('div', 'gantt-row gantt-group');
      const label = el('div', 'gantt-label');
      label.style.paddingLeft = indentOf(group.depth) + 'px';
      label.appendChild(el('span', 'gantt-toggle-spacer'));
      const parentEntry = group.parent === null ? undefined : rowById.get(group.parent);
      const text = model.groupText(group, parentEntry ? String(parentEntry.span.name ?? '') : 'its parent');
      label.appendChild(el('span', 'gantt-group-name', text));
      label.title = text;
      if (group.firstRow >= 0 && group.firstSpanId) {
        const link = el('a', 'gantt-group-link', 'in the table');
        link.href = model.tableAddress(data, group.firstRow, group.firstSpanId) ||
          '#span-' + encodeURIComponent(group.firstSpanId);
        label.appendChild(link);
      }
      const track = el('div', 'gantt-track');
      const bar = el('div', 'gantt-bar gantt-group-bar');
      bar.title = text;
      if (group.hasRange) track.appendChild(bar);
      row.append(label, track);
      body.appendChild(row);
      rows.push({ id: null, group, row, bar: group.hasRange ? bar : null, barLabel: null, toggle: null });
    }

    let nextGroup = 0;
    spans.forEach((span, i) => {
      while (nextGroup < groups.length && groups[nextGroup].before <= i) addGroupRow(groups[nextGroup++]);
      const id = ids[i];
      const row = el('div', 'gantt-row');
      row.setAttribute('data-span-id', id);
      if (statusOf(span) === 'error') row.classList.add('is-error');

      const label = el('div', 'gantt-label');
      label.style.paddingLeft = indentOf(span.depth) + 'px';
      let toggle = null;
      if (childrenOf.has(id) || groupParents.has(id)) {
        toggle = el('button', 'gantt-toggle', '\u25BE');
        toggle.type = 'button';
        toggle.setAttribute('aria-expanded', 'true');
        toggle.setAttribute('aria-label', 'Collapse children');
        label.appendChild(toggle);
      } else {
        label.appendChild(el('span', 'gantt-toggle-spacer'));
      }
      const name = el('span', 'gantt-name', String(span.name ?? ''));
      label.title = String(span.name ?? '');
      label.appendChild(name);
      if (span.service != null) label.appendChild(el('span', 'gantt-service', String(span.service)));

      const track = el('div', 'gantt-track');
      const bar = el('div', 'gantt-bar status-' + statusOf(span));
      if (span.critical) bar.classList.add('critical');
      if (span.slow) bar.classList.add('slow');
      bar.setAttribute('data-span-id', id);
      bar.setAttribute('tabindex', '0');
      bar.setAttribute('role', 'button');
      bar.setAttribute('aria-label', String(span.name ?? '') + ', ' + formatMs(span.duration_ms));
      const barLabel = el('span', 'gantt-bar-label', formatMs(span.duration_ms));
      if (span.rank && typeof span.rank.label === 'string') {
        const mark = el('span', 'rank', span.rank.label);
        const band = rankClass(span.rank);
        if (band) mark.classList.add(band);
        barLabel.append(' ', mark);
      }
      track.append(bar, barLabel);

      row.append(label, track);
      body.appendChild(row);
      const entry = { id, span, row, bar, barLabel, toggle };
      rows.push(entry);
      rowById.set(id, entry);
    });
    while (nextGroup < groups.length) addGroupRow(groups[nextGroup++]);
    const spanRows = rows.filter((r) => r.group === undefined);

    root.append(toolbar, header, body);

    // ----- Visibility (collapse) -----
    // One pass in row order: the server sends spans in tree order, so a parent's
    // row always comes before its children's and summaries'.
    function applyVisibility() {
      const hidden = new Set();
      for (const r of rows) {
        const pid = r.group ? r.group.parent : parentOf.get(r.id);
        const isHidden = pid !== undefined && pid !== null && (collapsed.has(pid) || hidden.has(pid));
        r.row.hidden = isHidden;
        if (isHidden && r.id !== null) hidden.add(r.id);
      }
    }

    function setCollapsed(entry, isCollapsed) {
      if (isCollapsed) collapsed.add(entry.id);
      else collapsed.delete(entry.id);
      entry.toggle.textContent = isCollapsed ? '\u25B8' : '\u25BE';
      entry.toggle.setAttribute('aria-expanded', isCollapsed ? 'false' : 'true');
      entry.toggle.setAttribute('aria-label', isCollapsed ? 'Expand children' : 'Collapse children');
      applyVisibility();
    }

    // ----- Layout for the current view -----
    function drawAxis(width) {
      axis.replaceChildren();
      gridlines.replaceChildren();
      const span = view.end - view.start;
      const step = niceStep(span, Math.max(2, Math.floor(width / 90)));
      const spacingPx = (step / span) * width;
      const first = Math.ceil(view.start / step - 1e-9);
      for (let i = first; i * step <= view.end + step * 1e-9 && i - first < 100; i++) {
        const t = i * step;
        const pct = ((t - view.start) / span) * 100;
        let text = tickText(t, step);
        const tick = el('div', 'gantt-tick');
        tick.style.left = pct + '%';
        if (pct > 90) {
          // Right-aligned so it stays inside the axis; dropped if it would
          // crowd the previous label (about 7 px per character, plus gaps).
          tick.classList.add('end');
          if (spacingPx < 2 * text.length * 7 + 16) text = '';
        }
        if (text) tick.appendChild(el('span', 'gantt-tick-label', text));
        axis.appendChild(tick);
        const line = el('div', 'gantt-gridline');
        line.style.left = pct + '%';
        gridlines.appendChild(line);
      }
    }

    // Duration labels sit right of their bar, else left of it, else are hidden: the
    // track clips anything that would overflow it. Widths are measured once, all
    // together (one layout), since the labels' text never changes.
    function measureLabels() {
      for (const r of spanRows) r.barLabel.hidden = false;
      for (const r of spanRows) r.labelWidth = r.barLabel.offsetWidth;
    }

    function update() {
      const span = view.end - view.start;
      if (spanRows.length && spanRows[0].labelWidth === undefined) measureLabels();
      const track = spanRows.length ? spanRows[0].bar.parentElement : null;
      const trackWidth = (track && track.clientWidth) || 600;
      for (const r of rows) {
        if (r.group) {
          if (r.bar) {
            r.bar.style.left = ((r.group.start - view.start) / span) * 100 + '%';
            r.bar.style.width = 'max(' + ((r.group.end - r.group.start) / span) * 100 + '%, 2px)';
          }
          continue;
        }
        const offset = num(r.span.start_offset_ms, 0);
        const duration = Math.max(num(r.span.duration_ms, 0), 0);
        const left = ((offset - view.start) / span) * 100;
        const width = (duration / span) * 100;
        r.bar.style.left = left + '%';
        r.bar.style.width = 'max(' + width + '%, 2px)';
        const right = left + width;
        const needed = (r.labelWidth || 0) + 6;
        const roomRight = trackWidth * (1 - Math.max(right, 0) / 100);
        const roomLeft = trackWidth * Math.min(left, 100) / 100;
        const outside = right < 0 || left > 100;
        if (!outside && roomRight >= needed) {
          r.barLabel.hidden = false;
          r.barLabel.style.left = 'calc(' + Math.max(right, 0) + '% + 4px)';
          r.barLabel.style.right = '';
        } else if (!outside && roomLeft >= needed) {
          r.barLabel.hidden = false;
          r.barLabel.style.left = '';
          r.barLabel.style.right = 'calc(' + (100 - left) + '% + 4px)';
        } else {
          r.barLabel.hidden = true;
        }
      }
      drawAxis(axis.clientWidth || 600);
      root.setAttribute('data-view-start', String(Number(view.start.toFixed(3))));
      root.setAttribute('data-view-end', String(Number(view.end.toFixed(3))));
      root.setAttribute('data-full-end', String(Number(full.toFixed(3))));
      const factor = full / span;
      const zoomed = factor > 1.0001;
      root.classList.toggle('zoomed', zoomed);
      zoomLabel.textContent = (factor < 10 ? Number(factor.toFixed(1)) : Math.round(factor)) + '\u00D7 \u00B7 ' +
        formatMs(view.start) + ' \u2013 ' + formatMs(view.end);
    }

    function setView(start, end) {
      const width = Math.min(Math.max(end - start, minWidth), full);
      const s = Math.min(Math.max(start, 0), full - width);
      view = { start: s, end: s + width };
      update();
    }

    function zoomAround(t, factor) {
      const width = view.end - view.start;
      const frac = (t - view.start) / width;
      const next = width * factor;
      setView(t - frac * next, t - frac * next + next);
    }

    function trackRect() {
      return rows[0].row.querySelector('.gantt-track').getBoundingClientRect();
    }

    // ----- Interaction -----
    zoomIn.addEventListener('click', () => zoomAround((view.start + view.end) / 2, 0.5));
    zoomOut.addEventListener('click', () => zoomAround((view.start + view.end) / 2, 2));
    reset.addEventListener('click', () => setView(0, full));

    const onWheel = (event) => {
      if (!event.ctrlKey) return;
      event.preventDefault();
      const rect = trackRect();
      const frac = Math.min(Math.max((event.clientX - rect.left) / rect.width, 0), 1);
      const t = view.start + frac * (view.end - view.start);
      const steps = Math.min(Math.max(event.deltaY / 100, -1), 1);
      zoomAround(t, Math.pow(2, steps));
    };
    body.addEventListener('wheel', onWheel, { passive: false });
    header.addEventListener('wheel', onWheel, { passive: false });

    let suppressClick = false;
    body.addEventListener('pointerdown', (event) => {
      if (event.button !== 0 || !event.target.closest('.gantt-track')) return;
      if (!root.classList.contains('zoomed')) return;
      const startX = event.clientX;
      const startView = { ...view };
      const width = trackRect().width || 1;
      let dragging = false;
      const move = (e) => {
        const dx = e.clientX - startX;
        if (!dragging && Math.abs(dx) < DRAG_THRESHOLD_PX) return;
        if (!dragging) {
          dragging = true;
          root.classList.add('panning');
          window.ObservatoryTooltip?.hide();
        }
        const dt = (dx / width) * (startView.end - startView.start);
        setView(startView.start - dt, startView.end - dt);
      };
      const up = () => {
        window.removeEventListener('pointermove', move);
        window.removeEventListener('pointerup', up);
        window.removeEventListener('pointercancel', up);
        if (dragging) {
          root.classList.remove('panning');
          suppressClick = true;
          setTimeout(() => { suppressClick = false; }, 0);
        }
      };
      window.addEventListener('pointermove', move);
      window.addEventListener('pointerup', up);
      window.addEventListener('pointercancel', up);
    });

    function select(id) {
      const entry = id === null ? undefined : rowById.get(id);
      if (!entry) return;
      for (const r of rows) r.row.classList.toggle('selected', r.id === id);
      highlightTableRow(id, model.tableAddress(data, entry.span.row, id));
    }

    body.addEventListener('click', (event) => {
      if (suppressClick) return;
      const toggle = event.target.closest('.gantt-toggle');
      if (toggle) {
        const entry = rowById.get(toggle.closest('.gantt-row').getAttribute('data-span-id'));
        if (entry) setCollapsed(entry, !collapsed.has(entry.id));
        return;
      }
      const hit = event.target.closest('.gantt-bar, .gantt-name');
      if (hit) select(hit.closest('.gantt-row').getAttribute('data-span-id'));
    });

    body.addEventListener('keydown', (event) => {
      const bar = event.target.closest('.gantt-bar');
      if (bar && (event.key === 'Enter' || event.key === ' ')) {
        event.preventDefault();
        select(bar.getAttribute('data-span-id'));
      }
    });

    body.addEventListener('mouseover', (event) => {
      const bar = event.target.closest('.gantt-bar');
      if (!bar || root.classList.contains('panning') || !window.ObservatoryTooltip) return;
      const entry = rowById.get(bar.getAttribute('data-span-id'));
      if (entry) window.ObservatoryTooltip.show(event, String(entry.span.name ?? ''), tooltipLines(entry.span));
    });
    body.addEventListener('mousemove', (event) => {
      if (event.target.closest('.gantt-bar')) window.ObservatoryTooltip?.move(event);
    });
    body.addEventListener('mouseout', (event) => {
      const bar = event.target.closest('.gantt-bar');
      if (bar && !(event.relatedTarget instanceof Node && bar.contains(event.relatedTarget))) {
        window.ObservatoryTooltip?.hide();
      }
    });

    relayout = update;
    applyVisibility();
    update();

    // Arriving from another page of the span table at #span-<id>: mark that span.
    let wanted = '';
    try {
      if (window.location.hash.startsWith('#span-')) wanted = decodeURIComponent(window.location.hash.slice(6));
    } catch (e) {
      wanted = ''; // a malformed address marks nothing
    }
    if (wanted && rowById.has(wanted)) select(wanted);
    else if (wanted) highlightTableRow(wanted, null);
  }

  window.ObservatoryGantt = { render, formatMs };
})();
