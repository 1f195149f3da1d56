// sac console — the pages for officers, auditors and admins.  Every call
// goes to sac-web's JSON API as the signed-in role; the database decides
// what that role may see.  Text is only ever set with textContent (never
// as HTML), and nothing is stored in the browser but the page's memory.
'use strict';

const state = { csrf: '', role: '', groups: [], board: null, boardId: null, sites: [] };
const $ = (id) => document.getElementById(id);

function show(id, on) { $(id).hidden = !on; }
function text(id, value) { $(id).textContent = value; }
function el(tag, cls, content) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (content !== undefined && content !== null) e.textContent = String(content);
  return e;
}
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
function notice(message) { text('notice', message || ''); show('notice', !!message); }
function localTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
function duration(s) {
  if (s === null || s === undefined) return '–';
  if (s < 120) return s + ' s';
  if (s < 7200) return Math.round(s / 60) + ' min';
  return (s / 3600).toFixed(1) + ' h';
}

async function api(method, path, body) {
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = state.csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  if (r.status !== 204) {
    try { data = await r.json(); } catch (e) { data = null; }
  }
  if (r.status === 401 && path !== '/api/session') signedOut('Your session has ended. Please sign in again.');
  return { status: r.status, data };
}

// --- sign-in -------------------------------------------------------------------

function signedOut(message) {
  stopBoard();
  state.csrf = ''; state.role = ''; state.groups = [];
  for (const v of ['officer-view', 'auditor-view', 'admin-view', 'other-view']) show(v, false);
  show('signout', false);
  text('who', '');
  show('signin-view', true);
  notice(message);
  $('password').value = '';
}

async function signIn(ev) {
  ev.preventDefault();
  show('signin-error', false);
  const r = await api('POST', '/api/session', { user: $('user').value, password: $('password').value });
  $('password').value = '';
  if (r.status !== 200) {
    text('signin-error', (r.data && r.data.error) || 'Sign-in failed.');
    show('signin-error', true);
    return;
  }
  state.csrf = r.data.csrf_token;
  notice('');
  await start();
}

async function signOut() {
  const r = await api('DELETE', '/api/session');
  // Another tab may have signed in since: then this page shows that session.
  if (r.status === 204) signedOut('You have signed out.'); else await start();
}

async function start() {
  const r = await api('GET', '/api/me');
  if (r.status !== 200) { signedOut(''); return; }
  state.csrf = r.data.csrf_token;
  state.role = r.data.role;
  state.groups = r.data.groups;
  show('signin-view', false);
  show('signout', true);
  text('who', state.role);
  const has = (g) => state.groups.includes(g);
  let any = false;
  if (has('sac_officer')) { any = true; show('officer-view', true); await loadSites(); }
  if (has('sac_auditor')) { any = true; show('auditor-view', true); await loadAudit(); }
  if (has('sac_admin')) { any = true; show('admin-view', true); await loadReaders(); }
  show('other-view', !any);
}

// --- officers ----------------------------------------------------------------------

const standingText = {
  ready: 'Certified and informed',
  not_acknowledged: 'Read and acknowledge the rules first',
  old_rules: 'The rules changed: read and acknowledge them again',
  expired: 'Certification expired',
  revoked: 'Certification revoked',
};

async function loadSites() {
  const r = await api('GET', '/api/sites');
  if (r.status !== 200) return;
  state.sites = r.data;
  const box = $('sites');
  clear(box);
  const select = $('declare-site');
  clear(select);
  let needRules = false, canDeclare = false, open = null;
  if (state.sites.length === 0) box.appendChild(el('p', '', 'You are not certified for any site.'));
  for (const s of state.sites) {
    const card = el('div', 'site' + (s.emergency_id ? ' open' : ''));
    card.appendChild(el('div', 'name', s.site));
    card.appendChild(el('div', 'state', standingText[s.standing] || s.message || s.standing));
    card.appendChild(el('div', '', 'Certified until ' + new Date(s.expires_at).toLocaleDateString()));
    if (s.emergency_id) {
      card.appendChild(el('div', 'state', (s.kind === 'drill' ? 'Drill' : 'EMERGENCY') +
        ' open since ' + localTime(s.declared_at)));
      if (s.standing === 'ready' && s.unconfirmed && !s.declared_by_you) {
        const c = el('button', '', 'Confirm this drill (second officer)');
        c.type = 'button';
        c.id = 'confirm-' + s.emergency_id;
        c.addEventListener('click', () => confirmDrill(s.emergency_id));
        card.appendChild(c);
      }
      if (s.standing === 'ready') {
        const b = el('button', '', 'Open the muster board');
        b.type = 'button';
        b.addEventListener('click', () => openBoard(s.emergency_id, s));
        card.appendChild(b);
        if (!open) open = s;
      }
    } else if (s.standing === 'ready') {
      canDeclare = true;
      const o = el('option', '', s.site);
      o.value = s.site;
      select.appendChild(o);
    }
    if (s.standing === 'not_acknowledged' || s.standing === 'old_rules') needRules = true;
    box.appendChild(card);
  }
  show('declare-view', canDeclare && !open);
  if (needRules) await loadRules(); else show('rules-view', false);
  if (open && state.boardId !== open.emergency_id) openBoard(open.emergency_id, open);
  if (!open) stopBoard();
}

