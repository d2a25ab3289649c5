/**
 * The dashboard: one self-contained HTML page (inline CSS and JS, no external assets, no build
 * step). Every second it reads `/v1/cluster/status` (every member's status, through this node)
 * and `/metrics` (this node's counters), and derives rates and latencies from the difference
 * between two scrapes, as Prometheus' `rate()` does.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Synod dashboard</title>
<style>
  :root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --muted: #6b7280; --line: #e3e6eb;
          --leader: #1f7a4d; --follower: #2f5fb3; --candidate: #b7791f; --down: #c0392b; --up: #0f766e; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--ink); }
  header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #1d2330; color: #fff; }
  header h1 { margin: 0; font-size: 18px; font-weight: 600; }
  header .meta { color: #c5cad3; font-size: 13px; }
  main { padding: 20px 24px; display: grid; gap: 18px; max-width: 1200px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; }
  .card, section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
  .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .card .value { font-size: 22px; font-weight: 600; margin-top: 2px; }
  section h2 { margin: 0 0 8px; font-size: 15px; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); }
  th { color: var(--muted); font-weight: 500; font-size: 12px; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; color: #fff; background: var(--muted); }
  .badge.leader { background: var(--leader); } .badge.follower { background: var(--follower); }
  .badge.candidate, .badge.pre-candidate { background: var(--candidate); } .badge.down { background: var(--down); } .badge.up { background: var(--up); }
  tr.down td { color: var(--down); }
  .muted { color: var(--muted); }
  #error { color: var(--down); min-height: 1.2em; }
  canvas { width: 100%; height: 90px; display: block; }
</style>
</head>
<body>
<header><h1>Synod</h1><span class="meta" id="self">connecting...</span><span class="meta" id="updated"></span></header>
<main>
  <div class="cards">
    <div class="card"><div class="label">Leader</div><div class="value" id="leader">-</div></div>
    <div class="card"><div class="label">Term</div><div class="value" id="term">-</div></div>
    <div class="card"><div class="label">Engine</div><div class="value" id="engine">-</div></div>
    <div class="card"><div class="label">Members up</div><div class="value" id="up">-</div></div>
    <div class="card"><div class="label">Requests/s</div><div class="value" id="rps">-</div></div>
    <div class="card"><div class="label">Proposal p99</div><div class="value" id="proposal-p99">-</div></div>
    <div class="card"><div class="label">Keys</div><div class="value" id="keys">-</div></div>
  </div>
  <div id="error" role="alert"></div>
  <section>
    <h2>Members</h2>
    <table id="members"><thead><tr><th>Member</th><th>State</th><th>Role</th><th>Term</th><th>Leader</th><th>Commit</th><th>Applied</th><th>Last</th><th>API</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="sharding" hidden>
    <h2>Shards</h2>
    <p class="meta" id="rebalance"></p>
    <table id="shard-nodes"><thead><tr><th>Node</th><th>Replicas</th><th>Leaders</th><th>Awake</th><th>Quiesced</th><th>Draining</th></tr></thead><tbody></tbody></table>
    <table id="shards"><thead><tr><th>Shard</th><th>Replicas</th><th>Leader</th><th>Preferred</th><th>Moving</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Requests on this node</h2>
    <canvas id="chart" width="1100" height="90" aria-label="requests per second"></canvas>
    <table id="routes"><thead><tr><th>Route</th><th>Requests/s</th><th>Errors/s</th><th>Mean</th><th>p99</th><th>Total</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Replication and transport (this node)</h2>
    <table id="raft"><tbody></tbody></table>
  </section>
</main>
<script>
(function () {
  'use strict';
  var POLL_MS = 1000;
  var token = (/[#&]token=([^&]+)/.exec(location.hash) || [])[1];
  var headers = token ? { authorization: 'Bearer ' + decodeURIComponent(token) } : {};
  var previous = null;
  var history = [];

  function $(id) { return document.getElementById(id); }
  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text === undefined || text === null ? '-' : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }
  function badge(td, text, kind) {
    td.textContent = '';
    var span = document.createElement('span');
    span.className = 'badge ' + kind;
    span.textContent = text;
    td.appendChild(span);
  }
  function ms(seconds) {
    if (seconds === undefined || !isFinite(seconds)) return '-';
    var value = seconds * 1000;
    return (value < 10 ? value.toFixed(2) : value.toFixed(0)) + ' ms';
  }
  function rate(value) { return value === undefined ? '-' : (value < 10 ? value.toFixed(1) : value.toFixed(0)); }

  // Prometheus text format: "name{a=\\"x\\",b=\\"y\\"} value" per line; comments start with #.
  function parseMetrics(text) {
    var samples = [];
    text.split('\\n').forEach(function (line) {
      if (line === '' || line.charAt(0) === '#') return;
      var match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})?\\s+(\\S+)/.exec(line);
      if (!match) return;
      var labels = {};
      var re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\]|\\\\.)*)"/g;
      var pair;
      while ((pair = re.exec(match[2] || '')) !== null) labels[pair[1]] = pair[2];
      samples.push({ name: match[1], labels: labels, value: Number(match[3]) });
    });
    return samples;
  }
  function pick(samples, name, filter) {
    return samples.filter(function (s) { return s.name === name && (!filter || filter(s.labels)); });
  }
  function total(samples, name, filter) {
    return pick(samples, name, filter).reduce(function (sum, s) { return sum + s.value; }, 0);
  }
  // Quantile from the increase of cumulative histogram buckets between two scrapes.
  function quantile(q, now, before, name, filter) {
    var buckets = {};
    pick(now, name + '_bucket', filter).forEach(function (s) { buckets[s.labels.le] = (buckets[s.labels.le] || 0) + s.value; });
    if (before) pick(before, name + '_bucket', filter).forEach(function (s) { buckets[s.labels.le] = (buckets[s.labels.le] || 0) - s.value; });
    var bounds = Object.keys(buckets).map(function (le) { return { le: le === '+Inf' ? Infinity : Number(le), count: buckets[le] }; })
      .sort(function (a, b) { return a.le - b.le; });
    var count = bounds.length ? bounds[bounds.length - 1].count : 0;
    if (count <= 0) return undefined;
    var rank = q * count, lower = 0, below = 0;
    for (var i = 0; i < bounds.length; i++) {
      var b = bounds[i];
      if (b.count >= rank) {
        if (b.le === Infinity) return lower;
        return lower + (b.le - lower) * ((rank - below) / Math.max(1, b.count - below));
      }
      lower = b.le; below = b.count;
    }
    return lower;
  }

  function renderMembers(cluster) {
    var body = $('members').tBodies[0];
    body.textContent = '';
    var leaders = {}, up = 0, term = 0, engine;
    cluster.members.forEach(function (m) {
      var row = document.createElement('tr');
      row.setAttribute('data-member', m.id);
      row.className = m.up ? 'up' : 'down';
      cell(row, m.id + (m.id === cluster.self ? ' (this node)' : ''));
      var state = cell(row, '');
      if (m.up) {
        up++;
        var s = m.status;
        badge(state, 'up', 'up');
        badge(cell(row, ''), s.role, s.role);
        cell(row, s.term); cell(row, s.leader); cell(row, s.commitIndex); cell(row, s.appliedIndex); cell(row, s.lastIndex);
        if (s.role === 'leader') leaders[m.id] = s.term;
        if (s.term > term) term = s.term;
        if (m.id === cluster.self) engine = s.engine;
      } else {
        badge(state, 'down', 'down');
        var why = cell(row, m.error, 'muted');
        why.colSpan = 6;
      }
      cell(row, m.apiUrl, 'muted');
      body.appendChild(row);
    });
    // The leader of the highest term wins: a deposed leader may not know it yet.
    var leader = Object.keys(leaders).sort(function (a, b) { return leaders[b] - leaders[a]; })[0];
    $('leader').textContent = leader || 'none';
    $('term').textContent = term || '-';
    $('up').textContent = up + ' / ' + cluster.members.length;
    $('self').textContent = 'node ' + cluster.self;
    // Raft reports its term; Paxos its ballot round in the same field.
    $('engine').textContent = engine || '-';
  }

  function renderMetrics(now, before, seconds) {
    var routes = {};
    pick(now, 'synod_http_requests_total').forEach(function (s) { routes[s.labels.route] = true; });
    var body = $('routes').tBodies[0];
    body.textContent = '';
    var totalRate = 0;
    Object.keys(routes).sort().forEach(function (route) {
      var byRoute = function (l) { return l.route === route; };
      var errors = function (l) { return l.route === route && Number(l.status) >= 500; };
      var count = total(now, 'synod_http_requests_total', byRoute);
      var requests = before ? (count - total(before, 'synod_http_requests_total', byRoute)) / seconds : undefined;
      var failed = before ? (total(now, 'synod_http_requests_total', errors) - total(before, 'synod_http_requests_total', errors)) / seconds : undefined;
      var sum = total(now, 'synod_http_request_duration_seconds_sum', byRoute) - (before ? total(before, 'synod_http_request_duration_seconds_sum', byRoute) : 0);
      var observed = total(now, 'synod_http_request_duration_seconds_count', byRoute) - (before ? total(before, 'synod_http_request_duration_seconds_count', byRoute) : 0);
      if (requests !== undefined) totalRate += requests;
      var row = document.createElement('tr');
      row.setAttribute('data-route', route);
      cell(row, route); cell(row, rate(requests)); cell(row, rate(failed));
      cell(row, observed > 0 ? ms(sum / observed) : '-');
      cell(row, ms(quantile(0.99, now, before, 'synod_http_request_duration_seconds', byRoute)));
      cell(row, count);
      body.appendChild(row);
    });
    if (before) { history.push(totalRate); if (history.length > 120) history.shift(); $('rps').textContent = rate(totalRate); }
    $('proposal-p99').textContent = ms(quantile(0.99, now, before, 'synod_proposal_duration_seconds'));
    $('keys').textContent = total(now, 'synod_kv_keys');

    var raft = $('raft').tBodies[0];
    raft.textContent = '';
    function line(label, value) { var row = document.createElement('tr'); cell(row, label, 'muted'); cell(row, value); raft.appendChild(row); }
    function perSecond(name) { return before ? rate((total(now, name) - total(before, name)) / seconds) + '/s' : '-'; }
    line('Commit / applied index', total(now, 'synod_raft_commit_index') + ' / ' + total(now, 'synod_raft_applied_index'));
    line('Leader changes seen', total(now, 'synod_raft_leader_changes_total'));
    line('Proposal latency p50 / p99', ms(quantile(0.5, now, before, 'synod_proposal_duration_seconds')) + ' / ' + ms(quantile(0.99, now, before, 'synod_proposal_duration_seconds')));
    pick(now, 'synod_raft_peer_match_index').forEach(function (s) {
      var next = pick(now, 'synod_raft_peer_next_index', function (l) { return l.peer === s.labels.peer; })[0];
      line('Peer ' + s.labels.peer + ' match / next', s.value + ' / ' + (next ? next.value : '-'));
    });
    line('Peer messages sent / received', perSecond('synod_transport_messages_sent_total') + ' / ' + perSecond('synod_transport_messages_received_total'));
    line('Peer messages dropped', total(now, 'synod_transport_messages_dropped_total'));
    drawChart();
  }

  function drawChart() {
    var canvas = $('chart');
    var ctx = canvas.getContext('2d');
    var w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = '#f0f3f8'; ctx.fillRect(0, 0, w, h);
    if (history.length < 2) return;
    var max = Math.max.apply(null, history.concat([1]));
    ctx.beginPath();
    history.forEach(function (value, i) {
      var x = (i / (history.length - 1)) * w, y = h - 4 - (value / max) * (h - 24);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = '#2f5fb3'; ctx.lineWidth = 2; ctx.stroke();
    ctx.fillStyle = '#6b7280'; ctx.font = '11px sans-serif'; ctx.fillText('max ' + rate(max) + '/s', 6, 12);
  }

  // A sharded cluster: per-node shares from every member's status, the map from this node.
  function renderShards(cluster, map) {
    var section = $('sharding');
    if (!map || !map.shardCount) { section.hidden = true; return; }
    section.hidden = false;
    var replicas = {}, leaders = {};
    map.shards.forEach(function (shard) {
      shard.replicas.forEach(function (id) { replicas[id] = (replicas[id] || 0) + 1; });
      if (shard.leader) leaders[shard.leader] = (leaders[shard.leader] || 0) + 1;
    });
    var nodes = $('shard-nodes').tBodies[0];
    nodes.textContent = '';
    var rebalance;
    map.nodes.forEach(function (node) {
      var member = cluster && cluster.members.filter(function (m) { return m.id === node.id; })[0];
      var sharding = member && member.up && member.status.sharding;
      if (sharding && member.id === cluster.self) rebalance = sharding.rebalance;
      var row = document.createElement('tr');
      row.setAttribute('data-shard-node', node.id);
      // Each node knows which shards it leads; this node's map knows only the leaders of its own shards.
      cell(row, node.id); cell(row, replicas[node.id] || 0); cell(row, sharding ? sharding.stats.leading : leaders[node.id] || 0);
      cell(row, sharding ? sharding.stats.awake : '-'); cell(row, sharding ? sharding.stats.quiesced : '-');
      cell(row, sharding && sharding.rebalance.draining.indexOf(node.id) >= 0 ? 'yes' : '');
      nodes.appendChild(row);
    });
    $('rebalance').textContent = map.shardCount + ' shards, map epoch ' + map.epoch + '; rebalancing: ' +
      (!rebalance ? '-' : rebalance.active ? rebalance.moving + ' moving, ' + rebalance.pending + ' waiting' : 'idle') +
      (rebalance ? ', ' + rebalance.movesDone + ' moves done' : '');
    var body = $('shards').tBodies[0];
    body.textContent = '';
    map.shards.forEach(function (shard) {
      var row = document.createElement('tr');
      row.setAttribute('data-shard', shard.shard);
      cell(row, shard.shard); cell(row, shard.replicas.join(', ')); cell(row, shard.leader || '?');
      cell(row, shard.preferredLeader, 'muted'); cell(row, shard.moving ? 'moving' : '');
      body.appendChild(row);
    });
  }

  async function poll() {
    var problems = [];
    var cluster;
    try {
      var response = await fetch('/v1/cluster/status', { headers: headers, cache: 'no-store' });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      cluster = await response.json();
      renderMembers(cluster);
    } catch (error) { problems.push('cluster status: ' + error.message); }
    try {
      var shardsResponse = await fetch('/v1/shards', { headers: headers, cache: 'no-store' });
      // A node without shards answers 404: the section stays hidden.
      renderShards(cluster, shardsResponse.ok ? await shardsResponse.json() : undefined);
    } catch (error) { problems.push('shards: ' + error.message); }
    try {
      var metricsResponse = await fetch('/metrics', { cache: 'no-store' });
      if (!metricsResponse.ok) throw new Error('HTTP ' + metricsResponse.status);
      var now = { at: Date.now(), samples: parseMetrics(await metricsResponse.text()) };
      renderMetrics(now.samples, previous && previous.samples, previous ? (now.at - previous.at) / 1000 : 0);
      previous = now;
    } catch (error) { problems.push('metrics: ' + error.message); }
    $('error').textContent = problems.join('; ');
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    document.body.setAttribute('data-polls', String(Number(document.body.getAttribute('data-polls') || 0) + 1));
    setTimeout(poll, POLL_MS);
  }
  poll();
})();
</script>
</body>
</html>
`
