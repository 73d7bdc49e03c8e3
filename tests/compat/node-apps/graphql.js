// tests/compat/node-apps/graphql.js -- GraphQL subscriptions over the
// server with graphql-redis-subscriptions' RedisPubSub on ioredis, as a
// GraphQL API spread over several processes uses it: one RedisPubSub
// publishes (the node that handles a mutation), another serves the
// subscriptions (the node holding the websocket).
//
// Checks: a schema's Subscription field resolved with graphql's own
// subscribe() and withFilter delivers only its room's events, in order;
// asyncIterator and asyncIterableIterator deliver 200 events in order, over
// one and over several triggers; the pattern option (PSUBSCRIBE) delivers
// from every matching channel and nothing else; subscribe/unsubscribe keep
// one server subscription per trigger while any subscriber holds it and drop
// it with the last; an iterator's return() unsubscribes.
'use strict';

const IORedis = require('ioredis');
const { RedisPubSub } = require('graphql-redis-subscriptions');
const { withFilter } = require('graphql-subscriptions');
const { buildSchema, parse, subscribe } = require('graphql');
const { check, pollUntil, eq, Inbox, withTimeout } = require('./lib');

const CHECK_MS = 15000;

// PUBSUB NUMSUB of one channel. Patterns are counted with PUBSUB NUMPAT
// against its value at the start (nothing else runs on the server meanwhile).
async function numsub(admin, name) {
  const r = await admin.call('PUBSUB', 'NUMSUB', name);
  return Number(r[1]);
}

