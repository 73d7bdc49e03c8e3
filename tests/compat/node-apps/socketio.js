// tests/compat/node-apps/socketio.js -- Socket.IO clustered through the
// server, as a deployment of three Socket.IO nodes does it.
//
// For each adapter set-up in SETUPS (the classic @socket.io/redis-adapter
// with ioredis and with node-redis, and the sharded adapter, which uses
// SSUBSCRIBE/SPUBLISH, with node-redis) three Socket.IO servers listen on
// loopback ports in this process, each with its own publish and subscribe
// connections, and six socket.io-client sockets connect to them and join
// rooms. Checks: broadcasts to a room, to a room except another, to two
// rooms, reach exactly the right clients on every node (a broadcast to all
// sent after them is the barrier: once every client has it, nothing else is
// on its way); serverCount, fetchSockets, serverSideEmitWithAck and a remote
// socketsJoin travel through the server; the sharded adapter's per-room
// shard channels come and go with the rooms; and once everything is closed
// nothing of the run is left subscribed.
'use strict';

const http = require('http');
const { Server } = require('socket.io');
const { io: ioClient } = require('socket.io-client');
const { createAdapter, createShardedAdapter } = require('@socket.io/redis-adapter');
const IORedis = require('ioredis');
const nodeRedis = require('redis');
const { check, pollUntil, eq, assert, Inbox, withTimeout } = require('./lib');

const CHECK_MS = 15000;

// Client layout: [server index, rooms]. Room membership decides who must
// receive what; c1b is in no room at all.
const CLIENTS = {
  c0a: [0, ['red']],
  c0b: [0, ['blue']],
  c1a: [1, ['red', 'blue']],
  c1b: [1, []],
  c2a: [2, ['red']],
  c2b: [2, ['blue']],
};

function setups(host, port, tag) {
  const ioredisPair = async () => {
    const pub = new IORedis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1 });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    return { pub, sub, close: () => Promise.all([pub.quit(), sub.quit()]) };
  };
  const nodeRedisPair = async () => {
    const pub = nodeRedis.createClient({ socket: { host, port, reconnectStrategy: false } });
    const sub = pub.duplicate();
    pub.on('error', () => {});
    sub.on('error', () => {});
    await Promise.all([pub.connect(), sub.connect()]);
    return { pub, sub, close: () => Promise.all([pub.quit(), sub.quit()]) };
  };
  return [
    {
      label: 'redis-adapter+ioredis',
      prefix: `${tag}-a`,
      sharded: false,
      pair: ioredisPair,
      adapter: (p, prefix) => createAdapter(p.pub, p.sub, { key: prefix }),
    },
    {
      label: 'redis-adapter+node-redis',
      prefix: `${tag}-b`,
      sharded: false,
      pair: nodeRedisPair,
      adapter: (p, prefix) => createAdapter(p.pub, p.sub, { key: prefix }),
    },
    {
      label: 'sharded-adapter+node-redis',
      prefix: `${tag}-c`,
      sharded: true,
      pair: nodeRedisPair,
      adapter: (p, prefix) => createShardedAdapter(p.pub, p.sub,
        { channelPrefix: prefix, subscriptionMode: 'dynamic' }),
    },
  ];
}

// PUBSUB NUMSUB / SHARDNUMSUB of one channel, through the admin connection.
async function numsub(admin, sharded, channel) {
  const r = await admin.call('PUBSUB', sharded ? 'SHARDNUMSUB' : 'NUMSUB', channel);
  return Number(r[1]);
}

