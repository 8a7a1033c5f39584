// node `ws` side of the sonic-ws interop tests (see interop/run.sh, peer.rs).
// usage: node peer.js server PORT [--deflate]  |  node peer.js client URL [--deflate]
// The server echoes and understands the `!` commands described in peer.rs; the client runs the
// same check list as peer.rs's client and prints PASS/FAIL lines.
'use strict';
const WebSocket = require('ws');

const SIZES = [0, 1, 125, 126, 1000, 65535, 65536, 70000, 200000, 1 << 20];
const UNIT = 'Tsonic ✓ héllo wörld — 速い 🦀 ';
const deflate = process.argv.includes('--deflate');
const LIMITS = { maxPayload: 64 << 20 };

function pattern(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

// At most n UTF-8 bytes of mixed 1- to 4-byte characters, starting with 'T'.
function text(n) {
  let out = '', size = 0;
  for (;;) {
    for (const c of UNIT) {
      const b = Buffer.byteLength(c);
      if (size + b > n) return out;
      out += c; size += b;
    }
  }
}

// Half compressible pattern, half noise (xorshift64 as in peer.rs).
function binary(n) {
  const head = pattern(n >> 1), tail = Buffer.alloc(n - head.length);
  const M = (1n << 64n) - 1n;
  let x = 0x2545f4914f6cdd1dn ^ BigInt(n);
  for (let i = 0; i < tail.length; i++) {
    x ^= (x << 13n) & M; x ^= x >> 7n; x ^= (x << 17n) & M;
    tail[i] = Number(x & 0xffn);
  }
  return Buffer.concat([head, tail]);
}

function sendFragments(ws, data, n, binary) {
  const step = Math.max(1, Math.ceil(data.length / n));
  for (let i = 0; i < data.length || i === 0; i += step) {
    const last = i + step >= data.length;
    ws.send(data.subarray(i, i + step), { binary, fin: last });
    if (last) break;
  }
}

// ----------------------------------------------------------------------------------- server
function server(port) {
  let lastClose = 'none';
  const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: deflate, ...LIMITS });
  wss.on('listening', () => console.log('node ws interop server on', port));
  wss.on('connection', ws => {
    ws.on('error', () => {});
    ws.on('close', (code, reason) => { lastClose = `${code} ${reason.toString()}`; });
    ws.on('message', (data, isBinary) => {
      const s = isBinary ? '' : data.toString();
      if (!s.startsWith('!')) return ws.send(data, { binary: isBinary });
      const w = s.split(' ');
      if (w[0] === '!ext') ws.send(ws.extensions.includes('permessage-deflate') ? 'deflate' : 'none');
      else if (w[0] === '!frag') sendFragments(ws, pattern(Number(w[2])), Math.max(1, Number(w[1])), true);
      else if (w[0] === '!ping') {
        ws.once('pong', p => ws.send(p.toString() === 'srv-ping' ? 'pong-ok' : 'bad pong ' + p));
        ws.ping(Buffer.from('srv-ping'));
      } else if (w[0] === '!last-close') ws.send(lastClose);
      else if (w[0] === '!close') ws.close(4001, 'server bye');
      else ws.send(data, { binary: false });
    });
  });
}

// ----------------------------------------------------------------------------------- client
let failed = 0;
function check(name, err) {
  if (err == null) console.log(`PASS ${name}`);
  else { failed++; console.log(`FAIL ${name}: ${err}`); }
}

// A connection with an awaitable queue of incoming messages, pongs and the close.
function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: deflate, ...LIMITS });
    const queue = [], waiters = [];
    const push = ev => { const w = waiters.shift(); if (w) w(ev); else queue.push(ev); };
    ws.next = () => new Promise(r => { const ev = queue.shift(); if (ev) r(ev); else waiters.push(r); });
    ws.on('message', (data, isBinary) => push({ kind: isBinary ? 'binary' : 'text', data }));
    ws.on('pong', data => push({ kind: 'pong', data }));
    ws.on('close', (code, reason) => push({ kind: 'close', code, reason: reason.toString() }));
    ws.on('error', e => { push({ kind: 'error', e }); reject(e); });
    ws.on('open', () => resolve(ws));
  });
}

function same(ev, kind, want) {
  if (ev.kind !== kind) return `got ${ev.kind} ${ev.code || ''} ${ev.reason || ''}`;
  const got = kind === 'text' ? ev.data.toString() : ev.data;
  const ok = kind === 'text' ? got === want : Buffer.compare(got, want) === 0;
  return ok ? null : `got a different ${kind} of ${ev.data.length} bytes`;
}

async function step(name, fn) {
  try {
    const timer = new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 30000).unref());
    check(name, await Promise.race([fn(), timer]));
  } catch (e) { check(name, String(e)); }
}

async function client(url) {
  let ws = await open(url);
  const agreed = ws.extensions.includes('permessage-deflate');
  check('handshake, extension agreed (client view)', agreed === deflate ? null : `extensions: ${ws.extensions}`);
  const ask = async (cmd, kind, want) => { ws.send(cmd, { binary: kind === 'binary' && typeof cmd !== 'string' }); return same(await ws.next(), kind, want); };
  await step('extension agreed (server view)', () => ask('!ext', 'text', deflate ? 'deflate' : 'none'));
  for (const n of SIZES) {
    const t = text(n);
    await step(`text echo ${n} B`, () => ask(t, 'text', t));
    const b = binary(n);
    await step(`binary echo ${n} B`, () => ask(b, 'binary', b));
  }
  // Issue 13: an incompressible 16 MiB message; with deflate node sends it as one frame a
  // little larger than 16 MiB (16,781,763 bytes), which the frame limit must accept.
  const noise = require('crypto').randomBytes(16 << 20);
  await step('binary echo 16 MiB incompressible', () => ask(noise, 'binary', noise));
  // Fragmented sends; the text one splits multi-byte characters across fragments.
  const t = text(30001);
  await step('send fragmented text 3 x ~10 KiB', async () => {
    sendFragments(ws, Buffer.from(t), 3, false); return same(await ws.next(), 'text', t);
  });
  for (const [name, n, size] of [['7 x ~14 KiB', 7, 100000], ['64 x 16 KiB', 64, 1 << 20]]) {
    const b = binary(size);
    await step(`send fragmented binary ${name}`, async () => {
      sendFragments(ws, b, n, true); return same(await ws.next(), 'binary', b);
    });
  }
  await step('receive fragmented binary 5 x 20000 B', () => ask('!frag 5 100000', 'binary', pattern(100000)));
  await step('client ping -> pong with payload', async () => {
    ws.ping(Buffer.from('cli-ping-123')); return same(await ws.next(), 'pong', Buffer.from('cli-ping-123'));
  });
  await step('server ping -> our automatic pong', () => ask('!ping', 'text', 'pong-ok'));
  await step('client close 4000 + reason, peer answers', async () => {
    ws.close(4000, 'client bye ✓');
    const ev = await ws.next();
    return ev.kind === 'close' && ev.code === 4000 ? null : `got ${ev.kind} ${ev.code}`;
  });
  ws = await open(url);
  await step('server received close code 4000 + reason', () => ask('!last-close', 'text', '4000 client bye ✓'));
  await step('server close 4001 + reason received', async () => {
    ws.send('!close');
    const ev = await ws.next();
    return ev.kind === 'close' && ev.code === 4001 && ev.reason === 'server bye' ? null
      : `got ${ev.kind} ${ev.code} ${ev.reason}`;
  });
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'server') server(Number(arg));
else client(arg).catch(e => check('client run', String(e))).finally(() => process.exit(failed ? 1 : 0));