async function runGraphql(host, port, admin) {
  const tag = `compat-gql-${process.pid}`;
  const conn = () => new IORedis({ host, port, maxRetriesPerRequest: 1 });
  const conns = [conn(), conn(), conn(), conn()];
  const serving = new RedisPubSub({ publisher: conns[0], subscriber: conns[1] });
  const mutating = new RedisPubSub({ publisher: conns[2], subscriber: conns[3] });
  // Start serving once connected, as a server does at start-up: ioredis 5
  // loses track of a SUBSCRIBE sent while its ready check is running (the
  // server subscribes the connection, ioredis leaves subscriber mode off and
  // drops the messages), against Redis as against us.
  await Promise.all(conns.map((c) => (c.status === 'ready' ? null
    : withTimeout(new Promise((res) => c.once('ready', res)), CHECK_MS, 'waiting for ioredis ready'))));
  const numsubIs = (ch, n) => pollUntil(async () => (await numsub(admin, ch)) === n,
    CHECK_MS, `NUMSUB ${ch} = ${n}`);
  // An iterator subscribes on its first next(), and RedisPubSub drops what
  // arrives for a trigger before its subscribe callback has run (ioredis
  // runs callbacks a tick after the confirmation, and messages read in the
  // same chunk are dispatched first). So before publishing, wait for the
  // library's own record of the subscription (subsRefsMap, a private field)
  // as well as for the server's.
  const listening = (trigger) => pollUntil(() => (serving.subsRefsMap.get(trigger) || new Set()).size > 0,
    CHECK_MS, `RedisPubSub subscribed to ${trigger}`);
  const numpat0 = Number(await admin.call('PUBSUB', 'NUMPAT'));
  const numpatIs = (n) => pollUntil(async () => Number(await admin.call('PUBSUB', 'NUMPAT')) === numpat0 + n,
    CHECK_MS, `NUMPAT = ${numpat0 + n}`);

  await check('graphql subscribe() with withFilter: only its room, in order', CHECK_MS, async () => {
    const trigger = `${tag}.messageAdded`;
    const schema = buildSchema(`
      type Message { room: String! text: String! n: Int! }
      type Query { ok: Boolean }
      type Subscription { messageAdded(room: String!): Message }
    `);
    const rootValue = {
      messageAdded: (args, context, info) => withFilter(
        () => serving.asyncIterableIterator(trigger),
        (payload, a) => payload.messageAdded.room === a.room,
      )(undefined, args, context, info),
    };
    const it = await subscribe({
      schema,
      rootValue,
      document: parse('subscription S($room: String!) { messageAdded(room: $room) { text n } }'),
      variableValues: { room: 'kitchen' },
    });
    if (!it || typeof it.next !== 'function') throw new Error(`subscribe() returned ${JSON.stringify(it)}`);
    const got = [];
    let raw = 0;
    const other = [];
    serving.redisSubscriber.on('message', (ch) => { if (ch === trigger) raw++; else other.push(ch); });
    serving.redisSubscriber.on('error', (e) => other.push('error ' + e.message));
    const reading = (async () => {
      for (let i = 0; i < 50; i++) {
        const r = await it.next();
        if (r.done) break;
        if (r.value.errors) throw new Error(JSON.stringify(r.value.errors));
        got.push(r.value.data.messageAdded);
      }
    })();
    await withTimeout(numsubIs(trigger, 1), 4000, 'NUMSUB');
    await withTimeout(listening(trigger), 4000, 'listening');
    for (let n = 0; n < 100; n++) {
      await mutating.publish(trigger, { messageAdded: { room: n % 2 ? 'hall' : 'kitchen', text: `héllo ${n} ✓`, n } });
    }
    await withTimeout(reading, CHECK_MS - 3000, () => `reading: ${got.length} of 50 events, last ` +
      `${JSON.stringify(got[got.length - 1])}; the subscriber connection had ${raw} messages, status ${serving.redisSubscriber.status}; other ${JSON.stringify(other.slice(0, 5))}; ` +
      `condition ${JSON.stringify(serving.redisSubscriber.condition)}`);
    eq(got, Array.from({ length: 50 }, (_, i) => ({ text: `héllo ${2 * i} ✓`, n: 2 * i })), 'events');
    await it.return();
    await numsubIs(trigger, 0);
  });

  for (const method of ['asyncIterator', 'asyncIterableIterator']) {
    await check(`${method}: 200 events in order, then return() unsubscribes`, CHECK_MS, async () => {
      const trigger = `${tag}.${method}`;
      const it = serving[method](trigger);
      const first = it.next();
      await numsubIs(trigger, 1);
      await listening(trigger);
      for (let n = 0; n < 200; n++) await mutating.publish(trigger, { n, s: 'x'.repeat(n) });
      const got = [(await first).value.n];
      while (got.length < 200) got.push((await it.next()).value.n);
      eq(got, Array.from({ length: 200 }, (_, i) => i), 'order');
      await it.return();
      await numsubIs(trigger, 0);
    });
  }

  await check('asyncIterableIterator over three triggers: one stream, publish order', CHECK_MS, async () => {
    const triggers = ['a', 'b', 'c'].map((x) => `${tag}.multi.${x}`);
    const it = serving.asyncIterableIterator(triggers);
    const first = it.next();
    for (const t of triggers) await numsubIs(t, 1);
    for (const t of triggers) await listening(t);
    for (let n = 0; n < 30; n++) await mutating.publish(triggers[n % 3], { n });
    const got = [(await first).value.n];
    while (got.length < 30) got.push((await it.next()).value.n);
    eq(got, Array.from({ length: 30 }, (_, i) => i), 'order');
    await it.return();
    for (const t of triggers) await numsubIs(t, 0);
  });

  await check('pattern option: PSUBSCRIBE delivers matching channels only', CHECK_MS, async () => {
    const pattern = `${tag}.room.*`;
    const inbox = new Inbox();
    const id = await serving.subscribe(pattern, (m) => inbox.push(m), { pattern: true });
    await numpatIs(1);
    await mutating.publish(`${tag}.room.1`, { n: 1 });
    await mutating.publish(`${tag}.other.2`, { n: 2 });
    await mutating.publish(`${tag}.room.sub.3`, { n: 3 });
    await mutating.publish(`${tag}.room`, { n: 4 });
    await mutating.publish(`${tag}.room.5`, { n: 5 });
    await inbox.waitFor((items) => items.some((m) => m.n === 5), CHECK_MS, 'event 5');
    eq(inbox.items.map((m) => m.n), [1, 3, 5], 'events');
    serving.unsubscribe(id);
    await numpatIs(0);
  });

  await check('pattern iterator with asyncIterableIterator', CHECK_MS, async () => {
    const pattern = `${tag}.pit.[ab]`;
    const it = serving.asyncIterableIterator(pattern, { pattern: true });
    const first = it.next();
    await numpatIs(1);
    await listening(pattern);
    for (const ch of ['a', 'c', 'b', 'ab']) await mutating.publish(`${tag}.pit.${ch}`, { ch });
    const got = [(await first).value.ch, (await it.next()).value.ch];
    eq(got, ['a', 'b'], 'events');
    await it.return();
    await numpatIs(0);
  });

  await check('subscribe twice, unsubscribe one: the other still receives; last one unsubscribes', CHECK_MS, async () => {
    const trigger = `${tag}.shared`;
    const a = new Inbox();
    const b = new Inbox();
    const ida = await serving.subscribe(trigger, (m) => a.push(m.n));
    const idb = await serving.subscribe(trigger, (m) => b.push(m.n));
    await numsubIs(trigger, 1);
    await mutating.publish(trigger, { n: 1 });
    await Promise.all([a.waitFor((x) => x.length === 1, CHECK_MS, 'a'), b.waitFor((x) => x.length === 1, CHECK_MS, 'b')]);
    serving.unsubscribe(ida);
    eq(await numsub(admin, trigger), 1, 'NUMSUB after the first unsubscribe');
    await mutating.publish(trigger, { n: 2 });
    await b.waitFor((x) => x.length === 2, CHECK_MS, 'b gets 2');
    serving.unsubscribe(idb);
    await numsubIs(trigger, 0);
    eq(await admin.call('PUBLISH', trigger, '{"n":3}'), 0, 'PUBLISH after the last unsubscribe');
    eq([a.items, b.items], [[1], [1, 2]], 'deliveries');
  });

  await Promise.all([serving.close(), mutating.close()]);
  await check('graphql: nothing of the run left subscribed', CHECK_MS, async () => {
    await pollUntil(async () => (await admin.call('PUBSUB', 'CHANNELS', `${tag}*`)).length === 0 &&
      Number(await admin.call('PUBSUB', 'NUMPAT')) === numpat0, CHECK_MS, 'no channels or patterns left');
  });
}

module.exports = { runGraphql };