async function runSetup(s, admin) {
  const L = (name) => `${s.label}: ${name}`;
  const nodes = [];     // { io, http, pair, url }
  const clients = {};   // name -> { sock, news: Inbox, barrier: Inbox }
  let barrierN = 0;
  const numpat0 = Number(await admin.call('PUBSUB', 'NUMPAT'));
  const mainChannel = s.sharded ? `${s.prefix}#/#` : `${s.prefix}-request#/#`;
  const roomChannel = (room) => `${s.prefix}#/#${room}#`;

  // Everything reachable to every client: one barrier broadcast from node
  // `from`, awaited on all six clients.
  const barrier = async (from) => {
    const n = ++barrierN;
    nodes[from].io.emit('barrier', n);
    await Promise.all(Object.entries(clients).map(([name, c]) =>
      c.barrier.waitFor((items) => items.includes(n), CHECK_MS, `barrier ${n} at ${name}`)));
  };
  // Which clients got news item `what`, and how many times each.
  const receivers = (what) => {
    const got = {};
    for (const [name, c] of Object.entries(clients)) {
      const k = c.news.items.filter((x) => x === what).length;
      if (k) got[name] = k;
    }
    return got;
  };
  const expectOnce = (names) => Object.fromEntries(names.sort().map((n) => [n, 1]));

  const started = await check(L('three nodes and six clients in rooms'), 30000, async () => {
    for (let i = 0; i < 3; i++) {
      const pair = await s.pair();
      const srv = http.createServer();
      const io = new Server(srv, { adapter: s.adapter(pair, s.prefix) });
      io.on('connection', (sock) => {
        const { name, rooms } = sock.handshake.auth;
        sock.data.name = name;
        sock.join(rooms);
        sock.emit('joined', i);
      });
      io.on('compat-ping', (arg, cb) => cb(`pong-${i}-${arg}`));
      await new Promise((res, rej) => srv.listen(0, '127.0.0.1', res).on('error', rej));
      nodes.push({ io, srv, pair, url: `http://127.0.0.1:${srv.address().port}` });
    }
    await Promise.all(Object.entries(CLIENTS).map(([name, [n, rooms]]) => new Promise((res, rej) => {
      const sock = ioClient(nodes[n].url, {
        transports: ['websocket'], forceNew: true, reconnection: false, auth: { name, rooms },
      });
      const c = { sock, news: new Inbox(), barrier: new Inbox() };
      clients[name] = c;
      sock.on('news', (x) => c.news.push(x));
      sock.on('barrier', (x) => c.barrier.push(x));
      sock.on('joined', () => res());
      sock.on('connect_error', (e) => rej(new Error(`${name}: ${e.message}`)));
    })));
    // Every node's subscriptions are in place before anything is broadcast.
    await pollUntil(async () => (await numsub(admin, s.sharded, mainChannel)) === 3, CHECK_MS,
      `${s.sharded ? 'SHARDNUMSUB' : 'NUMSUB'} ${mainChannel} = 3`);
    if (s.sharded) {
      for (const [room, k] of [['red', 3], ['blue', 3]]) {
        await pollUntil(async () => (await numsub(admin, true, roomChannel(room))) === k, CHECK_MS,
          `SHARDNUMSUB ${roomChannel(room)} = ${k}`);
      }
    }
  });
  if (started) {
    await check(L('serverCount() is 3 on every node'), CHECK_MS, async () => {
      for (let i = 0; i < 3; i++) eq(await nodes[i].io.of('/').adapter.serverCount(), 3, `node ${i}`);
    });
    if (s.sharded) {
      await check(L('one shard channel per room, subscribed by the nodes that have it'), CHECK_MS, async () => {
        const r = await admin.call('PUBSUB', 'SHARDCHANNELS', `${s.prefix}#/#*`);
        const have = r.map(String);
        for (const want of [mainChannel, roomChannel('red'), roomChannel('blue')]) {
          assert(have.includes(want), `${want} missing from SHARDCHANNELS ${JSON.stringify(have)}`);
        }
        eq(await numsub(admin, true, roomChannel('red')), 3, `SHARDNUMSUB ${roomChannel('red')}`);
      });
    }
    await check(L('broadcast to room red from node 0 reaches its members on all nodes, once'), CHECK_MS, async () => {
      nodes[0].io.to('red').emit('news', 'n1');
      await barrier(0);
      eq(receivers('n1'), expectOnce(['c0a', 'c1a', 'c2a']), 'receivers of n1');
    });
    await check(L('broadcast to blue except red from node 1'), CHECK_MS, async () => {
      nodes[1].io.to('blue').except('red').emit('news', 'n2');
      await barrier(1);
      eq(receivers('n2'), expectOnce(['c0b', 'c2b']), 'receivers of n2');
    });
    await check(L('broadcast to red and blue from node 2: each member once'), CHECK_MS, async () => {
      nodes[2].io.to(['red', 'blue']).emit('news', 'n3');
      await barrier(2);
      eq(receivers('n3'), expectOnce(['c0a', 'c0b', 'c1a', 'c2a', 'c2b']), 'receivers of n3');
    });
    await check(L('broadcast to all from node 1 except one remote socket'), CHECK_MS, async () => {
      nodes[1].io.except(clients.c2b.sock.id).emit('news', 'n4');
      await barrier(1);
      eq(receivers('n4'), expectOnce(['c0a', 'c0b', 'c1a', 'c1b', 'c2a']), 'receivers of n4');
    });
    await check(L('fetchSockets() of room red from node 2 sees every node'), CHECK_MS, async () => {
      const socks = await nodes[2].io.in('red').fetchSockets();
      eq(socks.map((x) => x.data.name).sort(), ['c0a', 'c1a', 'c2a'], 'names');
      eq(socks.map((x) => x.id).sort(), ['c0a', 'c1a', 'c2a'].map((n) => clients[n].sock.id).sort(), 'ids');
    });
    await check(L('serverSideEmitWithAck from node 0 answered by nodes 1 and 2'), CHECK_MS, async () => {
      const replies = await nodes[0].io.serverSideEmitWithAck('compat-ping', 'x');
      eq(replies.slice().sort(), ['pong-1-x', 'pong-2-x'], 'replies');
    });
    await check(L('remote socketsJoin, then a broadcast to the new room'), CHECK_MS, async () => {
      nodes[0].io.in(clients.c1b.sock.id).socketsJoin('green');
      await pollUntil(() => nodes[1].io.of('/').adapter.rooms.has('green'), CHECK_MS, 'node 1 has room green');
      if (s.sharded) {
        await pollUntil(async () => (await numsub(admin, true, roomChannel('green'))) === 1, CHECK_MS,
          `SHARDNUMSUB ${roomChannel('green')} = 1`);
      }
      nodes[2].io.to('green').emit('news', 'n5');
      await barrier(2);
      eq(receivers('n5'), expectOnce(['c1b']), 'receivers of n5');
    });
    if (s.sharded) {
      await check(L('the last member leaving a room unsubscribes its shard channel on that node'), CHECK_MS, async () => {
        clients.c0b.sock.disconnect();
        delete clients.c0b;
        await pollUntil(async () => (await numsub(admin, true, roomChannel('blue'))) === 2, CHECK_MS,
          `SHARDNUMSUB ${roomChannel('blue')} = 2`);
        nodes[0].io.to('blue').emit('news', 'n6');
        await barrier(0);
        eq(receivers('n6'), expectOnce(['c1a', 'c2b']), 'receivers of n6');
      });
    }
  }

  // Tear down; then nothing of this set-up is subscribed any more.
  for (const c of Object.values(clients)) c.sock.disconnect();
  for (const n of nodes) {
    try {
      await withTimeout(new Promise((res) => n.io.close(() => res())), 5000, 'io.close');
    } catch (e) { /* the check below says what is left */ }
    try { await withTimeout(n.pair.close(), 5000, 'quit'); } catch (e) { /* as above */ }
  }
  await check(L('after close nothing of the run is subscribed'), CHECK_MS, async () => {
    await pollUntil(async () => {
      const ch = await admin.call('PUBSUB', 'CHANNELS', `${s.prefix}*`);
      const sh = await admin.call('PUBSUB', 'SHARDCHANNELS', `${s.prefix}*`);
      const np = Number(await admin.call('PUBSUB', 'NUMPAT'));
      return ch.length === 0 && sh.length === 0 && np === numpat0;
    }, CHECK_MS, 'no channels, shard channels or patterns left');
  });
}

async function runSocketIo(host, port, admin) {
  const tag = `compat-sio-${process.pid}`;
  for (const s of setups(host, port, tag)) await runSetup(s, admin);
}

module.exports = { runSocketIo };
