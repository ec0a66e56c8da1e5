/* The dashboard page's script (served by the API as /dashboard/dashboard.js; no build step, no library).
 * It asks the data routes for JSON, builds the DOM with text nodes only (nothing from the data is parsed as
 * HTML), shows charts as SVG images rendered on the server, and polls the status every 5 s: when its revision
 * changes (a tick, a redeploy, new data), every section is fetched again, without a reload.
 * With api.token set, the token is asked once and kept in sessionStorage (this tab only); it travels in the
 * Authorization header, never in a URL. */
/* global document, window, sessionStorage, fetch, URL, performance, setTimeout, clearTimeout */
'use strict';
(function () {
  var BASE = new URL('./', document.currentScript.src);
  var TOKEN_KEY = 'risk-dashboard-token';
  var POLL_MS = 5000;
  var PAGE = 25;
  var CLIENT_PAGE = 15;
  var OUTCOME_WORDS = {
    bootstrapped: 'bootstrapped',
    redeployed: 'redeployed',
    'no-drift': 'no drift',
    'no-new-data': 'no new data',
    rejected: 'rejected',
    locked: 'locked',
    failed: 'failed',
  };

  var state = { revision: null, tickOffset: 0, outcome: '', search: '', clientRows: 0, pollTimer: null, asking: false };

  function $(id) {
    return document.getElementById(id);
  }

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === 'text') node.textContent = value;
      else node.setAttribute(name, value === true ? '' : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function token() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  }

  function AuthError() {}

  /** GET a data route; a 401 asks for the token, any other error carries the API's message. */
  function get(path) {
    var headers = { Accept: 'application/json' };
    var t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    return fetch(new URL(path, BASE), { headers: headers, cache: 'no-store', credentials: 'omit' }).then(function (res) {
      if (res.status === 401) throw new AuthError();
      return res.json().then(function (body) {
        if (!res.ok) throw new Error((body && (body.error || body.message)) || 'HTTP ' + res.status);
        return body;
      });
    });
  }

  // ------------------------------------------------------------ formatting

  function f4(value) {
    return typeof value === 'number' && isFinite(value) ? value.toFixed(4) : 'n/a';
  }
  function f2(value) {
    return typeof value === 'number' && isFinite(value) ? value.toFixed(2) : 'n/a';
  }
  function percent(share, digits) {
    return typeof share === 'number' && isFinite(share) ? (100 * share).toFixed(digits === undefined ? 1 : digits) + '%' : 'n/a';
  }
  function count(value) {
    return typeof value === 'number' ? value.toLocaleString('en-US') : 'n/a';
  }
  function stat(value) {
    if (typeof value !== 'number' || !isFinite(value)) return '–';
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    return Math.abs(value) >= 100 ? value.toLocaleString('en-US', { maximumFractionDigits: 2 }) : value.toFixed(4);
  }
  function signed(value) {
    if (typeof value !== 'number' || !isFinite(value)) return 'n/a';
    var rounded = Number(value.toFixed(2));
    return rounded === 0 ? '0.00' : (rounded < 0 ? '−' : '+') + Math.abs(rounded).toFixed(2);
  }
  function time(iso) {
    var t = Date.parse(iso);
    return isFinite(t) ? new Date(t).toISOString().slice(0, 19).replace('T', ' ') : 'unknown';
  }
  function age(iso) {
    var seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (!isFinite(seconds)) return '';
    if (seconds < 90) return seconds + ' s ago';
    var minutes = Math.round(seconds / 60);
    if (minutes < 90) return minutes + ' min ago';
    var hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + ' h ' + (minutes % 60) + ' min ago';
    return Math.round(hours / 24) + ' days ago';
  }
  function duration(ms) {
    if (typeof ms !== 'number') return 'n/a';
    return ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(1) + ' s';
  }
  function version(v) {
    return v === null || v === undefined ? '–' : 'v' + v;
  }
  function badge(outcome) {
    return el('span', { class: 'badge o-' + outcome, text: OUTCOME_WORDS[outcome] || outcome });
  }

  /** A server-rendered chart as an image (its SVG in a data URL: no id clashes between charts, no script). */
  function chartImage(chart) {
    return el('img', {
      src: 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(chart.svg),
      width: String(Math.round(chart.width)),
      height: String(Math.round(chart.height)),
      alt: chart.alt,
      class: 'chart',
    });
  }

  function showChart(figure, chart, caption) {
    clear(figure);
    if (!chart) {
      figure.appendChild(el('figcaption', { class: 'muted', text: caption }));
      return;
    }
    figure.appendChild(chartImage(chart));
  }

  function unavailable(node, error) {
    clear(node).appendChild(el('p', { class: 'muted', text: 'Not available: ' + error.message }));
  }

  // ------------------------------------------------------------ status strip

  function renderStatus(status) {
    var body = clear($('status-body'));
    var tone = { healthy: 'good', retrained: 'good', rejected: 'warn', failing: 'bad', unchecked: 'neutral', undeployed: 'bad' }[
      status.health
    ];
    body.className = 'strip tone-' + (tone || 'neutral');
    body.appendChild(el('p', { class: 'headline', id: 'headline', text: status.headline }));
    status.warnings.forEach(function (warning) {
      body.appendChild(el('p', { class: 'warning', 'data-kind': warning.kind }, [el('strong', { text: 'Warning: ' }), warning.text]));
    });
    var facts = el('dl', { class: 'facts' });
    function fact(term, value, id) {
      facts.appendChild(el('dt', { text: term }));
      facts.appendChild(el('dd', { id: id }, value));
    }
    if (status.served)
      fact(
        'Served',
        [
          'version ' +
            status.served.version +
            ' since ' +
            time(status.served.since) +
            ' UTC (' +
            age(status.served.since) +
            '), test F1 ' +
            f4(status.served.test_f1),
        ],
        'served',
      );
    else fact('Served', ['nothing is deployed'], 'served');
    var newest = status.newest_tick;
    if (newest)
      fact(
        'Newest tick',
        [time(newest.started_at) + ' UTC (' + age(newest.started_at) + ') ', badge(newest.outcome), ' ' + newest.decision],
        'newest-tick',
      );
    else fact('Newest tick', ['no tick has run yet'], 'newest-tick');
    var decisive = status.decisive_tick;
    if (decisive && newest && decisive.run_id !== newest.run_id)
      fact(
        'Newest tick with work',
        [time(decisive.started_at) + ' UTC (' + age(decisive.started_at) + ') ', badge(decisive.outcome), ' ' + decisive.decision],
        'decisive-tick',
      );
    var byOutcome = Object.keys(status.ticks.by_outcome)
      .filter(function (o) {
        return status.ticks.by_outcome[o] > 0;
      })
      .map(function (o) {
        return count(status.ticks.by_outcome[o]) + ' ' + (OUTCOME_WORDS[o] || o);
      });
    fact(
      'History',
      [
        count(status.ticks.total) +
          ' ticks' +
          (byOutcome.length ? ': ' + byOutcome.join(', ') : '') +
          '; schedule ' +
          status.schedule.expression,
      ],
      'history',
    );
    body.appendChild(facts);
  }

  // ------------------------------------------------------------ ticks

  function loadTicks() {
    var query =
      'data/ticks?limit=' + PAGE + '&offset=' + state.tickOffset + (state.outcome ? '&outcome=' + encodeURIComponent(state.outcome) : '');
    return get(query).then(function (page) {
      var body = clear($('ticks-table').tBodies[0]);
      page.rows.forEach(function (row) {
        var files =
          row.new_file_count === 0
            ? '–'
            : row.new_files.join(', ') +
              (row.new_file_count > row.new_files.length ? ' and ' + (row.new_file_count - row.new_files.length) + ' more' : '');
        body.appendChild(
          el('tr', { 'data-outcome': row.outcome }, [
            el('td', { class: 'nowrap', text: time(row.started_at) }),
            el('td', {}, [badge(row.outcome)]),
            el('td', { class: 'decision', text: row.decision }),
            el('td', { class: 'files', text: files }),
            el('td', { class: 'num', text: duration(row.duration_ms) }),
            el('td', { class: 'nowrap', text: version(row.version_before) + ' → ' + version(row.version_after) }),
          ]),
        );
      });
      if (page.rows.length === 0)
        body.appendChild(
          el('tr', {}, [
            el('td', { colspan: '6', class: 'muted', text: 'No ticks' + (state.outcome ? ' with this outcome' : '') + ' yet' }),
          ]),
        );
      var first = page.total === 0 ? 0 : page.offset + 1;
      $('ticks-range').textContent =
        page.total === 0
          ? 'no ticks'
          : 'ticks ' + count(first) + '–' + count(page.offset + page.rows.length) + ' of ' + count(page.total) + ', newest first';
      $('ticks-newer').disabled = page.offset === 0;
      $('ticks-older').disabled = page.offset + page.rows.length >= page.total;
    });
  }

  function loadTimeline() {
    return get('data/timeline').then(function (answer) {
      showChart($('timeline'), answer.chart, 'No tick has run yet.');
    });
  }

  // ------------------------------------------------------------ versions

  function loadVersions() {
    return get('data/versions').then(function (answer) {
      showChart($('f1-chart'), answer.f1_chart, 'No F1 recorded yet.');
      var body = clear($('versions-table').tBodies[0]);
      answer.versions.forEach(function (row) {
        var checks =
          row.checks.count === 0
            ? '–'
            : count(row.checks.count) +
              (row.checks.count === 1 ? ' check: ' : ' checks, newest first: ') +
              row.checks.newest
                .map(function (c) {
                  return f2(c.new_f1) + (c.drifted ? ' (drift)' : '');
                })
                .join(', ');
        var changes = row.coefficients.filter(function (c) {
          return c.change !== null;
        });
        var coefficientCell = el('td', { class: 'coefficients' });
        if (row.compared_with === null) coefficientCell.appendChild(document.createTextNode('first version'));
        else {
          coefficientCell.appendChild(
            document.createTextNode(
              'against v' +
                row.compared_with +
                ': ' +
                changes
                  .slice(0, 3)
                  .map(function (c) {
                    return c.feature + ' ' + signed(c.change);
                  })
                  .join(', '),
            ),
          );
          var list = el(
            'ul',
            {},
            row.coefficients.map(function (c) {
              return el('li', {
                text:
                  c.feature +
                  ': ' +
                  signed(c.previous) +
                  ' → ' +
                  signed(c.coefficient) +
                  (c.change === null ? ' (new)' : ' (' + signed(c.change) + ')'),
              });
            }),
          );
          coefficientCell.appendChild(el('details', {}, [el('summary', { text: 'all ' + row.coefficients.length }), list]));
        }
        body.appendChild(
          el('tr', { 'data-version': String(row.version), class: row.current ? 'current' : null }, [
            el('th', { scope: 'row', text: 'v' + row.version + (row.current ? ' (current)' : '') }),
            el('td', { class: 'nowrap', text: time(row.deployed_at) }),
            el('td', { class: 'num', text: f4(row.test_f1) }),
            el('td', { text: checks }),
            el('td', { text: row.gate ? row.gate.text : row.origin }),
            coefficientCell,
            el('td', {}, [
              row.rollback_command ? el('code', { text: row.rollback_command }) : el('span', { class: 'muted', text: 'serving' }),
            ]),
          ]),
        );
      });
      if (answer.versions.length === 0)
        body.appendChild(el('tr', {}, [el('td', { colspan: '7', class: 'muted', text: 'Nothing deployed yet' })]));
    });
  }

  // ------------------------------------------------------------ drift

  function loadDrift() {
    return get('data/drift').then(function (answer) {
      showChart($('psi-chart'), answer.psi_chart, 'No drift check yet.');
      var grid = clear($('drift-charts'));
      var body = clear($('drift-table').tBodies[0]);
      if (!answer.newest) {
        $('drift-summary').textContent =
          'No tick has checked for drift yet (the first check comes with the first new file after the bootstrap).';
        return;
      }
      var features = answer.newest.features;
      var drifted = features.filter(function (f) {
        return f.drifted;
      });
      $('drift-summary').textContent =
        'Newest check ' +
        time(answer.newest.started_at) +
        ' UTC (' +
        age(answer.newest.started_at) +
        '): ' +
        drifted.length +
        ' of ' +
        features.length +
        ' features drifted (a shift counts from PSI ' +
        answer.threshold +
        ' when its test confirms it). PSI across ' +
        (answer.checks === 1 ? 'this check' : 'the newest ' + answer.checks + ' checks') +
        ':';
      features.forEach(function (f) {
        if (f.chart)
          grid.appendChild(
            el('figure', { class: 'drift-chart', 'data-feature': f.feature, 'data-drifted': String(f.drifted) }, [chartImage(f.chart)]),
          );
        body.appendChild(
          el('tr', { 'data-drifted': String(f.drifted) }, [
            el('th', { scope: 'row', class: 'feature', text: f.feature }),
            el('td', { class: 'num', text: f2(f.psi) }),
            el('td', { text: f.test || '–' }),
            el('td', { class: 'num', text: typeof f.p_value === 'number' ? f.p_value.toPrecision(2) : 'n/a' }),
            el('td', { text: f.drifted ? 'yes' : 'no' }),
          ]),
        );
      });
    });
  }

  // ------------------------------------------------------------ call list

  /** Characters of an id shown in the table (the whole id is searched; the first 120 are in the cell's title). */
  var SHOWN_ID = 40;
  function shortId(client) {
    if (client.id_length <= SHOWN_ID) return client.id;
    return client.id.slice(0, SHOWN_ID - 1) + '… (' + count(client.id_length) + ' characters)';
  }

  function loadClients(append) {
    var offset = append ? state.clientRows : 0;
    var query =
      'data/clients?limit=' + CLIENT_PAGE + '&offset=' + offset + (state.search ? '&search=' + encodeURIComponent(state.search) : '');
    return get(query).then(
      function (page) {
        var body = $('clients-table').tBodies[0];
        if (!append) clear(body);
        $('id-column').textContent = page.id_column;
        page.clients.forEach(function (client) {
          body.appendChild(
            el('tr', {}, [
              el('td', { class: 'num', text: String(client.rank) }),
              el('td', { class: 'id', title: client.id_length > SHOWN_ID ? client.id : null, text: shortId(client) }),
              el('td', { class: 'num', text: percent(client.probability) }),
              el('td', { text: client.reasons.join('; ') }),
            ]),
          );
        });
        state.clientRows = offset + page.clients.length;
        $('clients-note').textContent =
          'Model v' + page.model_version + ' over ' + page.data_file + ': ' + count(page.total) + ' clients still with us, riskiest first.';
        $('clients-range').textContent = (state.search ? count(page.matched) + ' match; ' : '') + 'showing ' + count(state.clientRows);
        $('clients-more').disabled = state.clientRows >= page.matched;
      },
      function (error) {
        if (error instanceof AuthError) throw error;
        clear($('clients-table').tBodies[0]);
        $('clients-note').textContent = 'Not available: ' + error.message;
      },
    );
  }

  function download(name) {
    var headers = {};
    var t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    fetch(new URL('files/' + name, BASE), { headers: headers, cache: 'no-store', credentials: 'omit' })
      .then(function (res) {
        if (res.status === 401) throw new AuthError();
        if (!res.ok)
          return res.json().then(function (body) {
            throw new Error(body.error || 'HTTP ' + res.status);
          });
        return res.blob();
      })
      .then(function (blob) {
        var link = el('a', { href: URL.createObjectURL(blob), download: name });
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () {
          URL.revokeObjectURL(link.href);
        }, 10000);
      })
      .catch(function (error) {
        if (error instanceof AuthError) return askToken('The token was refused.');
        $('clients-note').textContent = 'Download failed: ' + error.message;
      });
  }

  // ------------------------------------------------------------ data summary

  function loadSummary() {
    return get('data/summary').then(
      function (summary) {
        var body = clear($('data-table').tBodies[0]);
        $('data-note').textContent = summary.data_file + ': ' + count(summary.rows) + ' rows. The target is shown as a rate (its mean).';
        summary.columns.forEach(function (c) {
          var isTarget = c.role === 'target';
          body.appendChild(
            el('tr', { 'data-role': c.role }, [
              el('th', { scope: 'row', class: 'feature', text: c.name + (isTarget ? ' (target)' : c.role === 'id' ? ' (id)' : '') }),
              el('td', { class: 'num', text: isTarget ? 'rate ' + percent(c.mean) : stat(c.mean) }),
              el('td', { class: 'num', text: stat(c.median) }),
              el('td', { class: 'num', text: stat(c.std) }),
              el('td', { class: 'num', text: stat(c.min) }),
              el('td', { class: 'num', text: stat(c.max) }),
              el('td', { class: 'num', text: count(c.count) }),
              el('td', { class: 'num', text: count(c.missing) + ' (' + c.missing_percent.toFixed(1) + '%)' }),
            ]),
          );
        });
      },
      function (error) {
        if (error instanceof AuthError) throw error;
        clear($('data-table').tBodies[0]);
        $('data-note').textContent = 'Not available: ' + error.message;
      },
    );
  }

  // ------------------------------------------------------------ the loop

  var SECTIONS = ['status', 'ticks', 'versions', 'drift', 'clients', 'data'];

  function showSections(shown) {
    SECTIONS.forEach(function (id) {
      $(id).hidden = !shown;
    });
  }

  /** Hides every figure and asks for the token (nothing fetched is kept on the page). */
  function askToken(message) {
    clearTimeout(state.pollTimer);
    state.revision = null;
    showSections(false);
    ['status-body', 'timeline', 'f1-chart', 'psi-chart', 'drift-charts', 'drift-summary', 'clients-note', 'data-note'].forEach(
      function (id) {
        clear($(id));
      },
    );
    ['ticks-table', 'versions-table', 'drift-table', 'clients-table', 'data-table'].forEach(function (id) {
      clear($(id).tBodies[0]);
    });
    $('loading').hidden = true;
    $('token-form').hidden = false;
    $('token-error').textContent = message || '';
    $('token-input').focus();
  }

  function guard(promise, node) {
    return promise.catch(function (error) {
      if (error instanceof AuthError) throw error;
      if (node) unavailable(node, error);
    });
  }

  function notYet(tableId, noteId, text) {
    clear($(tableId).tBodies[0]);
    if (tableId === 'clients-table') {
      $('clients-more').disabled = true;
      $('clients-range').textContent = '';
    }
    $(noteId).textContent = text;
    return Promise.resolve();
  }

  function refreshAll(status) {
    return Promise.all([
      guard(loadTimeline(), $('timeline')),
      guard(loadTicks(), $('ticks-range')),
      guard(loadVersions(), $('f1-chart')),
      guard(loadDrift(), $('drift-summary')),
      status.available.clients
        ? loadClients(false)
        : notYet(
            'clients-table',
            'clients-note',
            status.served ? 'No data ingested yet.' : 'Nothing is deployed yet: the call list needs a model.',
          ),
      status.available.summary
        ? loadSummary()
        : notYet('data-table', 'data-note', 'No data ingested yet (a tick ingests the input folder).'),
    ]);
  }

  function poll() {
    clearTimeout(state.pollTimer);
    return get('data/status')
      .then(function (status) {
        $('token-form').hidden = true;
        $('loading').hidden = true;
        showSections(true);
        renderStatus(status);
        if (!performance.getEntriesByName('dashboard-status').length) performance.mark('dashboard-status');
        $('updated').textContent = 'Updated ' + time(status.generated_at) + ' UTC; checks for changes every ' + POLL_MS / 1000 + ' s.';
        if (status.revision === state.revision) return null;
        state.revision = status.revision;
        return refreshAll(status).then(function () {
          document.body.setAttribute('data-revision', status.revision);
          // The files may have moved on while the sections loaded: look again at once, so the strip agrees with them.
          return 0;
        });
      })
      .then(
        function (delay) {
          state.pollTimer = setTimeout(poll, delay === 0 ? 0 : POLL_MS);
        },
        function (error) {
          if (error instanceof AuthError) return askToken(token() ? 'The token was refused.' : '');
          $('updated').textContent = 'Cannot reach the API (' + error.message + '); trying again in ' + POLL_MS / 1000 + ' s.';
          state.pollTimer = setTimeout(poll, POLL_MS);
        },
      );
  }

  function onAuth(promise) {
    promise.catch(function (error) {
      if (error instanceof AuthError) askToken('The token was refused.');
    });
  }

  $('token-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var input = $('token-input');
    try {
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    } catch {
      $('token-error').textContent = 'This browser does not keep the token for the tab (sessionStorage is off).';
      return;
    }
    input.value = '';
    $('token-form').hidden = true;
    $('loading').hidden = false;
    poll();
  });
  $('outcome-filter').addEventListener('change', function (event) {
    state.outcome = event.target.value;
    state.tickOffset = 0;
    onAuth(loadTicks());
  });
  $('ticks-newer').addEventListener('click', function () {
    state.tickOffset = Math.max(0, state.tickOffset - PAGE);
    onAuth(loadTicks());
  });
  $('ticks-older').addEventListener('click', function () {
    state.tickOffset += PAGE;
    onAuth(loadTicks());
  });
  var searchTimer = null;
  $('client-search').addEventListener('input', function (event) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      state.search = event.target.value.trim();
      onAuth(loadClients(false));
    }, 250);
  });
  $('clients-more').addEventListener('click', function () {
    onAuth(loadClients(true));
  });
  Array.prototype.forEach.call(document.querySelectorAll('button.download'), function (button) {
    button.addEventListener('click', function () {
      download(button.getAttribute('data-file'));
    });
  });
  // Back from the browser's page cache: the timer did not run meanwhile.
  window.addEventListener('pageshow', function (event) {
    if (event.persisted) poll();
  });
  poll();
})();