async function loadRules() {
  const r = await api('GET', '/api/rules');
  if (r.status !== 200) return;
  text('rules-version', r.data.rules_version);
  text('rules-text', r.data.rules);
  $('ack').dataset.version = r.data.rules_version;
  show('rules-view', true);
}

async function acknowledge() {
  const r = await api('POST', '/api/rules/acknowledge', { rules_version: Number($('ack').dataset.version) });
  if (r.status !== 200) { notice((r.data && r.data.error) || 'The acknowledgement was not recorded.'); return; }
  notice('Your acknowledgement of the rules is recorded.');
  show('rules-view', false);
  await loadSites();
}

async function declare(ev) {
  ev.preventDefault();
  const kind = $('kind-emergency').checked ? 'emergency' : 'drill';
  const r = await api('POST', '/api/emergencies', { site: $('declare-site').value, kind, reason: $('reason').value });
  if (r.status !== 200) { notice((r.data && r.data.error) || 'The declaration failed.'); return; }
  $('reason').value = '';
  notice((kind === 'drill' ? 'Drill ' : 'Emergency ') + r.data.emergency_id + ' declared.');
  await loadSites();
}

async function confirmDrill(id) {
  const r = await api('POST', '/api/emergencies/' + encodeURIComponent(id) + '/confirm');
  if (r.status !== 200) { notice((r.data && r.data.error) || 'The confirmation failed.'); return; }
  notice('Drill ' + id + ' confirmed: its muster board shows names now.');
  await loadSites();
}

function stopBoard() {
  if (state.board) state.board.close();
  state.board = null;
  state.boardId = null;
  show('board-view', false);
}

function openBoard(id, site) {
  stopBoard();
  state.boardId = id;
  text('board-title', (site.kind === 'drill' ? 'Drill' : 'EMERGENCY') + ' at ' + site.site);
  text('board-state', 'connecting…');
  show('declare-view', false);
  show('board-view', true);
  $('close').textContent = 'Close the ' + (site.kind === 'drill' ? 'drill' : 'emergency');
  show('close', true);
  show('close-confirm', false);
  const es = new EventSource('/api/muster/stream?emergency=' + encodeURIComponent(id));
  state.board = es;
  es.addEventListener('board', (e) => renderBoard(JSON.parse(e.data)));
  es.addEventListener('ended', (e) => {
    const why = JSON.parse(e.data);
    es.close();
    if (state.board === es) state.board = null;
    text('board-state', 'not live: ' + why.message);
    if (why.reason === 'session') signedOut('Your session has ended. Please sign in again.');
  });
  es.onerror = () => { if (state.board === es) text('board-state', 'reconnecting…'); };
}

function renderBoard(b) {
  text('count-unaccounted', b.unaccounted);
  text('count-accounted', b.accounted);
  text('count-left', b.left);
  text('count-on-roll', b.on_roll);
  $('count-unaccounted').parentNode.classList.toggle('clear', b.unaccounted === 0);
  text('board-state', (b.closed_at ? 'closed at ' + localTime(b.closed_at) : 'live') +
    ' · updated ' + new Date().toLocaleTimeString());
  const points = $('points');
  clear(points);
  for (const p of b.muster_points) {
    const li = el('li');
    li.appendChild(el('span', '', p.reader));
    li.appendChild(el('span', '', p.zone || ''));
    li.appendChild(el('span', 'n', p.accounted));
    points.appendChild(li);
  }
  const persons = $('persons');
  clear(persons);
  const withheld = {
    closed: 'Closed: no names are shown any more.',
    unconfirmed_drill: 'Names are shown once a second officer of the site confirms this drill.',
  };
  if (b.unaccounted_persons.length === 0) persons.appendChild(el('li', '', withheld[b.names_withheld] || 'Nobody.'));
  for (const p of b.unaccounted_persons) {
    const li = el('li');
    li.appendChild(el('span', 'pname', p.name || (p.person_id ? 'person ' + p.person_id : 'unnamed badge')));
    li.appendChild(el('span', 'zone', p.zone || 'zone unknown'));
    if (p.category) li.appendChild(el('span', '', p.category));
    li.appendChild(el('span', '', 'last seen ' + localTime(p.last_seen)));
    persons.appendChild(li);
  }
  if (b.closed_at) { show('close', false); show('close-confirm', false); }
}

