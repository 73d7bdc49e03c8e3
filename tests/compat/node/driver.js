#!/usr/bin/env node
// Node.js client compatibility checks: node driver.js HOST PORT
//
// Runs the same pub/sub checks through every Node.js client library and
// protocol listed in CONFIGS below (ioredis 5 and 6, node-redis 4, 5 and 6;
// RESP2 and RESP3 where the library speaks it), each with its default
// handshake. Prints `ok - NAME` / `not ok - NAME: reason` per check,
// `# version:` lines, and last `node: N passed, M failed`; exits 1 on any
// failure. Every check must pass against a real Redis as well as ours.
//
// Debugging: NODE_COMPAT_ONLY=<substring of a config label> runs only those
// configs; NODE_COMPAT_TIMEOUT_MS sets the global deadline (run sets it);
// `node proxy.js 7001 6379` between driver and server shows the bytes.
'use strict';

const HOST = process.argv[2];
const PORT = Number(process.argv[3]);
if (!HOST || !PORT) {
  console.error('usage: node driver.js HOST PORT');
  process.exit(2);
}

const GLOBAL_TIMEOUT_MS = Number(process.env.NODE_COMPAT_TIMEOUT_MS || 110000);
const CHECK_TIMEOUT_MS = 15000;
const CONFIG_BUDGET_MS = 30000; // past this, the rest of a config's checks are not run
const ONLY = process.env.NODE_COMPAT_ONLY || ''; // substring filter on config labels (debugging)

let passed = 0;
let failed = 0;
let finished = false;

