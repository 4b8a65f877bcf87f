/*
 * What the Gantt chart and the flame graph share: the span model built from the
 * trace JSON the server embeds (the spans, objects only; their ids; each span's
 * parent and children among the spans present, where a missing parent or a span
 * naming itself leaves it a root; the full time range in milliseconds), the
 * summary rows of what the server left out of a very large trace (`groups`) and
 * the limits it applied (`limits`), and small helpers: an element with text set
 * as text, a number with a fallback, a count with thousands separators, and the
 * address of the span table's page that lists a span.
 *
 * The server sends at most `limits.rows` spans and summaries; the scripts draw
 * what they are given and declare no limits of their own. Nothing here recurses:
 * a chain of spans may be thousands deep.
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

  function count(value) {
    return Math.round(num(value, 0)).toLocaleString('en-US');
  }

  // The limits the server applied; a missing or odd value reads as "none".
  function limitsOf(data) {
    const raw = data && typeof data.limits === 'object' && data.limits !== null ? data.limits : {};
    const positive = (value) => {
      const n = Math.floor(num(value, 0));
      return n > 0 ? n : null;
    };
    return {
      rows: positive(raw.rows),
      indentLevels: positive(raw.indent_levels),
      tableRows: positive(raw.table_rows),
    };
  }

  // Where the span table lists the span at tree-order `row`: null when it is on
  // this page (or the page cannot tell), else the address of its page.
  function tableAddress(data, row, spanId) {
    const perPage = limitsOf(data).tableRows;
    const index = Math.floor(num(row, -1));
    if (perPage === null || index < 0) return null;
    const page = Math.floor(index / perPage) + 1;
    if (page === Math.floor(num(data.table_page, 1))) return null;
    return window.location.pathname + (page > 1 ? '?page=' + page : '') +
      '#span-' + encodeURIComponent(String(spanId));
  }

  // The summary rows, each with the numbers it needs; anything malformed is dropped.
  function groupsOf(data, spanCount) {
    const raw = data && Array.isArray(data.groups) ? data.groups : [];
    const groups = [];
    for (const g of raw) {
      if (!g || typeof g !== 'object') continue;
      const start = num(g.start_offset_ms, NaN);
      const end = num(g.end_offset_ms, NaN);
      groups.push({
        reason: g.reason === 'limit' ? 'limit' : 'siblings',
        parent: g.parent_span_id == null ? null : String(g.parent_span_id),
        before: Math.min(Math.max(0, Math.floor(num(g.before, spanCount))), spanCount),
        depth: Math.max(0, Math.floor(num(g.depth, 0))),
        children: Math.max(0, Math.floor(num(g.children, 0))),
        spans: Math.max(0, Math.floor(num(g.spans, 0))),
        errors: Math.max(0, Math.floor(num(g.errors, 0))),
        critical: Math.max(0, Math.floor(num(g.critical, 0))),
        start, end,
        hasRange: Number.isFinite(start) && Number.isFinite(end) && end >= start,
        firstRow: Math.floor(num(g.first_row, -1)),
        firstSpanId: String(g.first_span_id ?? ''),
      });
    }
    return groups;
  }

  // What a summary row says: how many spans it stands for, and where they are.
  function groupText(group, parentName) {
    let text;
    if (group.reason === 'limit') {
      text = '\u2026 ' + count(group.spans) + ' more spans not drawn (row limit)';
    } else {
      const what = group.parent === null ? (group.children === 1 ? ' more root' : ' more roots')
        : (group.children === 1 ? ' more child' : ' more children') + ' of ' + parentName;
      text = '\u2026 ' + count(group.children) + what;
      if (group.spans > group.children) text += ' (' + count(group.spans) + ' spans in all)';
    }
    const notes = [];
    if (group.errors > 0) notes.push(count(group.errors) + ' failed');
    if (group.critical > 0) notes.push(count(group.critical) + ' on the critical path');
    return notes.length ? text + ', ' + notes.join(', ') : text;
  }

  function build(data) {
    const limits = limitsOf(data);
    let spans = data && Array.isArray(data.spans)
      ? data.spans.filter((s) => s && typeof s === 'object')
      : [];
    if (limits.rows !== null && spans.length > limits.rows) spans = spans.slice(0, limits.rows);
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
    const groups = groupsOf(data, spans.length);
    for (const g of groups) {
      if (g.hasRange) full = Math.max(full, g.end);
    }
    if (!(full > 0)) full = 1;
    const total = Math.max(Math.floor(num(data && data.span_count, spans.length)), spans.length);
    return { spans, ids, parentOf, childrenOf, full, groups, limits, total };
  }

  return { build, el, num, count, groupText, tableAddress };
})();
