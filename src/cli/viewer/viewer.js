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
let busy = false, again = false, againLive = false, lastEpoch = -1, running = true, held = false, liveTimer = 0;
// The bytes the hex and text panes show: those around AT (a BigInt, or null: the
// window's first), pinned by a click or following the pointer.
const inspect = { at: null, pinned: false, timer: 0, seq: 0 };
// Each process's memory map (pid -> [{start, end, perms, path}], BigInt bounds), as
// /api/maps gave it: for skipping holes and naming the mapping under the cursor.
const vmaCache = new Map();

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

// The rows the canvas's box has room for at the zoom.
function windowRows() { return Math.max(1, Math.floor($('canvas-box').clientHeight / view.zoom)); }

// Where requests read: physical memory or the chosen process, into query Q.
function spaceQuery(q) {
  if (view.space === 'phys') q.set('phys', '1'); else q.set('pid', view.space);
  return q;
}

function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

// PID's memory map, fetched once (FRESH: again).
async function mapsOf(pid, fresh) {
  if (fresh || !vmaCache.has(pid)) {
    const m = await (await api('/api/maps?pid=' + pid)).json();
    vmaCache.set(pid, m.maps.map((v) => ({ start: BigInt(v.start), end: BigInt(v.end),
                                           perms: v.perms, path: v.path || '' })));
  }
  return vmaCache.get(pid);
}

// The mapping of the shown process that holds AT, or null.
function vmaAt(at) {
  const list = view.space === 'phys' ? null : vmaCache.get(view.space);
  return list ? list.find((v) => at >= v.start && at < v.end) || null : null;
}

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

// ---- the picture stream: a WebSocket that answers each window request with a frame --

const FRAME_HEADER = 56;
const stream = { ws: null, ready: false, seq: 0, drawn: 0, waiting: null, frames: [] };

function openStream() {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host +
                           '/api/stream');
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => { stream.ready = true; };
  ws.onclose = () => {
    stream.ready = false;
    stream.ws = null;
    if (stream.waiting) { stream.waiting.reject(new Error('the picture stream closed')); stream.waiting = null; }
    setTimeout(openStream, 2000);   // the server may be back (or the page falls back to requests)
  };
  ws.onmessage = (m) => {
    const w = stream.waiting;
    stream.waiting = null;
    if (!w) return;
    if (typeof m.data === 'string') {
      let why = 'the stream refused';
      try { why = JSON.parse(m.data).error || why; } catch (e) { /* not JSON */ }
      w.reject(new Error(why));
      return;
    }
    stream.drawn++;
    w.resolve(m.data);
  };
  stream.ws = ws;
}

// One frame for the window request Q (URLSearchParams) over the stream:
// {w, h, unreadable, state, pixels}.
function streamFrame(q) {
  return new Promise((resolve, reject) => {
    stream.waiting = { resolve, reject };
    const req = Object.fromEntries(q);
    req.seq = ++stream.seq;
    req.drawn = stream.drawn;
    stream.ws.send(JSON.stringify(req));
  }).then((buf) => {
    const d = new DataView(buf);
    if (buf.byteLength < FRAME_HEADER || d.getUint32(0, true) !== 0x58505748) throw new Error('not a frame');
    const w = d.getUint32(8, true), h = d.getUint32(12, true);
    const state = new TextDecoder().decode(new Uint8Array(buf, 32, FRAME_HEADER - 32)).replace(/\0.*$/s, '');
    if (buf.byteLength !== FRAME_HEADER + w * h * 4) throw new Error('short frame');
    return { w, h, state, unreadable: Number(d.getBigUint64(24, true)),
             pixels: new Uint8ClampedArray(buf, FRAME_HEADER, w * h * 4) };
  });
}

// The window's pixels: over the stream when it is open, else one request.
async function fetchPixels(q) {
  if (stream.ready && !stream.waiting) return streamFrame(q);
  const r = await api('/api/pixels?' + q);
  return { w: Number(r.headers.get('X-Haywire-Width')), h: Number(r.headers.get('X-Haywire-Height')),
           state: r.headers.get('X-Haywire-State') || '', unreadable: Number(r.headers.get('X-Haywire-Unreadable')),
           pixels: new Uint8ClampedArray(await r.arrayBuffer()) };
}

// Frames drawn in the last second, shown while live.
function countFrame() {
  const now = performance.now();
  stream.frames.push(now);
  while (stream.frames.length && stream.frames[0] < now - 1000) stream.frames.shift();
  $('fps').textContent = $('live').checked ? stream.frames.length + ' frames/s' : '';
}

// Draw frame F ({w, h, pixels, state}) on the canvas, scaled without smoothing.
async function paint(f) {
  const { w, h, pixels } = f;
  if (pixels.length !== w * h * 4 || w === 0) throw new Error('short pixel reply');
  const bitmap = await createImageBitmap(new ImageData(pixels, w, h));
  const c = $('canvas');
  c.width = w * view.zoom;
  c.height = h * view.zoom;
  const ctx = c.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(bitmap, 0, 0, c.width, c.height);
  bitmap.close();
  c.dataset.state = f.state;
  return [w, h];
}

