/*
 * What the Gantt chart and the flame graph share: the span model built from the
 * trace JSON the server embeds (the spans, objects only; their ids; each span's
 * parent and children among the spans present, where a missing parent or a span
 * naming itself leaves it a root; the full time range in milliseconds), and two
 * small helpers: an element with text set as text, and a number with a fallback.
 */
'use strict';

window.ObservatoryTraceModel = (function () {
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function num(value, fallback) {
    const n = Number(value);
    return Number.isFinite(n) ? n : fallback;
  }

  function build(data) {
    const spans = data && Array.isArray(data.spans)
      ? data.spans.filter((s) => s && typeof s === 'object')
      : [];
    const ids = spans.map((s) => String(s.span_id));
    const known = new Set(ids);
    const parentOf = new Map();
    const childrenOf = new Map();
    spans.forEach((s, i) => {
      const pid = s.parent_span_id == null ? null : String(s.parent_span_id);
      if (pid !== null && pid !== ids[i] && known.has(pid)) {
        parentOf.set(ids[i], pid);
        if (!childrenOf.has(pid)) childrenOf.set(pid, []);
        childrenOf.get(pid).push(ids[i]);
      }
    });
    let full = num(data && data.duration_ms, 0);
    for (const s of spans) {
      full = Math.max(full, num(s.start_offset_ms, 0) + Math.max(num(s.duration_ms, 0), 0));
    }
    if (!(full > 0)) full = 1;
    return { spans, ids, parentOf, childrenOf, full };
  }

  return { build, el, num };
})();
