'use strict';
// Load driver: a few concurrent clients; the route mix changes every few seconds (as real traffic
// does), and the leaking route only gets traffic after a healthy start.
const http = require('node:http');

const [port, leakAfterMs = '15000'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const start = Date.now();
let weights = { users: 1, health: 1, sessions: 0 };

function reshuffle() {
  const leaking = Date.now() - start >= Number(leakAfterMs);
  weights = { users: 0.2 + Math.random(), health: 0.2 + Math.random(), sessions: leaking ? 0.1 + Math.random() : 0 };
}
setInterval(reshuffle, 2000).unref();

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
