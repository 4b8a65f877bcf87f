/*
 * Auto-refresh for dashboard pages without a full reload. When the
 * #auto-refresh checkbox is on, the server-rendered fragment named by
 * [data-refresh-url] is fetched every data-refresh-interval seconds and
 * swapped in, then 'observatory:refreshed' is dispatched on document so
 * charts and tables redraw. The on/off state lives in the URL (refresh=1)
 * so a shared link keeps it.
 */
'use strict';

(function () {
  const DEFAULT_INTERVAL_S = 60;

  let timer = null;
  let inFlight = false;

  function target() {
    return document.getElementById('refresh-target') ||
      document.querySelector('[data-refresh-url]');
  }

  function checkbox() {
    const el = document.getElementById('auto-refresh');
    return el instanceof HTMLInputElement ? el : null;
  }

  function intervalMs(el) {
    const seconds = parseFloat(el ? el.getAttribute('data-refresh-interval') : '');
    return (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_INTERVAL_S) * 1000;
  }

  function setStatus(text, failed) {
    const el = document.getElementById('refresh-status');
    if (!el) return;
    el.textContent = text;
    el.classList.toggle('refresh-failed', Boolean(failed));
  }

  function clockTime(date) {
    return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  // Only same-origin fragments are fetched; the attribute is server-written,
  // but a wrong value must never turn into a request elsewhere.
  function fragmentUrl(el) {
    const raw = el.getAttribute('data-refresh-url');
    if (!raw) return null;
    try {
      const url = new URL(raw, location.href);
      return url.origin === location.origin ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  async function refreshOnce() {
    const el = target();
    if (!el || inFlight) return;
    const url = fragmentUrl(el);
    if (!url) {
      setStatus('refresh unavailable', true);
      return;
    }
    inFlight = true;
    try {
      const response = await fetch(url, {
        credentials: 'same-origin',
        headers: { Accept: 'text/html' },
        cache: 'no-store',
      });
      if (response.status !== 200) {
        setStatus('refresh failed: ' + response.status, true);
        return;
      }
      const html = await response.text();
      const current = target();
      if (!current) return;
      // The fragment is HTML rendered and escaped by the server's templates;
      // this is the one place the front end assigns innerHTML.
      current.innerHTML = html;
      current.setAttribute('data-refreshed-at', String(Date.now()));
      syncCheckbox();
      setStatus('updated ' + clockTime(new Date()), false);
      document.dispatchEvent(new CustomEvent('observatory:refreshed'));
    } catch (e) {
      setStatus('refresh failed: network error', true);
    } finally {
      inFlight = false;
    }
  }

  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  // A chain of timeouts rather than setInterval, so a slow server never has
  // two requests outstanding; hidden tabs skip the fetch but keep the chain.
  function schedule() {
    stop();
    const box = checkbox();
    if (!box || !box.checked) return;
    timer = setTimeout(async () => {
      timer = null;
      const still = checkbox();
      if (!still || !still.checked) return;
      if (!document.hidden) await refreshOnce();
      schedule();
    }, intervalMs(target()));
  }

  function writeUrlParam(on) {
    const url = new URL(location.href);
    if (on) url.searchParams.set('refresh', '1');
    else url.searchParams.delete('refresh');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }

  // The URL is the source of truth, also for a checkbox that arrived in a fragment.
  function syncCheckbox() {
    const box = checkbox();
    if (box) box.checked = new URLSearchParams(location.search).get('refresh') === '1';
  }

  function init() {
    if (!checkbox()) return;
    syncCheckbox();
    schedule();
  }

  // Delegated, so it keeps working if the checkbox is inside a swapped fragment.
  document.addEventListener('change', (event) => {
    const el = event.target;
    if (!(el instanceof HTMLInputElement) || el.id !== 'auto-refresh') return;
    writeUrlParam(el.checked);
    if (!el.checked) setStatus('', false);
    schedule();
  });

  // Submitting the filter form builds a new URL from its fields; keep
  // refresh=1 in it when the checkbox (which need not have a name) is on.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches('form.filters')) return;
    const box = checkbox();
    if (!box || !box.checked || form.elements.namedItem('refresh')) return;
    const hidden = document.createElement('input');
    hidden.type = 'hidden';
    hidden.name = 'refresh';
    hidden.value = '1';
    form.appendChild(hidden);
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }

  window.ObservatoryRefresh = { refreshOnce };
})();