function oneLine(s) {
  return String(s).replace(/\s*[\r\n]+\s*/g, ' ').slice(0, 400);
}
function ok(name) {
  passed++;
  console.log(`ok - ${name}`);
}
function notOk(name, reason) {
  failed++;
  console.log(`not ok - ${name}: ${oneLine(reason)}`);
}
function finish() {
  if (finished) return;
  finished = true;
  console.log(`node: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

const globalTimer = setTimeout(() => {
  notOk('global timeout', `driver did not finish within ${GLOBAL_TIMEOUT_MS} ms`);
  finish();
}, GLOBAL_TIMEOUT_MS);


process.on('unhandledRejection', () => { /* late rejections of abandoned commands */ });
process.on('uncaughtException', (err) => {
  notOk('uncaught exception', err && err.stack ? err.stack : err);
  finish();
});

// ---------------------------------------------------------------- helpers

// The step a check is at, named in its timeout message.
let currentStep = '';
function step(what) { currentStep = what; }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// `what` (a string, or a function giving one when the time is up) names
// what was awaited.
function withTimeout(promise, ms, what) {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => {
      const w = typeof what === 'function' ? what() : what;
      reject(new Error(`timed out after ${ms} ms${w ? ' ' + w : ''}`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

// Poll fn() every 20 ms until it returns a truthy value, at most ms.
async function pollUntil(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`${what}: not reached within ${ms} ms`);
    await sleep(20);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}
function describeBuf(b) {
  if (!Buffer.isBuffer(b)) return `${typeof b} ${oneLine(String(b)).slice(0, 60)}`;
  return `Buffer(${b.length}) ${b.subarray(0, 16).toString('hex')}`;
}
function sameBytes(actual, expected, what) {
  if (!Buffer.isBuffer(actual)) throw new Error(`${what}: not a Buffer: ${describeBuf(actual)}`);
  if (!actual.equals(expected)) {
    let i = 0;
    while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
    throw new Error(`${what}: ${actual.length} bytes received, ${expected.length} expected, first difference at byte ${i}`);
  }
}

// Collects deliveries from listener callbacks.
class Inbox {
  constructor() {
    this.items = [];
    this.waiters = [];
  }
  push(item) {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => {
      if (w.pred(this.items)) { w.resolve(this.items); return false; }
      return true;
    });
  }
  waitFor(pred, ms, what) {
    if (pred(this.items)) return Promise.resolve(this.items);
    return withTimeout(new Promise((resolve) => this.waiters.push({ pred, resolve })), ms,
      () => `${what} (have ${this.items.length} deliveries)`);
  }
  waitCount(n, ms, what) {
    return this.waitFor((items) => items.length >= n, ms, `waiting for ${n} deliveries: ${what}`);
  }
}

// Deterministic pseudo-random bytes (xorshift32).
function pseudoRandom(n, seed) {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

function isError(e) {
  return e instanceof Error || (e && typeof e.message === 'string');
}

// ---------------------------------------------------------------- adapters
//
// Every adapter wraps one connection of one library in the same small
// interface, using the library's own API (listener callbacks, command
// methods, pipelines, sendCommand/call). Messages are delivered to listener
// callbacks as { channel: string, pattern?: string, message: Buffer|string }.

function ioredisAdapter(mod, options) {
  const Redis = mod.default || mod;
  return {
    kind: 'ioredis',
    async connect(name, extra = {}) {
      const c = new Redis({
        host: HOST,
        port: PORT,
        connectionName: name,
        lazyConnect: true,
        retryStrategy: (times) => Math.min(times * 50, 500),
        ...options,
        ...extra,
      });
      const conn = { raw: c, errors: [], reconnects: 0 };
      c.on('error', (e) => { conn.errors.push(e); this.lastError = e; });
      c.on('reconnecting', () => { conn.reconnects++; });
      const chL = new Map();
      const patL = new Map();
      const shL = new Map();
      const dispatch = (map, key, item, text) => {
        for (const l of map.get(key) || []) if (!!l.text === text) l.fn(item);
      };
      c.on('messageBuffer', (ch, msg) => dispatch(chL, ch.toString(), { channel: ch.toString(), message: msg }, false));
      c.on('message', (ch, msg) => dispatch(chL, ch, { channel: ch, message: msg }, true));
      c.on('pmessageBuffer', (pat, ch, msg) => dispatch(patL, String(pat), { pattern: String(pat), channel: ch.toString(), message: msg }, false));
      c.on('pmessage', (pat, ch, msg) => dispatch(patL, pat, { pattern: pat, channel: ch, message: msg }, true));
      c.on('smessageBuffer', (ch, msg) => dispatch(shL, ch.toString(), { channel: ch.toString(), message: msg }, false));
      c.on('smessage', (ch, msg) => dispatch(shL, ch, { channel: ch, message: msg }, true));
      const add = (map, key, fn, text) => {
        if (!map.has(key)) map.set(key, []);
        map.get(key).push({ fn, text });
      };
      await c.connect();
      assert(c.status === 'ready', `status after connect() is ${c.status}`);
      Object.assign(conn, {
        subscribe: (ch, fn, text) => { add(chL, ch, fn, text); return c.subscribe(ch); },
        psubscribe: (p, fn, text) => { add(patL, p, fn, text); return c.psubscribe(p); },
        ssubscribe: (ch, fn, text) => { add(shL, ch, fn, text); return c.ssubscribe(ch); },
        unsubscribe: (ch) => { chL.delete(ch); return c.unsubscribe(ch); },
        punsubscribe: (p) => { patL.delete(p); return c.punsubscribe(p); },
        unsubscribeAll: () => { chL.clear(); return c.unsubscribe(); },
        sunsubscribeAll: () => { shL.clear(); return c.sunsubscribe(); },
        publish: (ch, m) => c.publish(ch, m),
        spublish: (ch, m) => c.spublish(ch, m),
        ping: () => c.ping(),
        echo: (m) => c.echo(m),
        cmd: (args) => c.call(...args),
        channels: (pat) => (pat === undefined ? c.pubsub('CHANNELS') : c.pubsub('CHANNELS', pat)),
        numsub: async (chs) => pairs(await c.pubsub('NUMSUB', ...chs)),
        numpat: () => c.pubsub('NUMPAT'),
        shardchannels: (pat) => c.pubsub('SHARDCHANNELS', pat),
        shardnumsub: async (chs) => pairs(await c.pubsub('SHARDNUMSUB', ...chs)),
        clientId: () => c.client('ID'),
        getName: () => c.client('GETNAME'),
        killId: (id) => c.client('KILL', 'ID', String(id)),
        listClients: async () => parseClientList(String(await c.client('LIST'))),
        pipelinePublish: async (list) => {
          const res = await c.pipeline(list.map(([ch, m]) => ['publish', ch, m])).exec();
          return res.map(([err, r]) => (err ? err : r));
        },
        multiPublish: async (list) => {
          const m = c.multi();
          for (const [ch, msg] of list) m.publish(ch, msg);
          const res = await m.exec();
          return res.map(([err, r]) => (err ? err : r));
        },
        autoPipelineQueueSize: () => c.autoPipelineQueueSize,
        quit: () => c.quit(),
        close: async () => { c.disconnect(); },
        destroy: () => c.disconnect(),
      });
      return conn;
    },
  };
}

// CLIENT LIST text -> [{ id, name, sub, psub }] (ioredis returns the raw text).
function parseClientList(text) {
  return text.split('\n').filter((l) => l.trim()).map((line) => {
    const f = {};
    for (const kv of line.trim().split(' ')) {
      const i = kv.indexOf('=');
      if (i > 0) f[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return { id: Number(f.id), name: f.name, sub: Number(f.sub), psub: Number(f.psub) };
  });
}

function pairs(flat) {
  const o = {};
  for (let i = 0; i < flat.length; i += 2) o[String(flat[i])] = Number(flat[i + 1]);
  return o;
}

function nodeRedisAdapter(mod, options, major) {
  return {
    kind: 'node-redis',
    async connect(name) {
      const c = mod.createClient({
        socket: {
          host: HOST,
          port: PORT,
          reconnectStrategy: (retries) => Math.min(retries * 50, 500),
        },
        name,
        ...options,
      });
      const conn = { raw: c, errors: [], reconnects: 0 };
      c.on('error', (e) => { conn.errors.push(e); this.lastError = e; });
      c.on('reconnecting', () => { conn.reconnects++; });
      await c.connect();
      assert(c.isReady, 'client.isReady is false after connect()');
      const wrap = (fn, pattern) => (message, channel) =>
        fn({ channel: String(channel), pattern, message });
      Object.assign(conn, {
        subscribe: (ch, fn, text) => c.subscribe(ch, wrap(fn), !text),
        psubscribe: (p, fn, text) => c.pSubscribe(p, wrap(fn, p), !text),
        ssubscribe: (ch, fn, text) => c.sSubscribe(ch, wrap(fn), !text),
        unsubscribe: (ch) => c.unsubscribe(ch),
        punsubscribe: (p) => c.pUnsubscribe(p),
        unsubscribeAll: () => c.unsubscribe(),
        sunsubscribeAll: () => c.sUnsubscribe(),
        publish: (ch, m) => c.publish(ch, m),
        spublish: (ch, m) => c.sPublish(ch, m),
        ping: () => c.ping(),
        echo: (m) => c.echo(m),
        cmd: (args) => c.sendCommand(args),
        channels: (pat) => c.pubSubChannels(pat),
        numsub: async (chs) => normalizeCounts(await c.pubSubNumSub(chs)),
        numpat: () => c.pubSubNumPat(),
        shardchannels: (pat) => c.pubSubShardChannels(pat),
        shardnumsub: async (chs) => normalizeCounts(await c.pubSubShardNumSub(chs)),
        clientId: () => c.clientId(),
        getName: () => c.clientGetName(),
        killId: (id) => c.sendCommand(['CLIENT', 'KILL', 'ID', String(id)]),
        listClients: async () => (await c.clientList()).map((e) => ({
          id: Number(e.id), name: e.name, sub: Number(e.sub), psub: Number(e.psub),
        })),
        pipelinePublish: async (list) => {
          const m = c.multi();
          for (const [ch, msg] of list) m.publish(ch, msg);
          return m.execAsPipeline();
        },
        multiPublish: async (list) => {
          const m = c.multi();
          for (const [ch, msg] of list) m.publish(ch, msg);
          return m.exec();
        },
        autoPipelineQueueSize: () => null,
        quit: () => c.quit(),
        close: () => (major >= 5 ? c.close() : c.disconnect()),
        destroy: () => (major >= 5 ? c.destroy() : c.disconnect()),
      });
      return conn;
    },
  };
}

function normalizeCounts(r) {
  if (r instanceof Map) r = Object.fromEntries(r);
  if (Array.isArray(r)) return pairs(r);
  const o = {};
  for (const k of Object.keys(r)) o[k] = Number(r[k]);
  return o;
}

function pkgVersion(name) {
  return require(`${name}/package.json`).version;
}

const CONFIGS = [];
const VERSION_LINES = [];
{
  const io5 = pkgVersion('ioredis');
  const io6 = pkgVersion('ioredis6');
  const r4 = pkgVersion('redis4');
  const r5 = pkgVersion('redis');
  const r6 = pkgVersion('redis6');
  VERSION_LINES.push(`ioredis ${io5} RESP2`);
  VERSION_LINES.push(`ioredis ${io6} RESP2,RESP3`);
  VERSION_LINES.push(`node-redis ${r4} RESP2`);
  VERSION_LINES.push(`node-redis ${r5} RESP2,RESP3`);
  VERSION_LINES.push(`node-redis ${r6} RESP2,RESP3`);
  // label, adapter, protocol. Library defaults are used where they give the
  // protocol (ioredis 5: RESP2 only; ioredis 6 and node-redis 6 default to
  // RESP3; node-redis 4 and 5 default to RESP2).
  CONFIGS.push(
    { label: 'ioredis5 RESP2', resp: 2, sharded: true, lib: () => ioredisAdapter(require('ioredis'), {}) },
    { label: 'ioredis6 RESP3', resp: 3, sharded: true, lib: () => ioredisAdapter(require('ioredis6'), {}) },
    { label: 'ioredis6 RESP2', resp: 2, sharded: true, lib: () => ioredisAdapter(require('ioredis6'), { protocol: 2 }) },
    { label: 'node-redis4 RESP2', resp: 2, sharded: true, lib: () => nodeRedisAdapter(require('redis4'), {}, 4) },
    { label: 'node-redis5 RESP2', resp: 2, sharded: true, lib: () => nodeRedisAdapter(require('redis'), {}, 5) },
    { label: 'node-redis5 RESP3', resp: 3, sharded: true, lib: () => nodeRedisAdapter(require('redis'), { RESP: 3 }, 5) },
    { label: 'node-redis6 RESP3', resp: 3, sharded: true, lib: () => nodeRedisAdapter(require('redis6'), {}, 6) },
    { label: 'node-redis6 RESP2', resp: 2, sharded: true, lib: () => nodeRedisAdapter(require('redis6'), { RESP: 2 }, 6) },
  );
}

// ---------------------------------------------------------------- checks

// The glob table: pattern -> channels (of GLOB_CHANNELS) it must match.
const GLOB_CHANNELS = ['hello', 'hallo', 'hxllo', 'heello', 'hllo', 'h*llo'];
const GLOB_TABLE = {
  'h?llo': ['hello', 'hallo', 'hxllo', 'h*llo'],
  'h*llo': ['hello', 'hallo', 'hxllo', 'heello', 'hllo', 'h*llo'],
  'h[a-c]llo': ['hallo'],
  'h[^e]llo': ['hallo', 'hxllo', 'h*llo'],
  'h\\*llo': ['h*llo'],
};

async function runConfig(cfg, index) {
  const L = cfg.label;
  // Channel names of this config; no glob metacharacters in the prefix.
  const P = `compat.node.${process.pid}.${index}.`;
  const lib = cfg.lib();
  const opened = [];
  let connectOk = false;
  const state = {};

  const started = Date.now();
  async function check(name, fn, ms = CHECK_TIMEOUT_MS) {
    const full = `${L}: ${name}`;
    if (!connectOk && name !== 'connect') {
      notOk(full, 'not run: connect failed');
      return false;
    }
    const left = started + CONFIG_BUDGET_MS - Date.now();
    if (left <= 0) {
      notOk(full, `not run: the checks of ${L} used up their ${CONFIG_BUDGET_MS} ms`);
      return false;
    }
    currentStep = '';
    try {
      await withTimeout(Promise.resolve().then(fn), Math.min(ms, left)).catch((e) => {
        if (isError(e) && /^timed out/.test(e.message) && currentStep) e.message += ` at step: ${currentStep}`;
        throw e;
      });
      ok(full);
      return true;
    } catch (e) {
      let why = isError(e) ? e.message : String(e);
      if (lib.lastError && !why.includes(lib.lastError.message)) why += ` (last error event: ${lib.lastError.message})`;
      notOk(full, why);
      return false;
    }
  }
  async function open(name, extra) {
    const conn = await lib.connect(name, extra);
    opened.push(conn);
    return conn;
  }

  // connect: the library's whole handshake (HELLO, CLIENT SETNAME,
  // CLIENT SETINFO, INFO ready check, ...) must leave a ready connection.
  connectOk = await check('connect', async () => {
    state.pub = await open(`nc-pub-${index}`);
    state.sub = await open(`nc-sub-${index}`);
    eq(await state.pub.ping(), 'PONG', 'PING');
    eq(String(await state.pub.getName()), `nc-pub-${index}`, 'CLIENT GETNAME (name set at connect)');
    eq(String(await state.sub.echo('hi')), 'hi', 'ECHO on the second connection');
  }, 5000);
  const { pub, sub } = state;

  const inbox = new Inbox();
  const chA = `${P}a`;
  const patA = `${P}pat.*`;
  const chPat = `${P}pat.x`;
  const shA = `${P}shard.a`;

  await check('subscribe', async () => {
    await sub.subscribe(chA, (m) => inbox.push({ kind: 'msg', ...m }));
    eq(await pub.publish(chA, 'hello'), 1, 'PUBLISH return');
    const items = await inbox.waitCount(1, 5000, 'message');
    eq(items[0].channel, chA, 'channel');
    sameBytes(items[0].message, Buffer.from('hello'), 'payload');
  });

  await check('psubscribe', async () => {
    inbox.items.length = 0;
    await sub.psubscribe(patA, (m) => inbox.push({ kind: 'pmsg', ...m }));
    eq(await pub.publish(chPat, 'world'), 1, 'PUBLISH return');
    const items = await inbox.waitCount(1, 5000, 'pmessage');
    eq([items[0].kind, items[0].pattern, items[0].channel], ['pmsg', patA, chPat], 'pmessage');
    sameBytes(items[0].message, Buffer.from('world'), 'payload');
  });

  if (cfg.sharded) {
    await check('ssubscribe', async () => {
      inbox.items.length = 0;
      await sub.ssubscribe(shA, (m) => inbox.push({ kind: 'smsg', ...m }));
      eq(await pub.spublish(shA, 'shard'), 1, 'SPUBLISH return');
      const items = await inbox.waitCount(1, 5000, 'smessage');
      eq([items[0].kind, items[0].channel], ['smsg', shA], 'smessage');
      sameBytes(items[0].message, Buffer.from('shard'), 'payload');
    });
  }

  await check('binary payload with all 256 byte values', async () => {
    inbox.items.length = 0;
    const all = Buffer.alloc(512);
    for (let i = 0; i < 256; i++) { all[i] = i; all[511 - i] = i; }
    eq(await pub.publish(chA, all), 1, 'PUBLISH return');
    eq(await pub.publish(chPat, all), 1, 'PUBLISH (pattern) return');
    const items = await inbox.waitCount(2, 5000, 'binary messages');
    sameBytes(items[0].message, all, 'message payload');
    sameBytes(items[1].message, all, 'pmessage payload');
    eq(items[1].kind, 'pmsg', 'second delivery');
  });

  await check('empty payload', async () => {
    inbox.items.length = 0;
    eq(await pub.publish(chA, ''), 1, 'PUBLISH return');
    eq(await pub.publish(chA, Buffer.alloc(0)), 1, 'PUBLISH (Buffer) return');
    const items = await inbox.waitCount(2, 5000, 'empty messages');
    sameBytes(items[0].message, Buffer.alloc(0), 'payload (string)');
    sameBytes(items[1].message, Buffer.alloc(0), 'payload (Buffer)');
  });

  await check('1 MiB payload', async () => {
    inbox.items.length = 0;
    const big = pseudoRandom(1024 * 1024, 0x9e3779b9 + index);
    eq(await pub.publish(chA, big), 1, 'PUBLISH return');
    if (cfg.sharded) eq(await pub.spublish(shA, big), 1, 'SPUBLISH return');
    const items = await inbox.waitCount(cfg.sharded ? 2 : 1, 10000, '1 MiB messages');
    sameBytes(items[0].message, big, 'message payload');
    if (cfg.sharded) sameBytes(items[1].message, big, 'smessage payload');
  });

  const chU = `${P}ünïcødé/频道/🚀`;
  const patU = `${P}ünï*`;
  await check('UTF-8 channel names', async () => {
    const u = new Inbox();
    const text = 'héllo wörld ✓ 😀';
    await sub.subscribe(chU, (m) => u.push({ kind: 'msg', ...m }), true);
    await sub.psubscribe(patU, (m) => u.push({ kind: 'pmsg', ...m }), true);
    eq(await pub.publish(chU, text), 2, 'PUBLISH return (channel + pattern)');
    const items = await u.waitCount(2, 5000, 'UTF-8 messages');
    const msg = items.find((i) => i.kind === 'msg');
    const pmsg = items.find((i) => i.kind === 'pmsg');
    assert(msg && pmsg, `deliveries: ${JSON.stringify(items.map((i) => i.kind))}`);
    eq([msg.channel, String(msg.message)], [chU, text], 'message (text listener)');
    eq([pmsg.pattern, pmsg.channel, String(pmsg.message)], [patU, chU, text], 'pmessage (text listener)');
    const chans = (await pub.channels(`${P}ün*`)).map(String);
    eq(chans, [chU], 'PUBSUB CHANNELS');
    eq(await pub.numsub([chU]), { [chU]: 1 }, 'PUBSUB NUMSUB');
  });

  await check('PUBLISH return values', async () => {
    const c2 = `${P}pat.both`; // sub matches it by pattern only
    eq(await pub.publish(`${P}nobody`, 'x'), 0, 'PUBLISH to a channel without subscribers');
    inbox.items.length = 0;
    await sub.subscribe(c2, (m) => inbox.push({ kind: 'msg', ...m }));
    eq(await pub.publish(c2, 'two'), 2, 'PUBLISH to a channel the client matches by name and by pattern');
    const items = await inbox.waitCount(2, 5000, 'message + pmessage');
    eq(items.map((i) => i.kind).sort(), ['msg', 'pmsg'], 'delivery kinds');
    for (const i of items) sameBytes(i.message, Buffer.from('two'), 'payload');
    eq(await pub.publish(chA, 'one'), 1, 'PUBLISH to a channel matched once');
    await inbox.waitCount(3, 5000, 'third delivery');
    await sub.unsubscribe(c2);
    eq(await pub.publish(c2, 'pattern only'), 1, 'PUBLISH after UNSUBSCRIBE (pattern still matches)');
    await inbox.waitCount(4, 5000, 'fourth delivery');
  });

  await check('ordering of 2000 messages', async () => {
    const o = new Inbox();
    const ch = `${P}order`;
    await sub.subscribe(ch, (m) => o.push(String(m.message)), true);
    const N = 2000;
    const replies = [];
    for (let i = 0; i < N; i++) replies.push(pub.publish(ch, `m${i}`));
    const counts = await Promise.all(replies);
    assert(counts.every((n) => Number(n) === 1), `PUBLISH returns not all 1: ${[...new Set(counts)]}`);
    const items = await o.waitCount(N, 10000, 'ordered messages');
    for (let i = 0; i < N; i++) {
      if (items[i] !== `m${i}`) throw new Error(`message ${i} is ${items[i]}`);
    }
    eq(items.length, N, 'deliveries');
  });

  await check('auto-pipelining of 1000 publishes', async () => {
    const apub = lib.kind === 'ioredis'
      ? await open(`nc-apub-${index}`, { enableAutoPipelining: true })
      : pub; // node-redis pipelines commands of one tick by default
    const o = new Inbox();
    const ch = `${P}autopipe`;
    await sub.subscribe(ch, (m) => o.push(String(m.message)), true);
    const N = 1000;
    const replies = [];
    for (let i = 0; i < N; i++) replies.push(apub.publish(ch, `p${i}`));
    const queued = apub.autoPipelineQueueSize();
    if (queued !== null) assert(queued > 0, 'ioredis did not queue the publishes for auto-pipelining');
    const counts = await Promise.all(replies);
    assert(counts.every((n) => Number(n) === 1), `PUBLISH returns not all 1: ${[...new Set(counts)]}`);
    const items = await o.waitCount(N, 10000, 'pipelined messages');
    for (let i = 0; i < N; i++) {
      if (items[i] !== `p${i}`) throw new Error(`message ${i} is ${items[i]}`);
    }
  });

  await check('explicit pipeline and MULTI/EXEC of publishes', async () => {
    const o = new Inbox();
    const ch = `${P}pipe`;
    await sub.subscribe(ch, (m) => o.push(String(m.message)), true);
    const list = [];
    for (let i = 0; i < 100; i++) list.push([ch, `q${i}`]);
    const r1 = await pub.pipelinePublish(list);
    eq(r1.map(Number), list.map(() => 1), 'pipeline replies');
    const r2 = await pub.multiPublish([[ch, 'tx1'], [`${P}nobody`, 'tx2'], [ch, 'tx3']]);
    eq(r2.map(Number), [1, 0, 1], 'EXEC replies');
    const items = await o.waitCount(102, 5000, 'pipeline + transaction messages');
    eq(items.slice(98), ['q98', 'q99', 'tx1', 'tx3'], 'last deliveries');
  });

  await check('PUBSUB CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/SHARDNUMSUB', async () => {
    const chans = (await pub.channels(`${P}*`)).map(String).sort();
    const expected = [chA, `${P}order`, `${P}autopipe`, `${P}pipe`, chU].sort();
    eq(chans, expected, 'PUBSUB CHANNELS pattern');
    const all = (await pub.channels()).map(String);
    assert(expected.every((c) => all.includes(c)), 'PUBSUB CHANNELS without a pattern lacks our channels');
    eq(await pub.numsub([chA, `${P}nobody`, chU]), { [chA]: 1, [`${P}nobody`]: 0, [chU]: 1 }, 'PUBSUB NUMSUB');
    const np = Number(await pub.numpat());
    assert(Number.isInteger(np) && np >= 2, `PUBSUB NUMPAT ${np} < 2 (this client holds 2 patterns)`);
    if (cfg.sharded) {
      eq((await pub.shardchannels(`${P}*`)).map(String), [shA], 'PUBSUB SHARDCHANNELS');
      eq(await pub.shardnumsub([shA, `${P}shard.none`]), { [shA]: 1, [`${P}shard.none`]: 0 }, 'PUBSUB SHARDNUMSUB');
      eq((await pub.channels(`${P}shard*`)).map(String), [], 'shard channels are not in PUBSUB CHANNELS');
    }
  });

  await check('glob pattern table', async () => {
    const gsub = await open(`nc-glob-${index}`);
    const got = {};
    const g = new Inbox();
    for (const pat of Object.keys(GLOB_TABLE)) {
      got[pat] = [];
      await gsub.psubscribe(P + pat, (m) => {
        got[pat].push(m.channel.slice(P.length));
        g.push(m);
      }, true);
    }
    let total = 0;
    const counts = {};
    for (const ch of GLOB_CHANNELS) {
      const n = Number(await pub.publish(P + ch, `to ${ch}`));
      counts[ch] = n;
      total += n;
    }
    const expCounts = {};
    let expTotal = 0;
    for (const ch of GLOB_CHANNELS) {
      expCounts[ch] = Object.values(GLOB_TABLE).filter((l) => l.includes(ch)).length;
      expTotal += expCounts[ch];
    }
    eq(counts, expCounts, 'PUBLISH returns per channel');
    await g.waitCount(expTotal, 5000, 'glob deliveries');
    await sleep(50); // anything extra would show now
    eq(got, GLOB_TABLE, 'channels received per pattern');
    eq(total, expTotal, 'total deliveries');
  });

  if (cfg.resp === 2) {
    await check('RESP2 subscribed mode rejects other commands', async () => {
      let err = null;
      try {
        const r = await withTimeout(sub.echo('not allowed'), 5000, 'ECHO on a subscribed connection');
        err = new Error(`ECHO returned ${JSON.stringify(String(r))}`);
        throw err;
      } catch (e) {
        if (e === err) throw e;
        assert(isError(e), `rejection is not an error: ${e}`);
        assert(!/timed out/.test(e.message), e.message);
      }
      // The connection still works: PING is allowed, messages still arrive.
      await withTimeout(sub.ping(), 5000, 'PING on a subscribed connection');
      inbox.items.length = 0;
      eq(await pub.publish(chA, 'still here'), 1, 'PUBLISH return');
      const items = await inbox.waitCount(1, 5000, 'message after the rejected command');
      sameBytes(items[0].message, Buffer.from('still here'), 'payload');
    });
  } else {
    await check('RESP3 commands on a subscribed connection', async () => {
      eq(String(await sub.ping()), 'PONG', 'PING');
      eq(String(await sub.echo('resp3')), 'resp3', 'ECHO');
      inbox.items.length = 0;
      eq(Number(await sub.publish(chA, 'self')), 1, 'PUBLISH from the subscriber to its own channel');
      const items = await inbox.waitCount(1, 5000, 'own message');
      sameBytes(items[0].message, Buffer.from('self'), 'payload');
      eq((await sub.numsub([chA]))[chA], 1, 'PUBSUB NUMSUB from the subscriber');
    });
  }

  await check('unknown CLIENT subcommand is an error', async () => {
    let got;
    try {
      got = await withTimeout(pub.cmd(['CLIENT', 'NOSUCHSUBCOMMAND']), 5000, 'CLIENT NOSUCHSUBCOMMAND');
    } catch (e) {
      assert(isError(e) && !/timed out/.test(e.message), `not a server error: ${e && e.message}`);
      assert(/unknown subcommand/i.test(e.message), `error text: ${e.message}`);
      eq(await pub.ping(), 'PONG', 'PING after the error');
      return;
    }
    throw new Error(`CLIENT NOSUCHSUBCOMMAND returned ${JSON.stringify(String(got))}`);
  });

  await check('reconnect and resubscribe after CLIENT KILL', async () => {
    const rsub = await open(`nc-rsub-${index}`);
    const id = Number(await rsub.clientId());
    assert(id > 0, `CLIENT ID ${id}`);
    const r = new Inbox();
    const ch = `${P}re.chan`;
    const pat = `${P}re.*`;
    const sch = `${P}re.shard`;
    await rsub.subscribe(ch, (m) => r.push({ kind: 'msg', ...m }));
    await rsub.psubscribe(pat, (m) => r.push({ kind: 'pmsg', ...m }));
    if (cfg.sharded) await rsub.ssubscribe(sch, (m) => r.push({ kind: 'smsg', ...m }));
    eq(await pub.numsub([ch]), { [ch]: 1 }, 'NUMSUB before the kill');
    const rname = `nc-rsub-${index}`;
    const before = (await pub.listClients()).filter((e) => e.name === rname);
    eq(before.map((e) => [e.id, e.sub, e.psub]), [[id, 1, 1]], `CLIENT LIST entry of ${rname} (id, sub, psub)`);
    const killed = await pub.killId(id);
    assert(String(killed) === 'OK' || Number(killed) === 1, `CLIENT KILL ID returned ${killed}`);
    // Back when the channel, the shard channel and the pattern are all resubscribed.
    await pollUntil(async () => {
      const n = (await pub.numsub([ch]))[ch];
      const s = cfg.sharded ? (await pub.shardnumsub([sch]))[sch] : 1;
      return n === 1 && s === 1;
    }, 8000, 'NUMSUB/SHARDNUMSUB back to 1');
    assert(rsub.reconnects > 0, 'the library reported no reconnect');
    await pollUntil(async () => {
      const e = (await pub.listClients()).filter((x) => x.name === rname);
      return e.length === 1 && e[0].id !== id && e[0].sub === 1 && e[0].psub === 1;
    }, 5000, `CLIENT LIST: ${rname} back with a new id, sub=1 psub=1`);
    let n = 0;
    const end = Date.now() + 5000;
    // The pattern is resubscribed in the same batch; retry briefly if it lags.
    while ((n = Number(await pub.publish(ch, 'after'))) < 2 && Date.now() < end) await sleep(20);
    eq(n, 2, 'PUBLISH return after the reconnect (channel + pattern)');
    await r.waitFor((it) => it.filter((i) => String(i.message) === 'after').length >= 2, 5000, 'message after reconnect');
    const after = r.items.filter((i) => String(i.message) === 'after').map((i) => i.kind).sort();
    assert(after.includes('msg') && after.includes('pmsg'), `deliveries after reconnect: ${after}`);
    if (cfg.sharded) {
      eq(await pub.spublish(sch, 'sharded after'), 1, 'SPUBLISH return after the reconnect');
      await r.waitFor((it) => it.some((i) => i.kind === 'smsg' && String(i.message) === 'sharded after'), 5000, 'smessage after reconnect');
    }
  });

  await check('quit and disconnect', async () => {
    const ch = `${P}bye`;
    const qsub = await open(`nc-qsub-${index}`);
    await qsub.subscribe(ch, () => {});
    eq(await pub.numsub([ch]), { [ch]: 1 }, 'NUMSUB');
    await qsub.close();
    await pollUntil(async () => (await pub.numsub([ch]))[ch] === 0, 5000, 'NUMSUB 0 after disconnect');
    // The subscriber of all the checks above: unsubscribe from everything,
    // use it as a normal connection again, then QUIT. Both libraries settle
    // an UNSUBSCRIBE without arguments on the reply whose count is 0, so the
    // one that empties the connection comes last (shard channels are counted
    // on their own).
    if (cfg.sharded) {
      step('SUNSUBSCRIBE (all)');
      await sub.sunsubscribeAll();
    }
    step('PUNSUBSCRIBE');
    await sub.punsubscribe(patA);
    await sub.punsubscribe(patU);
    step('UNSUBSCRIBE (all)');
    await sub.unsubscribeAll();
    step('NUMSUB');
    eq(await pub.numsub([chA, chU]), { [chA]: 0, [chU]: 0 }, 'NUMSUB after UNSUBSCRIBE without arguments');
    if (cfg.sharded) eq(await pub.shardnumsub([shA]), { [shA]: 0 }, 'SHARDNUMSUB after SUNSUBSCRIBE without arguments');
    step('ECHO after unsubscribing');
    eq(String(await sub.echo('normal again')), 'normal again', 'ECHO after leaving subscribed mode');
    step('QUIT');
    const q1 = await sub.quit();
    eq(String(q1), 'OK', 'QUIT reply (subscriber)');
    const q2 = await pub.quit();
    eq(String(q2), 'OK', 'QUIT reply (publisher)');
  });

  for (const c of opened) {
    try { await withTimeout(Promise.resolve(c.destroy()), 2000); } catch (_) { /* best effort */ }
  }
}

async function main() {
  for (const v of VERSION_LINES) console.log(`# version: ${v}`);
  console.log(`# server: ${HOST}:${PORT}`);
  let i = 0;
  for (const cfg of CONFIGS) {
    i++;
    if (ONLY && !cfg.label.includes(ONLY)) continue;
    const t0 = Date.now();
    await runConfig(cfg, i);
    console.log(`# ${cfg.label}: ${Date.now() - t0} ms`);
  }
}

main().then(finish, (e) => {
  notOk('driver', isError(e) ? e.stack : e);
  finish();
});
