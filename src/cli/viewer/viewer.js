// haywire's memory viewer: guest memory drawn as pixels, processes and their maps, the
// run state. Talks only to the haywire process that served it (the token travels in a
// same-site cookie set with this page).
'use strict';

const $ = (id) => document.getElementById(id);
const BITS = { rgba8888: 32, bgra8888: 32, xrgb8888: 32, rgb888: 24, bgr888: 24, rgb565: 16,
               gray8: 8, '1-bit': 1 };

const view = {
  space: 'phys',        // 'phys' or a pid (string)
  addr: 0n,
  format: 'rgba8888',
  width: 256,
  stride: 0,            // 0: the width's bytes
  zoom: 2,
  rows: 0,              // drawn rows (from the window's height)
  decoded: null,        // an image file found in memory, shown decoded instead: {kind, addr, pid}
};
let busy = false, again = false, lastEpoch = -1, running = true, held = false, liveTimer = 0;

function say(text) { $('message').textContent = text || ''; }

async function api(path, opts) {
  const r = await fetch(path, Object.assign({ credentials: 'same-origin', cache: 'no-store' }, opts));
  if (!r.ok) {
    let why = r.status + ' ' + r.statusText;
    try { why = (await r.json()).error || why; } catch (e) { /* not JSON */ }
    throw new Error(why);
  }
  return r;
}

function hex(v) { return '0x' + BigInt.asUintN(64, v).toString(16); }

function parseAddr(text) {
  text = text.trim().toLowerCase();
  if (!/^(0x)?[0-9a-f]+$/.test(text)) throw new Error('address: hex digits, as 0x1234abcd');
  return BigInt.asUintN(64, BigInt(text.startsWith('0x') ? text : '0x' + text));
}

function rowBytes() {
  return Math.ceil(view.width * BITS[view.format] / 8);
}

function stride() { return view.stride > 0 ? view.stride : rowBytes(); }

function syncControls() {
  $('addr').value = hex(view.addr);
  $('width').value = view.width;
  $('stride').value = view.stride;
  $('format').value = view.format;
  $('zoom').value = String(view.zoom);
  const space = $('space');
  if (![...space.options].some((o) => o.value === view.space)) {
    // A process the list does not show (a thread, or one that started since).
    const o = document.createElement('option');
    o.value = view.space;
    o.textContent = 'pid ' + view.space;
    space.appendChild(o);
  }
  space.value = view.space;
}

// Draw RGBA rows from reply R (size in its headers) on the canvas, scaled without smoothing.
async function paint(r) {
  const w = Number(r.headers.get('X-Haywire-Width')), h = Number(r.headers.get('X-Haywire-Height'));
  const pixels = new Uint8ClampedArray(await r.arrayBuffer());
  if (pixels.length !== w * h * 4 || w === 0) throw new Error('short pixel reply');
  const bitmap = await createImageBitmap(new ImageData(pixels, w, h));
  const c = $('canvas');
  c.width = w * view.zoom;
  c.height = h * view.zoom;
  const ctx = c.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(bitmap, 0, 0, c.width, c.height);
  bitmap.close();
  c.dataset.state = r.headers.get('X-Haywire-State') || '';
  return [w, h];
}

// An image file found in memory, decoded by its library on the server.
async function drawDecoded() {
  const d = view.decoded;
  const q = new URLSearchParams({ kind: d.kind, addr: d.addr });
  if (d.pid) q.set('pid', String(d.pid));
  const [w, h] = await paint(await api('/api/decoded?' + q));
  say('');
  $('cursor').textContent = 'decoded ' + d.kind + ' ' + w + 'x' + h + ' from ' +
    (d.pid ? 'pid ' + d.pid + ' va ' : 'gpa ') + d.addr + ' (change any control to go back to the memory view)';
}

// Draw the window: one request for its rows, drawn scaled without smoothing.
async function draw(live) {
  if ($('memory-tab').hidden) return;   // drawn when its tab is shown again
  if (busy) { again = true; return; }
  busy = true;
  try {
    if (view.decoded) { await drawDecoded(); return; }
    const box = $('canvas-box');
    view.rows = Math.max(1, Math.floor(box.clientHeight / view.zoom));
    const width = view.width;
    const q = new URLSearchParams({ addr: hex(view.addr), format: view.format, width: String(width),
                                    height: String(view.rows), stride: String(stride()) });
    if (view.space === 'phys') q.set('phys', '1'); else q.set('pid', view.space);
    if (live) q.set('live', '1');
    const r = await api('/api/pixels?' + q);
    await paint(r);
    const unreadable = Number(r.headers.get('X-Haywire-Unreadable'));
    say(unreadable ? unreadable + ' bytes unreadable (hatched)' : '');
  } catch (e) {
    say(e.message);
  } finally {
    busy = false;
    if (again) { again = false; draw(live); }
  }
}