// An image file found in memory, decoded by its library on the server.
async function drawDecoded() {
  const d = view.decoded;
  const q = new URLSearchParams({ kind: d.kind, addr: d.addr });
  if (d.pid) q.set('pid', String(d.pid));
  const r = await api('/api/decoded?' + q);
  const [w, h] = await paint({ w: Number(r.headers.get('X-Haywire-Width')), h: Number(r.headers.get('X-Haywire-Height')),
                               state: r.headers.get('X-Haywire-State') || '',
                               pixels: new Uint8ClampedArray(await r.arrayBuffer()) });
  say('');
  $('cursor').textContent = 'decoded ' + d.kind + ' ' + w + 'x' + h + ' from ' +
    (d.pid ? 'pid ' + d.pid + ' va ' : 'gpa ') + d.addr + ' (change any control to go back to the memory view)';
}

// Draw the window: one request for its rows, drawn scaled without smoothing. True when
// this call drew it (false: not shown, or a draw in progress will draw it again).
async function draw(live) {
  if ($('memory-tab').hidden) return false;   // drawn when its tab is shown again
  if (busy) { again = true; againLive = live; return false; }
  busy = true;
  try {
    if (view.decoded) { await drawDecoded(); return true; }
    view.rows = windowRows();
    const width = view.width;
    const q = new URLSearchParams({ addr: hex(view.addr), format: view.format, width: String(width),
                                    height: String(view.rows), stride: String(stride()) });
    if (view.space === 'phys') q.set('phys', '1'); else q.set('pid', view.space);
    if (live) q.set('live', '1');
    const f = await fetchPixels(q);
    await paint(f);
    if (bench.on) {
      const now = performance.now();
      bench.worst = Math.max(bench.worst, now - bench.last);
      bench.last = now;
      bench.frames++;
    }
    if (live) countFrame();
    say(f.unreadable ? f.unreadable + ' bytes unreadable (hatched)' : '');
    if (!live && !bench.on) peekSoon(0);
    return true;
  } catch (e) {
    say(e.message);
    return false;
  } finally {
    busy = false;
    if (again) { again = false; draw(againLive); }
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
    if (s.epoch !== lastEpoch) { lastEpoch = s.epoch; if (!$('live').checked && !bench.on) draw(false); }
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
    for (const v of await mapsOf(String(t.pid), true)) {
      const li = document.createElement('li');
      li.textContent = v.start.toString(16).padStart(12, '0') + ' ' + v.perms + ' ' + v.path;
      li.title = hex(v.start) + '-' + hex(v.end) + ' (' + ((v.end - v.start) / 1024n) + ' KiB)';
      li.addEventListener('click', () => {
        view.decoded = null;
        view.space = String(t.pid);
        view.addr = v.start;
        inspect.at = null;
        inspect.pinned = false;
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

// The query that names find F read at PLACE, for /api/thumbnail and /api/carved.
function imageQuery(f, place) {
  const q = new URLSearchParams({ kind: f.kind, addr: place.addr });
  if (place.pid) q.set('pid', place.pid);
  if (f.kind === 'framebuffer') {
    q.set('format', f.format);
    q.set('width', String(f.width));
    q.set('height', String(f.height));
    q.set('stride', String(f.stride));
  }
  return q;
}

// Draw find Q's thumbnail on canvas C (marked loaded; a failure leaves its reason).
async function drawThumb(c, q) {
  try {
    const r = await api('/api/thumbnail?side=48&' + q);
    const w = Number(r.headers.get('X-Haywire-Width')), h = Number(r.headers.get('X-Haywire-Height'));
    const px = new Uint8ClampedArray(await r.arrayBuffer());
    if (px.length !== w * h * 4 || w === 0) throw new Error('short thumbnail');
    c.width = w;
    c.height = h;
    c.getContext('2d').putImageData(new ImageData(px, w, h), 0, 0);
    c.dataset.loaded = '1';
  } catch (e) {
    c.title = 'no thumbnail: ' + e.message;
  }
}

async function loadFinds() {
  const list = $('finds');
  list.innerHTML = '<li class="muted">scanning…</li>';
  try {
    const res = await (await api('/api/finds')).json();
    list.textContent = '';
    const images = res.hits.filter((h) => h.width > 0);
    const thumbs = [];
    if (images.length === 0) list.innerHTML = '<li class="muted">no images found</li>';
    for (const f of images) {
      const li = document.createElement('li');
      const place = findPlace(f);
      const q = imageQuery(f, place);
      const thumb = document.createElement('canvas');
      thumb.className = 'thumb';
      thumb.width = thumb.height = 1;
      li.appendChild(thumb);
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = f.format + ' ' + f.width + 'x' + f.height + '  ' + place.who;
      li.appendChild(label);
      const get = document.createElement('a');
      get.className = 'carve';
      get.textContent = '⤓';
      get.title = 'download the carved file (as carve writes it)';
      get.href = '/api/carved?' + q;
      get.download = '';
      get.addEventListener('click', (e) => e.stopPropagation());
      li.appendChild(get);
      thumbs.push([thumb, q]);
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
    // One at a time: each pauses the guest for its read.
    for (const [c, q] of thumbs) await drawThumb(c, q);
  } catch (e) {
    list.innerHTML = '<li class="muted"></li>';
    list.firstChild.textContent = 'no finds: ' + e.message;
  }
}

// A search of all RAM and every process for text, bytes or a regex: each place it is
// found, a click opens the memory view there with the hex pane pinned to it.
async function search(e) {
  e.preventDefault();
  const kind = $('search-kind').value, text = $('search-text').value;
  const list = $('matches');
  if (!text) { list.textContent = ''; return; }
  list.innerHTML = '<li class="muted">searching all RAM…</li>';
  try {
    const res = await (await api('/api/finds?' + new URLSearchParams({ [kind]: text }))).json();
    list.textContent = '';
    if (res.hits.length === 0) {
      list.innerHTML = '<li class="muted"></li>';
      list.firstChild.textContent = 'not found: ' + text;
    }
    for (const h of res.hits) {
      const place = findPlace(h);
      const li = document.createElement('li');
      const what = h.text !== undefined ? h.text : h.bytes;
      li.textContent = (h.encoding && h.encoding !== 'ascii' ? h.encoding + ' ' : '') + what + '  ' + place.who;
      li.title = 'gpa ' + h.gpa + ', ' + h.size + ' bytes' + (place.pid ? ', va ' + place.addr : '');
      li.dataset.gpa = h.gpa;
      li.addEventListener('click', () => {
        for (const x of list.children) x.classList.toggle('selected', x === li);
        view.decoded = null;
        view.space = place.pid || 'phys';
        view.addr = BigInt(place.addr);
        inspect.at = view.addr;
        inspect.pinned = true;
        syncControls();
        showTab('memory');
        draw(false);
      });
      list.appendChild(li);
    }
    if (res.truncated) list.appendChild(Object.assign(document.createElement('li'),
      { className: 'muted', textContent: 'the first ' + res.hits.length + ' places' }));
  } catch (err) {
    list.innerHTML = '<li class="muted"></li>';
    list.firstChild.textContent = err.message;
  }
}

// ---- the overview: every page of RAM by class, one square per page ----------------

const PAGES_PER_ROW = 512;
const overview = { ranges: [], classes: [], zoom: 2, loaded: -1, rows: 0, mode: 'classes', tablesKnown: true };

function colourOf(hexColour) {
  const v = parseInt(hexColour.slice(1), 16);
  return [v >> 16 & 255, v >> 8 & 255, v & 255];
}

// Decode base64 TEXT into bytes.
function unbase64(text) {
  const raw = atob(text), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

// Paint the overview: page I of range R in the colour COLOUR(r, i) gives ([r, g, b]).
function paintOverview(colour) {
  const rows = Math.max(1, overview.rows);
  const img = new ImageData(PAGES_PER_ROW, rows);
  for (const r of overview.ranges)
    for (let i = 0; i < r.pages; i++) {
      const at = ((r.row0 + Math.floor(i / PAGES_PER_ROW)) * PAGES_PER_ROW + i % PAGES_PER_ROW) * 4;
      img.data.set(colour(r, i), at);
      img.data[at + 3] = 255;
    }
  // Fit: as large as the box allows a whole row, 1 to 4 pixels a page; else as chosen
  // (the box scrolls).
  const chosen = Number($('ov-zoom').value);
  overview.zoom = chosen || Math.max(1, Math.min(4, Math.floor(($('overview-box').clientWidth - 2) / PAGES_PER_ROW)));
  const c = $('overview');
  c.width = PAGES_PER_ROW;
  c.height = rows;
  c.style.width = PAGES_PER_ROW * overview.zoom + 'px';
  c.style.height = rows * overview.zoom + 'px';
  c.getContext('2d').putImageData(img, 0, 0);
}

// A legend of ITEMS ([name, colour, count]) and then NOTE.
function legend(items, note) {
  const l = $('overview-legend');
  l.textContent = '';
  for (const [name, colour, count] of items) {
    const span = document.createElement('span'), swatch = document.createElement('i');
    swatch.style.background = colour;
    span.appendChild(swatch);
    span.appendChild(document.createTextNode(name + ' ' + count));
    l.appendChild(span);
  }
  if (note) l.appendChild(document.createTextNode(note));
}

async function loadOverview() {
  $('overview-legend').textContent = 'scanning all RAM…';
  try {
    const o = await (await api('/api/overview')).json();
    overview.classes = o.classes;
    let row = 0;
    overview.ranges = o.ranges.map((r) => {
      const range = { gpa: BigInt(r.gpa), pages: r.pages, bytes: unbase64(r.classes), row0: row };
      row += Math.ceil(r.pages / PAGES_PER_ROW) + 1;   // a blank row between ranges
      return range;
    });
    overview.rows = row - 1;
    overview.loaded = o.epoch;
    overview.tablesKnown = o.tables_known;
    if (overview.mode === 'classes') drawClasses();
    else if (overview.mode === 'heat') sampleHeat();
    else if (overview.mode === 'diff') drawDiff();
  } catch (e) {
    $('overview-legend').textContent = 'no overview: ' + e.message;
  }
}

function drawClasses() {
  const colours = overview.classes.map((c) => colourOf(c.colour));
  const counts = new Array(overview.classes.length).fill(0);
  paintOverview((r, i) => {
    const cls = r.bytes[i] < colours.length ? r.bytes[i] : 1;
    counts[cls]++;
    return colours[cls];
  });
  legend(overview.classes.map((c, i) => [c.name, c.colour, counts[i]]),
         overview.tablesKnown ? '' : ' (page tables unknown)');
}

// ---- Live: the heat map of changing pages, a snapshot and the diff against it -------

const HEAT_MS = 2000;
let heatTimer = 0;

// Heat H (0..255) as a colour: dark when cold, through red to yellow when just changed.
function heatColour(h) {
  if (h === 0) return [28, 30, 36];
  return [Math.min(255, 80 + h), Math.max(0, h * 2 - 255), 20];
}

// Where in the overview's ranges the answer's range at GPA is (its layout may differ
// when RAM changed: then the overview is loaded again).
function sameLayout(ranges) {
  return ranges.length === overview.ranges.length &&
         ranges.every((r, i) => BigInt(r.gpa) === overview.ranges[i].gpa && r.pages === overview.ranges[i].pages);
}

async function sampleHeat() {
  clearTimeout(heatTimer);
  if (overview.mode !== 'heat' || $('overview-tab').hidden) return;
  try {
    const h = await (await api('/api/heat')).json();
    if (!sameLayout(h.ranges)) { await loadOverview(); return; }
    const heat = h.ranges.map((r) => unbase64(r.heat));
    let hot = 0;
    paintOverview((r, i) => {
      const v = heat[overview.ranges.indexOf(r)][i];
      if (v === 255) hot++;
      return heatColour(v);
    });
    legend([['changed since the last sample', '#ffff14', h.changed]],
           h.sample === 1 ? ' (first sample: changes show from the next, every ' + HEAT_MS / 1000 + ' s)'
                          : ' (in ' + h.interval_ms + ' ms; hashing all RAM took ' + h.hash_ms + ' ms, ' + h.state + ')');
    $('overview-legend').dataset.changed = String(h.changed);
    $('overview-legend').dataset.sample = String(h.sample);
  } catch (e) {
    $('overview-legend').textContent = 'no heat map: ' + e.message;
  }
  heatTimer = setTimeout(sampleHeat, HEAT_MS);
}

const CHANGE_COLOURS = [null, [255, 90, 90], [90, 230, 130], [90, 140, 255]];

async function drawDiff() {
  try {
    const d = await (await api('/api/snapshot/diff')).json();
    if (!sameLayout(d.ranges)) { await loadOverview(); return; }
    const codes = d.ranges.map((r) => unbase64(r.changes));
    paintOverview((r, i) => CHANGE_COLOURS[codes[overview.ranges.indexOf(r)][i]] || [28, 30, 36]);
    const who = d.processes.slice(0, 5).map((p) => p.comm + ' (' + p.pid + ') ' + p.pages).join(', ');
    legend([['changed', '#ff5a5a', d.changed], ['appeared', '#5ae682', d.appeared], ['vanished', '#5a8cff', d.vanished]],
           ' since the snapshot of epoch ' + d.since_epoch + (who ? '; most in ' + who : ''));
    $('overview-legend').dataset.changed = String(d.changed + d.appeared + d.vanished);
  } catch (e) {
    $('overview-legend').textContent = e.message;
  }
}

async function takeSnapshot() {
  try {
    const t = await (await api('/api/snapshot', { method: 'POST' })).json();
    $('snap-save').hidden = false;
    $('ov-mode').querySelector('option[value=diff]').disabled = false;
    say('snapshot taken: ' + t.data_pages + ' of ' + t.pages + ' pages hold data, epoch ' + t.epoch);
    if (overview.mode === 'diff') drawDiff();
  } catch (e) { say(e.message); }
}

function setOverviewMode() {
  overview.mode = $('ov-mode').value;
  clearTimeout(heatTimer);
  if (overview.mode === 'classes') drawClasses();
  else if (overview.mode === 'heat') sampleHeat();
  else drawDiff();
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
      return { gpa: range.gpa + BigInt(i) * 4096n, cls: cls.name, range, i };
    }
  }
  return null;
}

// Who maps page P of the overview (one peek, in the pause it takes), shown after its
// gpa and class.
async function overviewOwners(p) {
  try {
    const q = new URLSearchParams({ phys: '1', addr: hex(p.gpa), len: '1', owners: '1' });
    const r = await (await api('/api/peek?' + q)).json();
    const line = $('overview-cursor');
    if (!line.textContent.startsWith('gpa ' + hex(p.gpa))) return;   // the pointer moved on
    const who = (r.owners || []).slice(0, 4).map(ownerText).join('; ');
    line.textContent = 'gpa ' + hex(p.gpa) + '  ' + p.cls + '  ·  ' +
      (who || (r.owners_known ? 'no page table maps it' : 'owners unknown')) +
      ((r.owners || []).length > 4 ? '; …' : '');
  } catch (e) { /* the line keeps the gpa and class */ }
}

// The wheel scrolls the memory view by rows (ctrl: zooms).
function onWheel(e) {
  e.preventDefault();
  if (e.ctrlKey) {
    const zooms = [1, 2, 3, 4, 8], at = zooms.indexOf(view.zoom);
    view.zoom = zooms[Math.max(0, Math.min(zooms.length - 1, at + (e.deltaY < 0 ? 1 : -1)))];
    syncControls();
    draw(false);
    return;
  }
  const rows = Math.sign(e.deltaY) * Math.max(1, Math.round(Math.abs(e.deltaY) / (4 * view.zoom)));
  step(rows);
}

// ---- Screen: the guest's display from its DRM objects ----------------------------------

function gemWhere(g) {
  if (g.backing === 'vram' && g.extents.length) return 'VRAM at ' + g.extents[0].gpa;
  if (g.backing === 'pages') return g.extents.length + ' RAM extent' + (g.extents.length === 1 ? '' : 's') +
    (g.extents.length ? ' from ' + g.extents[0].gpa : '');
  return 'unknown' + (g.note ? ' (' + g.note + ')' : '');
}

// A framebuffer's first extent in the memory view, as rows of its width and pitch.
function openFramebuffer(fb) {
  if (!fb.extents.length) return;
  view.decoded = null;
  view.space = 'phys';
  view.addr = BigInt(fb.extents[0].gpa) + BigInt(fb.offset);
  if (fb.pixel_format) view.format = fb.pixel_format;
  view.width = fb.width;
  view.stride = fb.pitch;
  syncControls();
  showTab('memory');
}

async function loadScreen() {
  const want = $('screen-fb').value;
  try {
    const g = await (await api('/api/gpu')).json();
    const sel = $('screen-fb');
    sel.replaceChildren(sel.options[0]);
    const body = $('gem').tBodies[0];
    body.replaceChildren();
    for (const fb of g.framebuffers) {
      const who = fb.pid >= 0 ? fb.comm + ' (' + fb.pid + ')' : 'the kernel (' + fb.comm + ')';
      const o = document.createElement('option');
      o.value = String(fb.id);
      o.textContent = 'framebuffer ' + fb.id + ': ' + fb.width + 'x' + fb.height + ' ' + fb.format + ', ' + who;
      sel.append(o);
      const tr = document.createElement('tr');
      tr.innerHTML = '<td>' + fb.id + '</td><td>' + fb.width + 'x' + fb.height + '</td><td>' + escapeHtml(fb.format) +
        '</td><td>' + escapeHtml(who) + '</td><td>' + (fb.on_screen ? 'crtc ' + fb.crtc : 'no') +
        '</td><td><a href="#">' + escapeHtml(gemWhere(fb)) + '</a></td>';
      tr.addEventListener('click', (e) => {
        if (e.target.tagName === 'A') { e.preventDefault(); openFramebuffer(fb); return; }
        $('screen-fb').value = String(fb.id);
        loadScreen();
      });
      body.append(tr);
    }
    for (const ob of g.objects) {
      if (ob.fb) continue;   // listed with its framebuffer
      const tr = document.createElement('tr');
      tr.innerHTML = '<td>-</td><td>' + Number(BigInt(ob.size)) + ' bytes</td><td>GEM ' + ob.handle + '</td><td>pid ' +
        ob.pid + '</td><td>no</td><td>' + escapeHtml(gemWhere(ob)) + '</td>';
      body.append(tr);
    }
    sel.value = [...sel.options].some((o) => o.value === want) ? want : '0';
    const r = await api('/api/screen' + (sel.value !== '0' ? '?fb=' + sel.value : ''));
    const w = Number(r.headers.get('X-Haywire-Width')), h = Number(r.headers.get('X-Haywire-Height'));
    const pixels = new Uint8ClampedArray(await r.arrayBuffer());
    if (pixels.length !== w * h * 4 || w === 0) throw new Error('short screen reply');
    const c = $('screen');
    c.width = w;
    c.height = h;
    c.getContext('2d').putImageData(new ImageData(pixels, w, h), 0, 0);
    const crtc = r.headers.get('X-Haywire-Crtc');
    $('screen-info').textContent = 'framebuffer ' + r.headers.get('X-Haywire-Framebuffer') + ' (' +
      r.headers.get('X-Haywire-Format') + ') ' + w + 'x' + h +
      (crtc !== '0' ? ', on crtc ' + crtc : ', not shown') + ', epoch ' + r.headers.get('X-Haywire-Epoch') +
      (r.headers.get('X-Haywire-Partial') === '1' ? ' (partial: unreadable pixels are black)' : '');
    c.dataset.fb = r.headers.get('X-Haywire-Framebuffer');
  } catch (e) {
    $('screen-info').textContent = e.message;
  }
}

function showTab(name) {
  for (const b of document.querySelectorAll('.tab')) b.classList.toggle('selected', b.dataset.tab === name);
  $('memory-tab').hidden = name !== 'memory';
  $('overview-tab').hidden = name !== 'overview';
  $('screen-tab').hidden = name !== 'screen';
  if (name === 'screen') loadScreen();
  if (name === 'overview' && overview.loaded !== lastEpoch) loadOverview();
  else if (name === 'overview' && overview.mode === 'heat') sampleHeat();
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
  if (!inspect.pinned) inspect.at = null;
  if (view.space !== 'phys') mapsOf(view.space).catch(() => {});
  syncControls();
  draw(false);
}

// Where a step from FROM to NEXT lands in a process whose mappings are LIST: NEXT if
// it is mapped, else over the hole to the next mapping (DOWN) or the end of the
// previous one (a window of WINDOW bytes before it), else FROM.
function skipHoles(list, from, next, down, window) {
  if (list.some((v) => next >= v.start && next < v.end)) return next;
  if (down) {
    const v = list.find((m) => m.start > next);
    return v ? v.start : from;
  }
  const before = list.filter((m) => m.end <= next);
  if (before.length === 0) return from;
  const v = before[before.length - 1];
  return v.end - v.start > window ? v.end - window : v.start;
}

function step(rows) {
  const delta = BigInt(rows) * BigInt(stride());
  let next = view.addr + delta;
  if (next < 0n) return;   // above address 0: nothing to show
  const list = view.space === 'phys' ? null : vmaCache.get(view.space);
  if (list && list.length)
    next = skipHoles(list, view.addr, next, rows > 0, BigInt(view.rows) * BigInt(stride()));
  view.addr = BigInt.asUintN(64, next);
  if (!inspect.pinned) inspect.at = null;
  syncControls();
  draw(false);
}

// ---- width suggestions: the strides at which the window lines up as rows ---------

function rowBytesOf(format, width) { return Math.ceil(width * BITS[format] / 8); }

async function suggest(anyFormat) {
  const list = $('widths');
  list.innerHTML = '<li class="muted">measuring…</li>';
  const base = view.addr, space = view.space;
  // The window's bytes (at least a page, at most the server's 4 MiB).
  const len = Math.min(4 << 20, Math.max(4096, stride() * windowRows()));
  const q = spaceQuery(new URLSearchParams({ addr: hex(base), len: String(len) }));
  if (!anyFormat) q.set('format', view.format);
  try {
    const r = await (await api('/api/widths?' + q)).json();
    list.textContent = '';
    if (r.guesses.length === 0) {
      list.innerHTML = '<li class="muted"></li>';
      list.firstChild.textContent = 'no stride lines these bytes up as rows' +
                                    (anyFormat ? '' : ' of ' + view.format) + ': try another format or address';
    }
    for (const g of r.guesses) {
      const li = document.createElement('li');
      const padded = g.stride !== rowBytesOf(g.format, g.width);
      li.textContent = (anyFormat ? g.format + ' ' : '') + g.width + (padded ? ' /' + g.stride : '');
      const fit = document.createElement('span');
      fit.className = 'fit';
      fit.textContent = '  ' + Math.round(g.fit * 100) + '%';
      li.appendChild(fit);
      li.dataset.width = g.width;
      li.dataset.format = g.format;
      li.title = g.width + ' pixels of ' + g.format + ', ' + g.stride + ' bytes a row' +
                 (g.offset ? ', rows start ' + g.offset + ' bytes in' : '') + '; ' +
                 Math.round(g.fit * 100) + '% of smooth bytes continue a row below';
      li.addEventListener('click', () => {
        for (const x of list.children) x.classList.toggle('selected', x === li);
        view.decoded = null;
        view.space = space;
        view.format = g.format;
        view.width = Math.min(16384, g.width);
        view.stride = padded ? g.stride : 0;
        view.addr = base + BigInt(g.offset);
        syncControls();
        draw(false);
      });
      list.appendChild(li);
    }
  } catch (e) {
    list.innerHTML = '<li class="muted"></li>';
    list.firstChild.textContent = 'no suggestions: ' + e.message;
  }
}

// ---- the hex and text panes, the address and owners under the cursor -------------

const PEEK_ROWS = 8;

// Peek at the inspected bytes after MS milliseconds (a moving pointer asks once).
function peekSoon(ms) {
  clearTimeout(inspect.timer);
  inspect.timer = setTimeout(peek, ms);
}

function ownerText(o) {
  if (o.kind === 'page-table')
    return 'page table (level ' + o.level + ') of ' + (o.pid ? o.comm + ' (' + o.pid + ')' : 'the kernel');
  const rights = 'r' + (o.writable ? 'w' : '-') + (o.executable ? 'x' : '-');
  return (o.kind === 'kernel' ? 'kernel' : o.comm + ' (' + o.pid + ')') + ' at ' + o.va + ' ' + rights;
}

async function peek() {
  if (view.decoded) return;
  const at = inspect.at !== null ? inspect.at : view.addr;
  const base = at - (at % 16n), seq = ++inspect.seq;
  const q = spaceQuery(new URLSearchParams({ addr: hex(base), len: String(16 * PEEK_ROWS),
                                             owners: '1' }));
  let p;
  try {
    p = await (await api('/api/peek?' + q)).json();
  } catch (e) {
    if (seq === inspect.seq) $('where').textContent = 'no bytes: ' + e.message;
    return;
  }
  if (seq !== inspect.seq) return;   // a later peek is on its way
  if (!/^([0-9a-f]{2}|\?\?)*$/.test(p.hex)) return;
  const hexLines = [], textLines = [];
  for (let row = 0; row < p.hex.length / 32; row++) {
    const cells = [], chars = [];
    for (let i = row * 16; i < Math.min(row * 16 + 16, p.hex.length / 2); i++) {
      const h = p.hex.slice(2 * i, 2 * i + 2), mark = base + BigInt(i) === at;
      const v = h === '??' ? -1 : parseInt(h, 16);
      const c = v < 0 ? '<i>░</i>' : v >= 32 && v < 127 ? escapeHtml(String.fromCharCode(v)) : '<i>·</i>';
      cells.push(mark ? '<b>' + h + '</b>' : v < 0 ? '<i>' + h + '</i>' : h);
      chars.push(mark ? '<b>' + c + '</b>' : c);
    }
    hexLines.push((base + BigInt(row * 16)).toString(16).padStart(12, '0') + '  ' + cells.join(' '));
    textLines.push(chars.join(''));
  }
  $('hex').innerHTML = hexLines.join('\n');
  $('text').innerHTML = textLines.join('\n');
  const where = [(view.space === 'phys' ? 'gpa ' : 'va ') + hex(at)];
  if (view.space !== 'phys') where.push(p.gpa ? 'gpa ' + hex(BigInt(p.gpa) + (at - base)) : 'not mapped');
  const vma = vmaAt(at);
  if (vma) where.push('in ' + hex(vma.start) + '-' + hex(vma.end) + ' ' + vma.perms + (vma.path ? ' ' + vma.path : ''));
  if (inspect.pinned) where.push('(pinned: click the picture to follow the pointer)');
  $('where').textContent = where.join('  ·  ');
  const owners = $('owners');
  owners.textContent = '';
  const list = p.owners_known ? p.owners : [];
  for (const o of list.slice(0, 12)) {
    const li = document.createElement('li');
    li.textContent = ownerText(o);
    owners.appendChild(li);
  }
  if (list.length > 12) owners.appendChild(document.createTextNode('… and ' + (list.length - 12) + ' more'));
  if (p.gpa && list.length === 0) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = p.owners_known ? 'no page table maps this page' : 'owners unknown (no Linux found)';
    owners.appendChild(li);
  }
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
  else if (k === 'w' || k === 'W') { suggest(k === 'W'); return; }
  else if (k === 'o') { showTab('overview'); return; }
  else if (k === 'm') { showTab('memory'); return; }
  else if (k === 's') { showTab('screen'); return; }
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
  if (!inspect.pinned && !view.decoded) {
    inspect.at = at;
    peekSoon(100);
  }
}

function onClick(e) {
  inspect.pinned = !inspect.pinned;
  if (!inspect.pinned) onMove(e); else peekSoon(0);
}

// While live: the window again every RATE ms, or (rate 0) as soon as a frame is drawn.
function setLive() {
  clearTimeout(liveTimer);
  liveTimer = 0;
  stream.frames = [];
  $('fps').textContent = '';
  if (!$('live').checked) return;
  const rate = Number($('rate').value), gen = ++setLive.gen;
  const tick = async () => {
    const t0 = performance.now();
    if (running) await draw(true);
    if (gen !== setLive.gen || !$('live').checked) return;
    liveTimer = setTimeout(tick, Math.max(0, rate - (performance.now() - t0)));
  };
  tick();
}
setLive.gen = 0;

// For the benchmark (bench/bench-viewer.c drives it through the DevTools protocol): draw
// a window of at least BYTES frame by frame for MS milliseconds, LIVE or pausing per
// frame, nothing else drawing meanwhile, and say how it went. Reads only, as every draw.
const bench = { on: false, frames: 0, last: 0, worst: 0 };
window.haywireMeasure = async (ms, bytes, live) => {
  const sleep = (t) => new Promise((r) => setTimeout(r, t));
  const t0 = performance.now();
  while (!stream.ready && performance.now() - t0 < 5000) await sleep(50);
  $('live').checked = false;
  setLive();
  bench.on = true;
  while (busy) await sleep(5);
  view.decoded = null;
  view.rows = windowRows();
  view.stride = 0;
  view.width = Math.min(16384, Math.ceil(bytes / view.rows / (BITS[view.format] / 8)));
  syncControls();
  await draw(live);
  bench.frames = 0;
  bench.worst = 0;
  bench.last = performance.now();
  const start = bench.last;
  while (performance.now() - start < ms)
    if (!(await draw(live))) await sleep(1);
  const seconds = (performance.now() - start) / 1000;
  bench.on = false;
  return { frames: bench.frames, seconds, fps: bench.frames / seconds, worst_ms: bench.worst,
           width: view.width, rows: view.rows, bytes: stride() * view.rows, stream: stream.ready,
           state: $('canvas').dataset.state, message: $('message').textContent };
};

function start() {
  const params = new URLSearchParams(location.search);
  if (params.has('addr')) { try { view.addr = parseAddr(params.get('addr')); } catch (e) { say(e.message); } }
  if (params.has('format') && BITS[params.get('format')]) view.format = params.get('format');
  if (params.has('width')) view.width = Math.min(16384, Math.max(1, Number(params.get('width')) || 256));
  if (params.has('pid') && /^[0-9]+$/.test(params.get('pid'))) view.space = params.get('pid');
  if (['1', '2', '3', '4', '8'].includes(params.get('zoom'))) view.zoom = Number(params.get('zoom'));
  // The token is in the cookie now: keep it out of the address bar and the history.
  if (params.has('token')) { params.delete('token'); history.replaceState(null, '', '?' + params); }
  // (tab=overview or tab=screen opens that view first)
  $('controls').addEventListener('change', fromControls);
  $('controls').addEventListener('submit', (e) => { e.preventDefault(); fromControls(); });
  $('live').addEventListener('change', setLive);
  $('rate').addEventListener('change', setLive);
  $('pause').addEventListener('click', togglePause);
  $('canvas').addEventListener('mousemove', onMove);
  $('canvas').addEventListener('click', onClick);
  $('guess').addEventListener('click', () => suggest(false));
  $('guess-any').addEventListener('click', () => suggest(true));
  document.addEventListener('keydown', onKey);
  // Redrawn when the box gets room for another number of rows (the window resized, the
  // page laid out anew).
  new ResizeObserver(() => { if (windowRows() !== view.rows && !view.decoded && !bench.on) draw(false); })
    .observe($('canvas-box'));
  $('rescan').addEventListener('click', loadFinds);
  $('search').addEventListener('submit', search);
  $('ov-mode').addEventListener('change', setOverviewMode);
  $('ov-zoom').addEventListener('change', setOverviewMode);
  $('snap-take').addEventListener('click', takeSnapshot);
  for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('overview').addEventListener('mousemove', (e) => {
    const p = overviewPage(e);
    $('overview-cursor').textContent = p ? 'gpa ' + hex(p.gpa) + '  ' + p.cls : '';
    clearTimeout(overview.ownersTimer);
    if (p) overview.ownersTimer = setTimeout(() => overviewOwners(p), 150);
  });
  $('canvas-box').addEventListener('wheel', onWheel, { passive: false });
  $('overview').addEventListener('click', (e) => {
    const p = overviewPage(e);
    if (!p) return;
    view.decoded = null;
    view.space = 'phys';
    view.addr = p.gpa;
    syncControls();
    showTab('memory');
  });
  const tab = ['overview', 'screen'].includes(params.get('tab')) ? params.get('tab') : 'memory';
  $('screen-fb').addEventListener('change', loadScreen);
  $('screen-refresh').addEventListener('click', loadScreen);
  // (mode=heat: the overview opens as the heat map)
  if (params.get('mode') === 'heat') { overview.mode = 'heat'; $('ov-mode').value = 'heat'; }
  loadProcesses().then(async () => {
    syncControls();
    await pollState();
    if (tab !== 'memory') showTab(tab);
    if (view.space !== 'phys') await mapsOf(view.space).catch(() => {});
    // (widths=1: the width suggestions at once, as the w key gives them)
    if (params.get('widths') === '1') await suggest(false);
    loadFinds();
  });
  setInterval(pollState, 1000);
  openStream();
}

start();