let confirmTimer = null;
function askClose() {
  show('close', false);
  show('close-confirm', true);
  clearTimeout(confirmTimer);
  confirmTimer = setTimeout(() => { show('close-confirm', false); show('close', true); }, 8000);
}

async function closeEmergency() {
  clearTimeout(confirmTimer);
  show('close-confirm', false);
  const id = state.boardId;
  const r = await api('POST', '/api/emergencies/' + encodeURIComponent(id) + '/close');
  if (r.status !== 204) { notice((r.data && r.data.error) || 'Closing failed.'); show('close', true); return; }
  notice('Closed. The muster roll is deleted by the next purge pass.');
  stopBoard();
  await loadSites();
}

// --- auditors --------------------------------------------------------------------------

async function loadAudit() {
  const r = await api('GET', '/api/audit/verify');
  if (r.status === 200) {
    const v = r.data;
    const verdict = $('verdict');
    verdict.textContent = v.compliant ? 'Compliant' : 'NOT compliant';
    verdict.className = 'verdict ' + (v.compliant ? 'ok' : 'bad');
    const list = $('violations');
    clear(list);
    for (const x of v.violations) list.appendChild(el('li', '', x.rule + ': ' + x.detail));
    const facts = $('facts');
    clear(facts);
    const rows = [
      ['Oldest access record', duration(v.oldest_access_record_age_s)],
      ['Limit', duration(v.access_max_age_s)],
      ['Last purge pass', v.last_purge_at ? new Date(v.last_purge_at).toLocaleString() : 'never'],
      ['Purge interval', duration(v.purge_interval_s)],
      ['Audit chain', v.audit_chain],
      ['Checked', new Date(v.checked_at).toLocaleString()],
    ];
    for (const [k, val] of rows) { facts.appendChild(el('dt', '', k)); facts.appendChild(el('dd', '', val)); }
  }
  await loadReport();
}

function utcInput(d) { return d.toISOString().slice(0, 16); }

async function loadReport(ev) {
  if (ev) ev.preventDefault();
  if (!$('report-to').value) {
    const now = new Date();
    $('report-to').value = utcInput(now);
    $('report-from').value = utcInput(new Date(now.getTime() - 24 * 3600 * 1000));
  }
  const q = '?from=' + encodeURIComponent($('report-from').value + ':00Z') +
    '&to=' + encodeURIComponent($('report-to').value + ':59Z');
  const r = await api('GET', '/api/audit/report' + q);
  if (r.status !== 200) { text('report-summary', (r.data && r.data.error) || 'No report.'); return; }
  const d = r.data;
  text('report-summary', d.passes_total + ' purge passes, ' + d.failures + ' failed; ' +
    'oldest possible age ' + duration(d.max_age_s) + ' (limit ' + duration(d.access_max_age_s) + '); ' +
    'longest gap between passes ' + duration(d.max_gap_s) + '.');
  drawChart(d);
  const body = $('report-table').tBodies[0];
  clear(body);
  for (const p of d.passes) {
    const tr = el('tr');
    for (const c of [p.at.replace('T', ' ').replace('Z', ''), p.outcome,
      p.duration_ms === null ? '–' : Math.round(p.duration_ms) + ' ms', duration(p.gap_s),
      duration(p.age_before_s), duration(p.age_after_s)]) tr.appendChild(el('td', '', c));
    body.appendChild(tr);
  }
  text('report-anchor', d.anchor ? 'Audit chain at the report\u2019s end (' + d.anchor.chained_at +
    '), for sacctl audit verify --anchor: ' + d.anchor.anchor : 'The audit chain is empty.');
}

