/*
 * EasyCars sync dashboard: start syncs without leaving the page, follow a running sync's progress by
 * polling the status endpoint every few seconds, and refresh the whole dashboard every 30 seconds
 * otherwise. Without JavaScript the buttons still work (plain POST and redirect).
 */
(function () {
  'use strict';

  function root() {
    return document.querySelector('[data-easycars-dashboard]');
  }

  var timer = null;

  // Sentences come translated from the template's data-text-* attributes.
  function text(name, values) {
    var el = root();
    var template = (el && el.getAttribute('data-text-' + name)) || '';
    return template.replace(/\{(\w+)\}/g, function (match, key) {
      return values && key in values ? values[key] : match;
    });
  }

  function seconds(name, fallback) {
    var el = root();
    var value = el ? parseFloat(el.getAttribute(name)) : NaN;
    return (isNaN(value) || value <= 0 ? fallback : value) * 1000;
  }

  function schedule(ms) {
    window.clearTimeout(timer);
    timer = window.setTimeout(tick, ms);
  }

  function fetchJSON(url, options) {
    options = options || {};
    options.credentials = 'same-origin';
    options.headers = Object.assign(
      { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
      options.headers || {}
    );
    return fetch(url, options).then(function (response) {
      return response
        .json()
        .catch(function () {
          return { message: response.statusText, code: 'invalid_response' };
        })
        .then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
    });
  }

  function showMessage(kind, text, isError) {
    var el = document.querySelector('[data-easycars-message="' + kind + '"]');
    if (!el) return;
    el.innerHTML = '';
    if (!text) return;
    var p = document.createElement('p');
    p.className = 'easycars-flash' + (isError ? ' easycars-flash--error' : '');
    p.textContent = text;
    el.appendChild(p);
  }

  function updateProgress(kind, run) {
    if (!run) return;
    var bar = document.querySelector('[data-easycars-progress="' + kind + '"]');
    var label = document.querySelector('[data-easycars-progress-text="' + kind + '"]');
    if (!bar || !label) return false;
    var block = bar.closest('[data-easycars-progress-block]');
    if (block && block.getAttribute('data-run') !== String(run.id)) return false;
    bar.setAttribute('data-state', run.status);
    bar.setAttribute('aria-valuenow', run.progress_percent);
    bar.querySelector('.easycars-progress__bar').style.width = run.progress_percent + '%';
    if (run.records_total) {
      label.textContent = text('progress', { processed: run.records_processed, total: run.records_total });
    } else {
      label.textContent = text('waiting');
    }
    return true;
  }

  // Replace the dashboard with a freshly rendered one (cards, counts, chart, recent runs).
  function refreshDashboard() {
    return fetch(window.location.href, { credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.statusText);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.querySelector('[data-easycars-dashboard]');
        var current = root();
        if (fresh && current) {
          // Keep messages a user has not read yet.
          var kept = {};
          current.querySelectorAll('[data-easycars-message]').forEach(function (el) {
            kept[el.getAttribute('data-easycars-message')] = el.innerHTML;
          });
          current.replaceWith(fresh);
          fresh.querySelectorAll('[data-easycars-message]').forEach(function (el) {
            var html = kept[el.getAttribute('data-easycars-message')];
            if (html) el.innerHTML = html;
          });
        }
      });
  }

  function tick() {
    var el = root();
    if (!el) return;
    fetchJSON(el.getAttribute('data-status-url'))
      .then(function (result) {
        if (!result.ok) {
          schedule(seconds('data-refresh-seconds', 30));
          return;
        }
        var data = result.data;
        var needsRefresh = false;
        [['stock', data.stock], ['lead', data.leads]].forEach(function (pair) {
          var running = pair[1] && pair[1].running;
          if (running && !updateProgress(pair[0], running)) needsRefresh = true;
        });
        if (data.is_syncing) {
          var after = needsRefresh ? refreshDashboard() : Promise.resolve();
          return after.then(function () {
            root().setAttribute('data-running', 'true');
            schedule(seconds('data-poll-seconds', 3));
          });
        }
        // Idle (or a run just finished): redraw the dashboard, then look again in 30 seconds.
        return refreshDashboard().then(function () {
          schedule(seconds('data-refresh-seconds', 30));
        });
      })
      .catch(function () {
        schedule(seconds('data-refresh-seconds', 30));
      });
  }

  document.addEventListener('submit', function (event) {
    var form = event.target.closest('form[data-easycars-trigger]');
    if (!form || !window.fetch) return;
    event.preventDefault();
    var kind = form.getAttribute('data-easycars-trigger');
    var button = form.querySelector('button');
    var token = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    button.disabled = true;
    showMessage(kind, '');
    fetchJSON(form.getAttribute('data-api-url'), { method: 'POST', headers: { 'X-CSRFToken': token } })
      .then(function (result) {
        if (result.status === 202) {
          showMessage(kind, result.data.message, false);
          return refreshDashboard().then(function () {
            root().setAttribute('data-running', 'true');
            schedule(seconds('data-poll-seconds', 3));
          });
        }
        button.disabled = false;
        showMessage(kind, result.data.message || text('refused'), true);
      })
      .catch(function () {
        button.disabled = false;
        showMessage(kind, text('no-answer'), true);
      });
  });

  function start() {
    if (!root()) return;
    if (root().getAttribute('data-running') === 'true') {
      schedule(seconds('data-poll-seconds', 3));
    } else {
      schedule(seconds('data-refresh-seconds', 30));
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