async function pollState() {
  try {
    const s = await (await api('/api/state')).json();
    running = s.running;
    held = s.held;
    $('guest').textContent = s.arch + ', ' + s.vcpus + ' vCPU' + (s.vcpus === 1 ? '' : 's');
    const rs = $('runstate');
    rs.textContent = s.status + (held ? ' (by the viewer)' : '');
    rs.className = 'badge ' + (s.running ? 'running' : 'paused');
    $('epoch').textContent = 'epoch ' + s.epoch;
    $('pause').textContent = running ? 'Pause' : 'Resume';
    $('pause').disabled = !running && !held;
    $('pause').title = !running && !held ? 'paused by someone else: theirs to resume' : 'p';
    if (s.epoch !== lastEpoch) { lastEpoch = s.epoch; if (!$('live').checked) draw(false); }
  } catch (e) {
    say('the server does not answer: ' + e.message);
  }
}

async function loadProcesses() {
  const list = $('procs');
  try {
    const ps = await (await api('/api/ps')).json();
    list.textContent = '';
    const tasks = ps.tasks.filter((t) => !t.kernel_thread);
    for (const t of tasks) {
      const li = document.createElement('li');
      li.textContent = String(t.pid).padStart(5) + '  ' + t.comm;
      li.dataset.pid = t.pid;
      li.title = 'pid ' + t.pid + ', parent ' + t.ppid + ', uid ' + t.uid + ', state ' + t.state;
      li.addEventListener('click', () => selectProcess(t));
      list.appendChild(li);
    }
    const space = $('space');
    for (const t of tasks) {
      const o = document.createElement('option');
      o.value = String(t.pid);
      o.textContent = 'pid ' + t.pid + ' ' + t.comm;
      space.appendChild(o);
    }
  } catch (e) {
    list.innerHTML = '<li class="muted"></li>';
    list.firstChild.textContent = 'no processes: ' + e.message;
  }
}

async function selectProcess(t) {
  for (const li of $('procs').children) li.classList.toggle('selected', li.dataset.pid === String(t.pid));
  const maps = $('maps');
  $('maps-title').hidden = false;
  $('maps-title').textContent = 'Maps of ' + t.comm + ' (' + t.pid + ')';
  maps.textContent = '';
  try {
    const m = await (await api('/api/maps?pid=' + t.pid)).json();
    for (const v of m.maps) {
      const li = document.createElement('li');
      li.textContent = v.start.replace(/^0x/, '').padStart(12, '0') + ' ' + v.perms + ' ' +
                       (v.path || '');
      li.title = v.start + '-' + v.end;
      li.addEventListener('click', () => {
        view.space = String(t.pid);
        view.addr = BigInt(v.start);
        syncControls();
        draw(false);
      });
      maps.appendChild(li);
    }
  } catch (e) {
    maps.innerHTML = '<li class="muted"></li>';
    maps.firstChild.textContent = e.message;
  }
}

// Where a find is best looked at: through a process that maps it (its bytes are
// contiguous there even when its pages are not), else physical.
function findPlace(f) {
  const p = (f.owners || []).find((o) => o.kind === 'process');
  return p ? { pid: String(p.pid), addr: p.va, who: p.comm + ' (' + p.pid + ')' }
           : { pid: null, addr: f.gpa, who: 'physical' };
}

async function loadFinds() {
  const list = $('finds');
  list.innerHTML = '<li class="muted">scanning…</li>';
  try {
    const res = await (await api('/api/finds')).json();
    list.textContent = '';
    const images = res.hits.filter((h) => h.width > 0);
    if (images.length === 0) list.innerHTML = '<li class="muted">no images found</li>';
    for (const f of images) {
      const li = document.createElement('li');
      const place = findPlace(f);
      li.textContent = f.format + ' ' + f.width + 'x' + f.height + '  ' + place.who;
      li.title = 'gpa ' + f.gpa + ', ' + f.size + ' bytes, confidence ' + f.confidence.toFixed(2);
      li.dataset.kind = f.kind;
      li.addEventListener('click', () => {
        for (const x of list.children) x.classList.toggle('selected', x === li);
        if (f.kind === 'framebuffer') {
          view.decoded = null;
          view.space = place.pid || 'phys';
          view.addr = BigInt(place.addr);
          view.format = f.format;
          view.width = f.width;
          view.stride = f.stride;
          syncControls();
        } else {
          view.decoded = { kind: f.kind, addr: place.addr, pid: place.pid };
        }
        draw(false);
      });
      list.appendChild(li);
    }
    if (res.partial) say('the scan is partial: some memory could not be read');
  } catch (e) {
    list.innerHTML = '<li class="muted"></li>';
    list.firstChild.textContent = 'no finds: ' + e.message;
  }
}

