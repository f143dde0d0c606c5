// npx tsx bench/dashboard-clients.ts URL TOKEN CLIENTS MARKERS
// The simulated dashboards of `npm run bench -- dashboard`, in their own process so their CPU is
// not counted as the coordinator's: CLIENTS WebSockets on /v1/events, each subscribed to the
// fleet as the page is. Prints {"ready":true} once every client has the fleet, then, once every
// client has seen MARKERS distinct markers (a lock reason or deployment reason "bench-…"), one
// JSON line: per marker, the time (ms since the epoch, sub-ms) each client first saw it.
import WebSocket from 'ws';

const [url = '', token = '', clientsText = '1', markersText = '1'] = process.argv.slice(2);
const clients = Number(clientsText);
const markers = Number(markersText);
const now = () => performance.timeOrigin + performance.now();
const seen = new Map<string, number[]>();
let ready = 0;
let done = 0;

function markerOf(status: { lock: { reason: string } | null; deployment: { reason: string } | null }): string[] {
  return [status.lock?.reason, status.deployment?.reason].filter((r): r is string => typeof r === 'string' && r.startsWith('bench-'));
}

for (let i = 0; i < clients; i++) {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
  const mine = new Set<string>();
  let isReady = false;
  socket.on('open', () => socket.send(JSON.stringify({ subscribe: 'fleet' })));
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { type: string; status?: { service: string; lock: { reason: string } | null; deployment: { reason: string } | null } };
    if (message.type !== 'service-status' || !message.status) return;
    const at = now();
    if (!isReady) {
      isReady = true;
      if (++ready === clients) console.log(JSON.stringify({ ready: true }));
    }
    for (const marker of markerOf(message.status)) {
      if (mine.has(marker)) continue;
      mine.add(marker);
      let times = seen.get(marker);
      if (!times) seen.set(marker, (times = []));
      times.push(at);
      if (mine.size === markers && ++done === clients) {
        console.log(JSON.stringify({ seen: Object.fromEntries(seen) }));
        process.exit(0);
      }
    }
  });
  socket.on('error', (err) => {
    console.error(`client ${i}: ${err.message}`);
    process.exit(1);
  });
}
