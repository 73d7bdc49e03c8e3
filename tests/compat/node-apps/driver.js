#!/usr/bin/env node
// Application-level Node.js checks: node driver.js HOST PORT
//
// Runs socketio.js (three Socket.IO nodes clustered through the server by
// @socket.io/redis-adapter, classic and sharded) and graphql.js
// (graphql-redis-subscriptions on ioredis). Prints `# version:` lines, one
// `ok - NAME` / `not ok - NAME: reason` line per check and last
// `node-apps: N passed, M failed`; exits 1 on any failure. Every check must
// pass against Debian's redis-server as well as ours.
'use strict';

const HOST = process.argv[2];
const PORT = Number(process.argv[3]);
if (!HOST || !PORT) {
  console.error('usage: node driver.js HOST PORT');
  process.exit(2);
}
const GLOBAL_TIMEOUT_MS = Number(process.env.NODE_COMPAT_TIMEOUT_MS || 110000);

const { tally, notOk } = require('./lib');

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  console.log(`node-apps: ${tally.passed} passed, ${tally.failed} failed`);
  process.exit(tally.failed === 0 ? 0 : 1);
}
setTimeout(() => {
  notOk('global timeout', `driver did not finish within ${GLOBAL_TIMEOUT_MS} ms`);
  finish();
}, GLOBAL_TIMEOUT_MS).unref();
process.on('unhandledRejection', () => { /* late rejections of abandoned work */ });
process.on('uncaughtException', (err) => {
  notOk('uncaught exception', err && err.stack ? err.stack : err);
  finish();
});

function version(pkg) {
  return require(`${pkg}/package.json`).version;
}

async function main() {
  console.log(`# node ${process.version}`);
  console.log(`# version: @socket.io/redis-adapter ${version('@socket.io/redis-adapter')} RESP2 ` +
    `(socket.io ${version('socket.io')}, socket.io-client ${version('socket.io-client')}; ` +
    `ioredis ${version('ioredis')}, node-redis ${version('redis')}; sharded adapter with node-redis)`);
  console.log(`# version: graphql-redis-subscriptions ${version('graphql-redis-subscriptions')} RESP2 ` +
    `(ioredis ${version('ioredis')}, graphql ${version('graphql')}, graphql-subscriptions ${version('graphql-subscriptions')})`);
  const IORedis = require('ioredis');
  const admin = new IORedis({ host: HOST, port: PORT, maxRetriesPerRequest: 1 });
  try {
    await require('./socketio').runSocketIo(HOST, PORT, admin);
    await require('./graphql').runGraphql(HOST, PORT, admin);
  } catch (e) {
    notOk('driver', e && e.stack ? e.stack : e);
  }
  await admin.quit().catch(() => {});
  finish();
}
main();
