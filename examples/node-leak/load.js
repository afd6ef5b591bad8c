'use strict';
// Load driver: a few concurrent clients; the route mix changes every 8 s (as real traffic does),
// the leaking route is busy in every other period and idle in between (random weights
// otherwise), and it only gets traffic after a healthy start. Periods longer than the spacing of the floor points the model fits (5 s,
// `block_ms`) keep the mix distinct between points, which is what lets the model tell the routes apart.
const http = require('node:http');

const [port, leakAfterMs = '15000'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const start = Date.now();
let weights = { users: 1, health: 1, sessions: 0 };
let busy = false;

function reshuffle() {
  const leaking = Date.now() - start >= Number(leakAfterMs);
  busy = leaking && !busy;
  weights = { users: 0.2 + Math.random(), health: 0.2 + Math.random(), sessions: busy ? 0.5 + Math.random() : 0 };
}
setInterval(reshuffle, 8000).unref();

function pick() {
  const total = weights.users + weights.health + weights.sessions;
  let x = Math.random() * total;
  if ((x -= weights.users) < 0) return `/users/${Math.floor(Math.random() * 1000)}`;
  if ((x -= weights.health) < 0) return '/health';
  return `/sessions/${Math.floor(Math.random() * 1000)}`;
}

function client() {
  const req = http.get({ host: '127.0.0.1', port: Number(port), path: pick(), agent }, (res) => {
    res.resume();
    // Paced at about 60 requests per second per client.
    res.on('end', () => setTimeout(client, 15));
  });
  req.on('error', () => process.exit(0)); // the server went away: done
}
for (let i = 0; i < 4; i++) client();
