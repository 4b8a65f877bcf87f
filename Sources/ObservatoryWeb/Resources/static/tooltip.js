/*
 * The one hover tooltip (#tooltip) shared by the Gantt chart and the flame
 * graph, so both position and fill it the same way. Content is plain text
 * (span names and messages are untrusted), set with textContent only.
 */
'use strict';

(function () {
  const OFFSET = 14;

  function element() {
    let tip = document.getElementById('tooltip');
    if (!tip) {
      tip = document.createElement('div');
      tip.id = 'tooltip';
    }
    // Positioned in page coordinates, so it must not sit in a positioned box.
    if (tip.parentElement !== document.body) document.body.appendChild(tip);
    tip.setAttribute('role', 'tooltip');
    return tip;
  }

  // title: first, bold line; lines: array of strings shown below it.
  function show(event, title, lines) {
    const tip = element();
    const head = document.createElement('div');
    head.className = 'tt-title';
    head.textContent = title;
    const body = document.createElement('div');
    body.className = 'tt-body';
    body.textContent = lines.filter((l) => l !== null && l !== undefined && l !== '').join('\n');
    tip.replaceChildren(head, body);
    tip.classList.add('visible');
    move(event);
  }

  // Keeps the tooltip inside the viewport, flipping to the pointer's left or
  // above it near the right or bottom edge.
  function move(event) {
    const tip = document.getElementById('tooltip');
    if (!tip || !tip.classList.contains('visible')) return;
    const w = tip.offsetWidth;
    const h = tip.offsetHeight;
    let left = event.pageX + OFFSET;
    let top = event.pageY + OFFSET;
    if (event.clientX + OFFSET + w > document.documentElement.clientWidth - 4) {
      left = Math.max(window.scrollX + 4, event.pageX - OFFSET - w);
    }
    if (event.clientY + OFFSET + h > document.documentElement.clientHeight - 4) {
      top = Math.max(window.scrollY + 4, event.pageY - OFFSET - h);
    }
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
  }

  function hide() {
    const tip = document.getElementById('tooltip');
    if (tip) tip.classList.remove('visible');
  }

  window.ObservatoryTooltip = { show, move, hide };
})();