function drawChart(d) {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 800, H = 260, L = 50, B = 24;
  const box = $('report-chart');
  clear(box);
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'Oldest possible access record age at each purge pass');
  // From the first pass (or the period's start) to the period's end.
  const t1 = Date.parse(d.to);
  const first = d.passes.length ? Date.parse(d.passes[0].at) : Date.parse(d.from);
  const t0 = Math.max(Date.parse(d.from), first - (t1 - first) * 0.05 - 1000);
  const limit = d.access_max_age_s || 86400;
  let ymax = limit * 1.1;
  for (const p of d.passes) if (p.age_before_s > ymax) ymax = p.age_before_s * 1.05;
  const x = (t) => L + (W - L - 8) * (t - t0) / Math.max(1, t1 - t0);
  const y = (s) => (H - B) - (H - B - 8) * s / ymax;
  const line = (x1, y1, x2, y2, color, dash) => {
    const l = document.createElementNS(NS, 'line');
    l.setAttribute('x1', x1); l.setAttribute('y1', y1); l.setAttribute('x2', x2); l.setAttribute('y2', y2);
    l.setAttribute('stroke', color); l.setAttribute('stroke-width', '2');
    if (dash) l.setAttribute('stroke-dasharray', '6 4');
    svg.appendChild(l);
  };
  const label = (tx, ty, s, anchor) => {
    const t = document.createElementNS(NS, 'text');
    t.setAttribute('x', tx); t.setAttribute('y', ty); t.setAttribute('font-size', '13');
    if (anchor) t.setAttribute('text-anchor', anchor);
    t.textContent = s;
    svg.appendChild(t);
  };
  line(L, H - B, W - 8, H - B, '#000');
  line(L, 8, L, H - B, '#000');
  line(L, y(limit), W - 8, y(limit), '#a00000', true);
  label(W - 10, y(limit) - 4, 'limit ' + duration(limit), 'end');
  label(L - 4, H - B, '0', 'end');
  label(L, H - 6, new Date(t0).toISOString().replace('T', ' ').slice(0, 19));
  label(W - 8, H - 6, d.to.replace('T', ' ').replace('Z', ''), 'end');
  const pts = [];
  for (const p of d.passes) {
    const px = x(Date.parse(p.at)).toFixed(1);
    if (p.age_before_s !== null) pts.push(px + ',' + y(p.age_before_s).toFixed(1));
    if (p.age_after_s !== null) pts.push(px + ',' + y(p.age_after_s).toFixed(1));
    if (p.outcome !== 'allowed') {
      const c = document.createElementNS(NS, 'circle');
      c.setAttribute('cx', px); c.setAttribute('cy', H - B - 6); c.setAttribute('r', '5');
      c.setAttribute('fill', '#a00000');
      svg.appendChild(c);
    }
  }
  const poly = document.createElementNS(NS, 'polyline');
  poly.setAttribute('points', pts.join(' '));
  poly.setAttribute('fill', 'none'); poly.setAttribute('stroke', '#003d73'); poly.setAttribute('stroke-width', '2');
  svg.appendChild(poly);
  box.appendChild(svg);
}

// --- admins -----------------------------------------------------------------------------

async function loadReaders() {
  const r = await api('GET', '/api/readers');
  if (r.status === 200) {
    const body = $('readers').tBodies[0];
    clear(body);
    for (const x of r.data) {
      const tr = el('tr');
      for (const c of [x.id, x.site, x.direction, x.zone || '', !x.enabled ? 'disabled' : (x.online ? 'online' : 'offline'),
        x.last_seen ? new Date(x.last_seen).toLocaleString() : 'never']) tr.appendChild(el('td', '', c));
      body.appendChild(tr);
    }
  }
  const d = await api('GET', '/api/readers/denials');
  if (d.status === 200) {
    const body = $('denials').tBodies[0];
    clear(body);
    for (const x of d.data) {
      const tr = el('tr');
      for (const c of [x.reader, x.site, x.hour, x.denials]) tr.appendChild(el('td', '', c === null ? '' : c));
      body.appendChild(tr);
    }
  }
}

// --- wiring ----------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', signOut);
  $('ack').addEventListener('click', acknowledge);
  $('declare-form').addEventListener('submit', declare);
  $('close').addEventListener('click', askClose);
  $('close-confirm').addEventListener('click', closeEmergency);
  $('report-form').addEventListener('submit', loadReport);
  $('report-print').addEventListener('click', () => window.print());
  start();
});
