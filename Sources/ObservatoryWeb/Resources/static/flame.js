/*
 * Flame graph of one trace on the trace detail page: roots at the bottom,
 * children stacked above, widths proportional to time, colored by operation
 * kind. Click a span to zoom into it, search to highlight spans by name or
 * target. Nodes are plain divs filled with textContent, because span names
 * and targets are untrusted. For a very large trace the server sends an
 * outline: each summary of left-out children is drawn as one hatched block
 * over their time range, and the legend says how many spans are drawn.
 */
'use strict';

(function () {
  const ROW_PX = 22;
  const OPERATIONS = [
    ['tool_invoke', 'Tool invoke'],
    ['prompt_render', 'Prompt render'],
    ['resource_fetch', 'Resource fetch'],
    ['http_request', 'HTTP request'],
    ['db_query', 'DB query'],
    ['internal', 'Internal'],
  ];
  const KNOWN_OPS = new Set(OPERATIONS.map(([op]) => op));

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

  const { el, num } = window.ObservatoryTraceModel;

  function opOf(span) {
    return KNOWN_OPS.has(span.operation) ? span.operation : 'internal';
  }

  // The search box, match count and reset button may be rendered by the
  // server (anywhere on the page); they are created inside #flame only when
  // missing. Each is wired once and talks to the graph drawn last.
  let active = null;
  const wired = new WeakSet();

  function control(id, make) {
    const found = document.getElementById(id);
    if (found) return { node: found, created: false };
    const node = make();
    node.id = id;
    return { node, created: true };
  }

  function wire(node, type, handler) {
    if (wired.has(node)) return;
    wired.add(node);
    node.addEventListener(type, handler);
  }

  function render(data, container) {
    const root = container || document.getElementById('flame');
    if (!root) return;
    root.replaceChildren();
    root.removeAttribute('data-zoom');
    active = null;

    // ----- Model (trace-model.js) -----
    const model = window.ObservatoryTraceModel;
    const { spans, ids, parentOf, childrenOf, full, groups, total: spanTotal } = model.build(data);
    const drawnGroups = groups.filter((g) => g.reason === 'siblings' && g.hasRange);
    if (spans.length === 0) {
      root.appendChild(el('p', 'notice', 'This trace has no spans.'));
      return;
    }
    const depthOf = (s) => Math.min(Math.max(0, Math.floor(num(s.depth, 0))), spans.length);
    const maxDepth = drawnGroups.reduce((m, g) => Math.max(m, Math.min(g.depth, spans.length)),
      spans.reduce((m, s) => Math.max(m, depthOf(s)), 0));
    const nameOf = new Map(spans.map((s, i) => [ids[i], String(s.name ?? '')]));
    const total = num(data.duration_ms, 0) > 0 ? num(data.duration_ms, 0) : full;
    const lowered = spans.map((s) => ({
      name: String(s.name ?? '').toLowerCase(),
      target: s.target == null ? '' : String(s.target).toLowerCase(),
    }));

    // Concurrent spans at the same depth share a row; shorter ones are drawn
    // above longer ones so each stays at least partly visible.
    const byLength = spans.map((s, i) => i)
      .sort((a, b) => num(spans[b].duration_ms, 0) - num(spans[a].duration_ms, 0));
    const layer = new Map(byLength.map((index, rank) => [index, rank + 1]));

    let zoom = null; // { id, start, end, shown, context: Sets of span ids }
    let nodes = [];  // { index, node }

    // ----- Toolbar -----
    const toolbar = el('div', 'flame-toolbar');
    const searchControl = control('flame-search', () => {
      const input = el('input');
      input.type = 'search';
      input.placeholder = 'Search name or target';
      input.setAttribute('aria-label', 'Search spans by name or target');
      input.autocomplete = 'off';
      return input;
    });
    const countControl = control('flame-search-count', () => {
      const span = el('span');
      span.setAttribute('aria-live', 'polite');
      return span;
    });
    const resetControl = control('flame-reset', () => {
      const button = el('button', '', 'Reset zoom');
      button.type = 'button';
      return button;
    });
    const search = searchControl.node;
    const count = countControl.node;
    const reset = resetControl.node;
    for (const c of [searchControl, countControl, resetControl]) {
      if (c.created) toolbar.appendChild(c.node);
    }
    const hint = el('span', 'flame-hint', 'Click a span to zoom in');

    // ----- Legend -----
    const legend = el('div', 'flame-legend');
    const present = new Set(spans.map(opOf));
    for (const [op, text] of OPERATIONS) {
      if (!present.has(op)) continue;
      const item = el('span', 'legend-item');
      item.appendChild(el('span', 'legend-swatch op-' + op));
      item.appendChild(document.createTextNode(text));
      legend.appendChild(item);
    }
    if (spans.some((s) => s.status === 'error')) {
      const item = el('span', 'legend-item');
      item.appendChild(el('span', 'legend-swatch outline-error'));
      item.appendChild(document.createTextNode('red outline = error'));
      legend.appendChild(item);
    }
    legend.appendChild(el('span', 'flame-summary',
      'total duration ' + formatMs(total) + ', ' + model.count(spanTotal) + (spanTotal === 1 ? ' span' : ' spans') +
      (spans.length < spanTotal ? ' (' + model.count(spans.length) + ' drawn)' : '')));

    // ----- Stage -----
    const stage = el('div', 'flame-stage');
    stage.style.height = (maxDepth + 1) * ROW_PX + 'px';
    if (toolbar.childElementCount > 0) {
      toolbar.appendChild(hint);
      root.append(toolbar, legend, stage);
    } else {
      legend.appendChild(hint);
      root.append(legend, stage);
    }
    count.textContent = '';

    function subtreeAndAncestors(id) {
      const shown = new Set([id]);
      const stack = [id];
      while (stack.length) {
        for (const child of childrenOf.get(stack.pop()) || []) {
          if (!shown.has(child)) {
            shown.add(child);
            stack.push(child);
          }
        }
      }
      const context = new Set();
      for (let p = parentOf.get(id); p !== undefined && !context.has(p) && !shown.has(p); p = parentOf.get(p)) {
        context.add(p);
      }
      return { shown, context };
    }

    function draw() {
      const start = zoom ? zoom.start : 0;
      const end = zoom ? zoom.end : full;
      const width = end - start;
      stage.replaceChildren();
      nodes = [];
      spans.forEach((span, i) => {
        const id = ids[i];
        const isContext = zoom !== null && zoom.context.has(id);
        if (zoom !== null && !zoom.shown.has(id) && !isContext) return;
        const s0 = num(span.start_offset_ms, 0);
        const s1 = s0 + Math.max(num(span.duration_ms, 0), 0);
        if (s1 < start || s0 > end) return;
        const left = (Math.max(s0, start) - start) / width;
        const w = (Math.min(s1, end) - Math.max(s0, start)) / width;

        const node = el('div', 'flame-node op-' + opOf(span), String(span.name ?? ''));
        if (span.status === 'error') node.classList.add('status-error');
        if (isContext) node.classList.add('context');
        node.setAttribute('data-span-id', id);
        node.style.left = left * 100 + '%';
        node.style.width = w * 100 + '%';
        node.style.top = (maxDepth - depthOf(span)) * ROW_PX + 'px';
        node.style.zIndex = String(layer.get(i));
        stage.appendChild(node);
        nodes.push({ index: i, node });
      });
      for (const group of drawnGroups) {
        if (zoom !== null && !zoom.shown.has(group.parent)) continue;
        if (group.end < start || group.start > end) continue;
        const text = model.groupText(group, nameOf.get(group.parent) ?? 'its parent');
        const node = el('div', 'flame-node flame-group', text);
        node.title = text;
        node.style.left = ((Math.max(group.start, start) - start) / width) * 100 + '%';
        node.style.width = ((Math.min(group.end, end) - Math.max(group.start, start)) / width) * 100 + '%';
        node.style.top = (maxDepth - Math.min(group.depth, spans.length)) * ROW_PX + 'px';
        node.style.zIndex = '0';
        stage.appendChild(node);
      }
      applySearch();
    }

    function applySearch() {
      const q = search.value.trim().toLowerCase();
      if (q === '') {
        for (const { node } of nodes) node.classList.remove('match', 'dim');
        count.textContent = '';
        return;
      }
      const matches = (i) => lowered[i].name.includes(q) || lowered[i].target.includes(q);
      let inView = 0;
      for (const { index, node } of nodes) {
        const hit = matches(index);
        if (hit) inView++;
        node.classList.toggle('match', hit);
        node.classList.toggle('dim', !hit);
      }
      let all = 0;
      for (let i = 0; i < spans.length; i++) if (matches(i)) all++;
      count.textContent = all + (all === 1 ? ' match' : ' matches') +
        (all !== inView ? ' (' + inView + ' in view)' : '');
    }

    function zoomTo(index) {
      const id = ids[index];
      if (zoom && zoom.id === id) return;
      const span = spans[index];
      const start = num(span.start_offset_ms, 0);
      const duration = Math.max(num(span.duration_ms, 0), Math.max(full * 1e-4, 1e-3));
      zoom = { id, start, end: start + duration, ...subtreeAndAncestors(id) };
      root.setAttribute('data-zoom', id);
      window.ObservatoryTooltip?.hide();
      draw();
    }

    function tooltipLines(span) {
      const duration = num(span.duration_ms, 0);
      return [
        'operation: ' + String(span.operation ?? ''),
        span.target != null ? 'target: ' + String(span.target) : null,
        'service: ' + String(span.service ?? ''),
        'duration: ' + formatMs(duration),
        '% of trace: ' + (total > 0 ? ((duration / total) * 100).toFixed(1) : '–') + ' %',
        'status: ' + String(span.status ?? 'unset'),
        span.status_message != null ? 'message: ' + String(span.status_message) : null,
      ];
    }

    // ----- Interaction -----
    const indexOf = new Map(ids.map((id, i) => [id, i]));
    const spanAt = (target) => {
      const node = target instanceof Element ? target.closest('.flame-node') : null;
      return node ? indexOf.get(node.getAttribute('data-span-id')) : undefined;
    };

    stage.addEventListener('click', (event) => {
      const i = spanAt(event.target);
      if (i !== undefined) zoomTo(i);
    });
    stage.addEventListener('mouseover', (event) => {
      const i = spanAt(event.target);
      if (!window.ObservatoryTooltip) return;
      if (i === undefined) window.ObservatoryTooltip.hide();
      else window.ObservatoryTooltip.show(event, String(spans[i].name ?? ''), tooltipLines(spans[i]));
    });
    stage.addEventListener('mousemove', (event) => window.ObservatoryTooltip?.move(event));
    stage.addEventListener('mouseleave', () => window.ObservatoryTooltip?.hide());
    function resetZoom() {
      zoom = null;
      root.removeAttribute('data-zoom');
      draw();
    }
    active = { applySearch, resetZoom, search };
    wire(reset, 'click', () => active && active.resetZoom());
    wire(search, 'input', () => active && active.applySearch());
    wire(search, 'keydown', (event) => {
      if (event.key === 'Escape' && active) {
        active.search.value = '';
        active.applySearch();
      }
    });

    draw();
  }

  window.ObservatoryFlame = { render };
})();
