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
  $('space').value = view.space;
}

// Draw the window: one request for its rows, drawn scaled without smoothing.
async function draw(live) {
  if (busy) { again = true; return; }
  busy = true;
  try {
    const box = $('canvas-box');
    view.rows = Math.max(1, Math.floor(box.clientHeight / view.zoom));
    const width = view.width;
    const q = new URLSearchParams({ addr: hex(view.addr), format: view.format, width: String(width),
                                    height: String(view.rows), stride: String(stride()) });
    if (view.space === 'phys') q.set('phys', '1'); else q.set('pid', view.space);
    if (live) q.set('live', '1');
    const r = await api('/api/pixels?' + q);
    const w = Number(r.headers.get('X-Haywire-Width')), h = Number(r.headers.get('X-Haywire-Height'));
    const pixels = new Uint8ClampedArray(await r.arrayBuffer());
    if (pixels.length !== w * h * 4) throw new Error('short pixel reply');
    const bitmap = await createImageBitmap(new ImageData(pixels, w, h));
    const c = $('canvas');
    c.width = w * view.zoom;
    c.height = h * view.zoom;
    const ctx = c.getContext('2d');
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(bitmap, 0, 0, c.width, c.height);
    bitmap.close();
    const unreadable = Number(r.headers.get('X-Haywire-Unreadable'));
    c.dataset.state = r.headers.get('X-Haywire-State') || '';
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

function fromControls() {
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
  else return;
  e.preventDefault();
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
  if (params.has('pid')) view.space = params.get('pid');
  // The token is in the cookie now: keep it out of the address bar and the history.
  if (params.has('token')) { params.delete('token'); history.replaceState(null, '', '?' + params); }
  $('controls').addEventListener('change', fromControls);
  $('controls').addEventListener('submit', (e) => { e.preventDefault(); fromControls(); });
  $('live').addEventListener('change', setLive);
  $('rate').addEventListener('change', setLive);
  $('pause').addEventListener('click', togglePause);
  $('canvas').addEventListener('mousemove', onMove);
  document.addEventListener('keydown', onKey);
  window.addEventListener('resize', () => draw(false));
  loadProcesses().then(() => { syncControls(); pollState(); });
  setInterval(pollState, 1000);
}

start();
