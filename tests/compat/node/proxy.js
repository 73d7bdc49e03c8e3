#!/usr/bin/env node
// Debugging aid, not used by the checks: a logging TCP proxy.
//   node proxy.js LISTEN_PORT TARGET_PORT [TARGET_HOST] [--max N] [--dump DIR]
// Accepts connections on 127.0.0.1:LISTEN_PORT, forwards them to the target
// and prints every chunk in both directions as an escaped string (at most N
// bytes of each chunk, default 300), tagged with a connection number. With
// --dump, the raw bytes of connection K also go to DIR/K.c (client to
// server) and DIR/K.s (server to client), to compare two servers' replies.
'use strict';
const net = require('net');
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
let max = 300;
const mi = args.indexOf('--max');
if (mi >= 0) { max = Number(args[mi + 1]); args.splice(mi, 2); }
let dump = null;
const di = args.indexOf('--dump');
if (di >= 0) { dump = args[di + 1]; args.splice(di, 2); fs.mkdirSync(dump, { recursive: true }); }
const [listenPort, targetPort, targetHost = '127.0.0.1'] = args;
if (!listenPort || !targetPort) {
  console.error('usage: node proxy.js LISTEN_PORT TARGET_PORT [TARGET_HOST] [--max N]');
  process.exit(2);
}

function show(buf) {
  let s = '';
  const n = Math.min(buf.length, max);
  for (let i = 0; i < n; i++) {
    const c = buf[i];
    if (c === 0x0d) s += '\\r';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  if (buf.length > max) s += `...(${buf.length} bytes)`;
  return s;
}

let seq = 0;
net.createServer((client) => {
  const id = ++seq;
  const upstream = net.connect(Number(targetPort), targetHost);
  console.log(`[${id}] open`);
  const save = (dir, d) => { if (dump) fs.appendFileSync(path.join(dump, `${id}.${dir}`), d); };
  client.on('data', (d) => { console.log(`[${id}] C> ${show(d)}`); save('c', d); upstream.write(d); });
  upstream.on('data', (d) => { console.log(`[${id}] S> ${show(d)}`); save('s', d); client.write(d); });
  const close = (who) => () => {
    console.log(`[${id}] closed by ${who}`);
    client.destroy(); upstream.destroy();
  };
  client.on('close', close('client'));
  upstream.on('close', close('server'));
  client.on('error', () => {});
  upstream.on('error', () => {});
}).listen(Number(listenPort), '127.0.0.1', () => {
  console.log(`proxy 127.0.0.1:${listenPort} -> ${targetHost}:${targetPort}`);
});
