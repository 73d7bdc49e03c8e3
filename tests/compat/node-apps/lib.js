// tests/compat/node-apps/lib.js -- the reporting and waiting helpers the
// application checks share: ok/notOk lines and the tally, deadlines on every
// wait, polling the server (PUBSUB NUMSUB and friends) through a plain
// ioredis connection until a state is reached. Nothing here sleeps in place
// of waiting for a state: sleep() only spaces the polls.
'use strict';

const tally = { passed: 0, failed: 0 };

function oneLine(s) {
  return String(s).replace(/\s*[\r\n]+\s*/g, ' ').slice(0, 400);
}
function ok(name) {
  tally.passed++;
  console.log(`ok - ${name}`);
}
function notOk(name, reason) {
  tally.failed++;
  console.log(`not ok - ${name}: ${oneLine(reason)}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Rejects with "timed out after ms what" unless promise settles first.
function withTimeout(promise, ms, what) {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => {
      const w = typeof what === 'function' ? what() : what;
      reject(new Error(`timed out after ${ms} ms ${w}`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

// Polls fn() every 20 ms until it returns a truthy value, at most ms.
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

// Runs one named check: ok when fn resolves, not ok with the error otherwise.
async function check(name, ms, fn) {
  try {
    await withTimeout(Promise.resolve().then(fn), ms, `in ${name}`);
    ok(name);
    return true;
  } catch (e) {
    notOk(name, e && e.message ? e.message : e);
    return false;
  }
}

// Collects deliveries; waitFor(pred) resolves once pred(items) holds.
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
      () => `${what} (have ${JSON.stringify(this.items).slice(0, 200)})`);
  }
}

module.exports = { tally, ok, notOk, sleep, withTimeout, pollUntil, assert, eq, check, Inbox, oneLine };