// ---- the overview: every page of RAM by class, one square per page ----------------

const PAGES_PER_ROW = 512;
const overview = { ranges: [], classes: [], zoom: 2, loaded: -1 };

function colourOf(hexColour) {
  const v = parseInt(hexColour.slice(1), 16);
  return [v >> 16 & 255, v >> 8 & 255, v & 255];
}

async function loadOverview() {
  $('overview-legend').textContent = 'scanning all RAM…';
  try {
    const o = await (await api('/api/overview')).json();
    overview.classes = o.classes;
    let row = 0;
    overview.ranges = o.ranges.map((r) => {
      const raw = atob(r.classes), bytes = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      const range = { gpa: BigInt(r.gpa), pages: r.pages, bytes, row0: row };
      row += Math.ceil(r.pages / PAGES_PER_ROW) + 1;   // a blank row between ranges
      return range;
    });
    const rows = Math.max(1, row - 1);
    const img = new ImageData(PAGES_PER_ROW, rows);
    const colours = o.classes.map((c) => colourOf(c.colour));
    const counts = new Array(o.classes.length).fill(0);
    for (const r of overview.ranges)
      for (let i = 0; i < r.pages; i++) {
        const cls = r.bytes[i] < colours.length ? r.bytes[i] : 1;
        counts[cls]++;
        const at = ((r.row0 + Math.floor(i / PAGES_PER_ROW)) * PAGES_PER_ROW + i % PAGES_PER_ROW) * 4;
        img.data.set(colours[cls], at);
        img.data[at + 3] = 255;
      }
    // As large as the box allows a whole row: 1 to 4 pixels a page.
    overview.zoom = Math.max(1, Math.min(4, Math.floor(($('overview-box').clientWidth - 2) / PAGES_PER_ROW)));
    const c = $('overview');
    c.width = PAGES_PER_ROW;
    c.height = rows;
    c.style.width = PAGES_PER_ROW * overview.zoom + 'px';
    c.style.height = rows * overview.zoom + 'px';
    c.getContext('2d').putImageData(img, 0, 0);
    const legend = $('overview-legend');
    legend.textContent = '';
    o.classes.forEach((cls, i) => {
      const span = document.createElement('span'), swatch = document.createElement('i');
      swatch.style.background = cls.colour;
      span.appendChild(swatch);
      span.appendChild(document.createTextNode(cls.name + ' ' + counts[i]));
      legend.appendChild(span);
    });
    if (!o.tables_known) legend.appendChild(document.createTextNode(' (page tables unknown)'));
    overview.loaded = o.epoch;
  } catch (e) {
    $('overview-legend').textContent = 'no overview: ' + e.message;
  }
}

// The page under the pointer of event E on the overview, or null.
function overviewPage(e) {
  const c = $('overview'), r = c.getBoundingClientRect();
  const x = Math.floor((e.clientX - r.left) / overview.zoom), y = Math.floor((e.clientY - r.top) / overview.zoom);
  if (x < 0 || x >= PAGES_PER_ROW) return null;
  for (const range of overview.ranges) {
    const i = (y - range.row0) * PAGES_PER_ROW + x;
    if (y >= range.row0 && i < range.pages) {
      const cls = overview.classes[range.bytes[i]] || overview.classes[1];
      return { gpa: range.gpa + BigInt(i) * 4096n, cls: cls.name };
    }
  }
  return null;
}

function showTab(name) {
  for (const b of document.querySelectorAll('.tab')) b.classList.toggle('selected', b.dataset.tab === name);
  $('memory-tab').hidden = name !== 'memory';
  $('overview-tab').hidden = name !== 'overview';
  if (name === 'overview' && overview.loaded !== lastEpoch) loadOverview();
  if (name === 'memory') draw(false);
}

function fromControls() {
  view.decoded = null;
  try {
    view.addr = parseAddr($('addr').value);
  } catch (e) { say(e.message); return; }
  view.format = $('format').value;
  view.width = Math.min(16384, Math.max(1, Number($('width').value) || 1));
  view.stride = Math.max(0, Number($('stride').value) || 0);
  view.zoom = Number($('zoom').value);
  view.space = $('space').value;
  syncControls();
  draw(false);
}

