/*
 * Glue for the trace detail page: reads the trace JSON the server embeds in
 * <script type="application/json" id="trace-data"> once and hands it to the
 * Gantt chart and the flame graph. Unreadable data becomes a notice on the
 * page, never an exception.
 */
'use strict';

(function () {
  function notice(text) {
    const p = document.createElement('p');
    p.className = 'notice';
    p.textContent = text;
    return p;
  }

  function showProblem(text) {
    const places = ['gantt', 'flame'].map((id) => document.getElementById(id)).filter(Boolean);
    if (places.length === 0) return;
    for (const place of places) place.replaceChildren(notice(text));
  }

  function init() {
    const source = document.getElementById('trace-data');
    if (!source) return;
    let data;
    try {
      data = JSON.parse(source.textContent);
    } catch (e) {
      showProblem('The trace data could not be read, so the timeline cannot be drawn; the span table below is complete.');
      return;
    }
    if (!data || typeof data !== 'object' || !Array.isArray(data.spans)) {
      showProblem('The trace data has no span list, so the timeline cannot be drawn.');
      return;
    }
    if (window.ObservatoryGantt) window.ObservatoryGantt.render(data);
    if (window.ObservatoryFlame) window.ObservatoryFlame.render(data);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
