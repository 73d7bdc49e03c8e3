// tests/compat/history/driver.js HOST PORT -- the catch-up pattern of channel
// history with ioredis 5 and ioredis 6 (RESP2 and RESP3): XREAD BLOCK from the
// last id seen, lose the connection (disconnect, or CLIENT KILL while
// blocked), reconnect, read from the last id again: nothing missing, nothing
// twice, in order. Against ours (a channel-history rule by CONFIG SET) and
// redis-server (plain streams). Run from tests/compat/node (its node_modules).
// Prints ok/not ok lines and `history-ioredis: N passed, M failed`.
"use strict";
const path = require("path");
const nodeDir = path.resolve(__dirname, "../node/node_modules");
const clients = [
  ["ioredis5", require(path.join(nodeDir, "ioredis")), {}],
  ["ioredis6-resp3", require(path.join(nodeDir, "ioredis6")), { protocol: 3 }],
];
const [host, port] = [process.argv[2], Number(process.argv[3])];
let passed = 0, failed = 0;

function entries(reply) {
  const out = [];
  // RESP2: [[key, [[id, [f, v]], ...]]]; ioredis 6 in RESP3 may give an object.
  const streams = Array.isArray(reply) ? reply : reply ? Object.entries(reply) : [];
  for (const [, items] of streams) for (const [id, fields] of items) out.push([id, fields[1]]);
  return out;
}

async function scenario(name, Redis, opts) {
  const key = `hist.js.${name}.${Date.now()}`;
  const admin = new Redis({ host, port, ...opts, lazyConnect: false });
  const info = await admin.info("server");
  const ours = info.includes("redis_pubsub_version");
  if (ours) await admin.config("SET", "channel-history", "hist.* 10000 0");
  const seen = [];
  let last = "0-0";
  const add = async (n, tag) => { for (let i = 0; i < n; i++) await admin.xadd(key, "*", "message", `${tag}-${i}`); };
  const read = async (client, block) => {
    const args = block === undefined ? ["COUNT", 1000] : ["COUNT", 1000, "BLOCK", block];
    const got = entries(await client.xread(...args, "STREAMS", key, last));
    for (const [id, msg] of got) { seen.push(msg); last = id; }
    return got.map((e) => e[1]);
  };
  const expect = (cond, what) => { if (!cond) throw new Error(what); };
  const waitBlocked = async (cid) => {
    for (let i = 0; i < 500; i++) {
      const list = await admin.client("LIST");
      if (list.split("\n").some((l) => l.startsWith(`id=${cid} `) && l.includes("cmd=xread"))) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`client ${cid} never blocked in XREAD`);
  };
  const want = (tag, n) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);
  try {
    await add(40, "a");
    let reader = new Redis({ host, port, ...opts });
    expect(JSON.stringify(await read(reader)) === JSON.stringify(want("a", 40)), "first read");
    reader.disconnect();
    await add(25, "b");
    reader = new Redis({ host, port, ...opts });
    expect(JSON.stringify(await read(reader)) === JSON.stringify(want("b", 25)), "after reconnect");
    // CLIENT KILL while blocked: the read fails; a new connection resumes.
    const id = await reader.client("ID");
    const pending = read(reader, 0).then(() => "returned", (e) => "failed");
    await waitBlocked(id);
    reader.options.retryStrategy = () => null; // an application that reconnects itself
    await admin.client("KILL", "ID", id);
    expect((await pending) === "failed", "the blocked read did not fail on CLIENT KILL");
    reader.disconnect();
    await add(15, "c");
    reader = new Redis({ host, port, ...opts });
    expect(JSON.stringify(await read(reader)) === JSON.stringify(want("c", 15)), "after CLIENT KILL");
    const id2 = await reader.client("ID");
    const woken = read(reader, 5000);
    await waitBlocked(id2);
    await add(1, "d");
    expect(JSON.stringify(await woken) === JSON.stringify(["d-0"]), "BLOCK woken by XADD");
    expect(JSON.stringify(seen) === JSON.stringify([...want("a", 40), ...want("b", 25), ...want("c", 15), "d-0"]),
      `seen ${seen.length}`);
    reader.disconnect();
    console.log(`ok - ${name}-catch-up`);
    passed++;
  } catch (e) {
    console.log(`not ok - ${name}-catch-up: ${e.message}`);
    failed++;
  } finally {
    if (ours) await admin.config("SET", "channel-history", "");
    else await admin.del(key);
    admin.disconnect();
  }
}

(async () => {
  const timer = setTimeout(() => { console.log("not ok - timeout"); console.log(`history-ioredis: ${passed} passed, ${failed + 1} failed`); process.exit(1); }, 50000);
  for (const [name, Redis, opts] of clients) await scenario(name, Redis, opts);
  clearTimeout(timer);
  console.log(`history-ioredis: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