function step(rows) {
  const delta = BigInt(rows) * BigInt(stride());
  const next = view.addr + delta;
  if (next < 0n) return;   // above address 0: nothing to show
  view.addr = BigInt.asUintN(64, next);
  syncControls();
  draw(false);
}

async function togglePause() {
  try {
    await api(running ? '/api/pause' : '/api/resume', { method: 'POST' });
  } catch (e) { say(e.message); }
  pollState();
}

function onKey(e) {
  if (e.target.tagName === 'INPUT' || e.target.tagName === 'SELECT') return;
  const k = e.key;
  if (k === 'ArrowRight' || k === 'ArrowLeft') {
    const d = (e.shiftKey ? 8 : 1) * (k === 'ArrowRight' ? 1 : -1);
    view.width = Math.min(16384, Math.max(1, view.width + d));
  } else if (k === ']') view.width = Math.min(16384, view.width * 2);
  else if (k === '[') view.width = Math.max(1, Math.floor(view.width / 2));
  else if (k === 'ArrowDown') { step(1); e.preventDefault(); return; }
  else if (k === 'ArrowUp') { step(-1); e.preventDefault(); return; }
  else if (k === 'PageDown') { step(view.rows); e.preventDefault(); return; }
  else if (k === 'PageUp') { step(-view.rows); e.preventDefault(); return; }
  else if (k === '.') view.addr = BigInt.asUintN(64, view.addr + 1n);
  else if (k === ',') view.addr = BigInt.asUintN(64, view.addr - 1n);
  else if (k === 'p') { togglePause(); return; }
  else if (k === 'o') { showTab('overview'); return; }
  else if (k === 'm') { showTab('memory'); return; }
  else return;
  e.preventDefault();
  view.decoded = null;
  syncControls();
  draw(false);
}

function onMove(e) {
  const c = $('canvas'), r = c.getBoundingClientRect();
  const x = Math.floor((e.clientX - r.left) / view.zoom), y = Math.floor((e.clientY - r.top) / view.zoom);
  if (x < 0 || y < 0 || x >= view.width || y >= view.rows) return;
  const at = view.addr + BigInt(y) * BigInt(stride()) + BigInt(Math.floor(x * BITS[view.format] / 8));
  $('cursor').textContent = (view.space === 'phys' ? 'gpa ' : 'va ') + hex(at) + '  (row ' + y +
                            ', pixel ' + x + ')' + (c.dataset.state ? '  · ' + c.dataset.state : '');
}

function setLive() {
  clearInterval(liveTimer);
  liveTimer = 0;
  if ($('live').checked)
    liveTimer = setInterval(() => { if (running) draw(true); }, Number($('rate').value));
}

function start() {
  const params = new URLSearchParams(location.search);
  if (params.has('addr')) { try { view.addr = parseAddr(params.get('addr')); } catch (e) { say(e.message); } }
  if (params.has('format') && BITS[params.get('format')]) view.format = params.get('format');
  if (params.has('width')) view.width = Math.min(16384, Math.max(1, Number(params.get('width')) || 256));
  if (params.has('pid') && /^[0-9]+$/.test(params.get('pid'))) view.space = params.get('pid');
  // The token is in the cookie now: keep it out of the address bar and the history.
  if (params.has('token')) { params.delete('token'); history.replaceState(null, '', '?' + params); }
  // (tab=overview opens the overview first)
  $('controls').addEventListener('change', fromControls);
  $('controls').addEventListener('submit', (e) => { e.preventDefault(); fromControls(); });
  $('live').addEventListener('change', setLive);
  $('rate').addEventListener('change', setLive);
  $('pause').addEventListener('click', togglePause);
  $('canvas').addEventListener('mousemove', onMove);
  document.addEventListener('keydown', onKey);
  window.addEventListener('resize', () => draw(false));
  $('rescan').addEventListener('click', loadFinds);
  for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('overview').addEventListener('mousemove', (e) => {
    const p = overviewPage(e);
    $('overview-cursor').textContent = p ? 'gpa ' + hex(p.gpa) + '  ' + p.cls : '';
  });
  $('overview').addEventListener('click', (e) => {
    const p = overviewPage(e);
    if (!p) return;
    view.decoded = null;
    view.space = 'phys';
    view.addr = p.gpa;
    syncControls();
    showTab('memory');
  });
  const tab = params.get('tab') === 'overview' ? 'overview' : 'memory';
  loadProcesses().then(async () => {
    syncControls();
    await pollState();
    if (tab !== 'memory') showTab(tab);
    loadFinds();
  });
  setInterval(pollState, 1000);
}

start();
