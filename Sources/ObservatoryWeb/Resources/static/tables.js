/*
 * Table behavior for server-rendered pages: client-side sorting of
 * table.data.sortable (state mirrored in the URL as sort/dir), rows that link
 * to a detail page (tr[data-href]), and filter controls that submit their
 * form on change. Everything is delegated from document so it keeps working
 * after refresh.js swaps a fragment in.
 */
'use strict';

(function () {
  // ---------- Sorting ----------

  function cellValue(row, index) {
    const cell = row.cells[index];
    if (!cell) return '';
    const v = cell.getAttribute('data-value');
    return (v !== null ? v : cell.textContent).trim();
  }

  function asNumber(s) {
    if (s === '') return null;
    const n = Number(s);
    return Number.isFinite(n) ? n : null;
  }

  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

  // Empty cells sort last in both directions; numbers compare as numbers.
  function compare(a, b, desc) {
    if (a === '' || b === '') return a === b ? 0 : (a === '' ? 1 : -1);
    const na = asNumber(a);
    const nb = asNumber(b);
    const order = na !== null && nb !== null ? na - nb : collator.compare(a, b);
    return desc ? -order : order;
  }

  function sortTable(table, th, dir) {
    const body = table.tBodies[0];
    if (!body) return;
    const index = th.cellIndex;
    const desc = dir === 'desc';
    const rows = Array.from(body.rows).map((row, i) => ({ row, i, v: cellValue(row, index) }));
    rows.sort((x, y) => compare(x.v, y.v, desc) || x.i - y.i);
    const frag = document.createDocumentFragment();
    for (const r of rows) frag.appendChild(r.row);
    body.appendChild(frag);

    for (const other of table.querySelectorAll('th[data-sort]')) {
      other.classList.remove('sorted-asc', 'sorted-desc');
      other.removeAttribute('aria-sort');
    }
    th.classList.add(desc ? 'sorted-desc' : 'sorted-asc');
    th.setAttribute('aria-sort', desc ? 'descending' : 'ascending');
  }

  // The URL and any hidden sort/dir fields of the filter form both carry the
  // choice, so a shared link or the next filter change keeps this order.
  function rememberSort(key, dir) {
    const url = new URL(location.href);
    url.searchParams.set('sort', key);
    url.searchParams.set('dir', dir);
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    for (const form of document.querySelectorAll('form.filters')) {
      const sortField = form.elements.namedItem('sort');
      const dirField = form.elements.namedItem('dir');
      if (sortField instanceof HTMLInputElement && sortField.type === 'hidden') sortField.value = key;
      if (dirField instanceof HTMLInputElement && dirField.type === 'hidden') dirField.value = dir;
    }
  }

  function sortableHeader(el) {
    const th = el instanceof Element ? el.closest('th[data-sort]') : null;
    const table = th ? th.closest('table') : null;
    return table && table.matches('table.data.sortable') ? { th, table } : null;
  }

  // A table that shows the top N of more rows (its filter form has hidden sort/dir
  // fields) is sorted by the server: re-ordering only the rows on the page would rank
  // the wrong N. Other tables sort in place.
  function onHeaderActivate(th, table) {
    let dir;
    if (th.classList.contains('sorted-asc')) dir = 'desc';
    else if (th.classList.contains('sorted-desc')) dir = 'asc';
    else dir = th.getAttribute('data-sort-default') === 'desc' ? 'desc' : 'asc';
    const form = document.querySelector('form.filters');
    const serverSorted = form && form.elements.namedItem('sort') instanceof HTMLInputElement &&
      form.elements.namedItem('sort').type === 'hidden';
    sortTable(table, th, dir);
    rememberSort(th.getAttribute('data-sort'), dir);
    if (serverSorted) {
      if (typeof form.requestSubmit === 'function') form.requestSubmit();
      else form.submit();
    }
  }

  // Re-applies the sort named in the URL (after a fragment swap the server's
  // order comes back, the user's choice should stay).
  function applySortFromUrl() {
    const params = new URLSearchParams(location.search);
    const key = params.get('sort');
    if (!key) return;
    const dir = params.get('dir') === 'desc' ? 'desc' : 'asc';
    for (const table of document.querySelectorAll('table.data.sortable')) {
      const th = Array.from(table.querySelectorAll('th[data-sort]'))
        .find((h) => h.getAttribute('data-sort') === key);
      if (th) sortTable(table, th, dir);
    }
  }

  // ---------- Row links ----------

  // Only same-origin paths: '/x' yes; '//host', '/\host', 'javascript:' no.
  function safeHref(href) {
    if (typeof href !== 'string' || !/^\/(?![/\\])/.test(href)) return null;
    try {
      const url = new URL(href, location.origin);
      return url.origin === location.origin ? url.pathname + url.search + url.hash : null;
    } catch (e) {
      return null;
    }
  }

  function linkRow(el) {
    return el instanceof Element ? el.closest('tr[data-href]') : null;
  }

  function followRow(row, newTab) {
    const href = safeHref(row.getAttribute('data-href'));
    if (!href) return;
    if (newTab) window.open(href, '_blank', 'noopener');
    else location.href = href;
  }

  const INTERACTIVE = 'a, button, input, select, textarea, label, summary, [contenteditable]';

  // ---------- Enhancement of server HTML ----------

  function enhance() {
    for (const row of document.querySelectorAll('tr[data-href]')) {
      if (!row.hasAttribute('tabindex')) row.setAttribute('tabindex', '0');
    }
    for (const th of document.querySelectorAll('table.data.sortable th[data-sort]')) {
      if (!th.hasAttribute('tabindex')) th.setAttribute('tabindex', '0');
    }
  }

  function init() {
    enhance();
    applySortFromUrl();
  }

  // ---------- Delegated listeners ----------

  document.addEventListener('click', (event) => {
    if (event.button !== 0) return;
    const header = sortableHeader(event.target);
    if (header) {
      onHeaderActivate(header.th, header.table);
      return;
    }
    const row = linkRow(event.target);
    if (!row) return;
    if (event.target.closest(INTERACTIVE)) return;
    const selection = window.getSelection();
    if (selection && selection.toString() !== '') return; // the user is selecting text
    followRow(row, event.ctrlKey || event.metaKey);
  });

  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    const header = sortableHeader(event.target);
    if (header && event.target === header.th) {
      event.preventDefault();
      onHeaderActivate(header.th, header.table);
      return;
    }
    const row = linkRow(event.target);
    if (row && event.target === row && event.key === 'Enter') {
      event.preventDefault();
      followRow(row, event.ctrlKey || event.metaKey);
    }
  });

  document.addEventListener('change', (event) => {
    const el = event.target;
    if (!(el instanceof HTMLSelectElement || el instanceof HTMLInputElement)) return;
    if (!el.hasAttribute('data-autosubmit')) return;
    const form = el.closest('form.filters');
    if (!form) return;
    if (typeof form.requestSubmit === 'function') form.requestSubmit();
    else form.submit();
  });

  // A filter left empty (data-omit-empty) is not sent, so the address of the view stays
  // what the other filters make it.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains('filters')) return;
    for (const input of form.querySelectorAll('input[data-omit-empty]')) {
      if (input.value.trim() === '') input.disabled = true;
    }
  });

  document.addEventListener('observatory:refreshed', init);

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
