/**
 * The tenant object's own JavaScript per frame sent and per ack received, in Node with fake sockets: the
 * modules the object runs (`worker/src/tenant/`: live-fanout, flow-control, flood, client-messages), wired as
 * `TenantObject.sendMetrics`/`deliver` and `webSocketMessage` wire them, with `ws.send` doing nothing. What it
 * leaves out is the runtime: workerd's send, and the event that wakes the object for each message. Compare with
 * the fan-out bench's workerd CPU per frame and per ack to see which side the time is on.
 *
 *   node bench/src/object-fanout-js.ts [sockets=4750] [batches=200]
 */
import type { LiveSample, Subscription } from '@pulsewire/protocol';
import { decodeClientMessage } from '../../worker/src/tenant/client-messages.ts';
import { chargeMessage, type FloodState, freshFloodState } from '../../worker/src/tenant/flood.ts';
import { type DataFrame, FlowControl } from '../../worker/src/tenant/flow-control.ts';
import { candidatesFor, fanOutMetrics } from '../../worker/src/tenant/live-fanout.ts';

const sockets = Number(process.argv[2] ?? 4750);
const batches = Number(process.argv[3] ?? 200);
const HOST = '00000000-0000-4000-8000-000000000001';

interface FakeSocket {
  ws: { send(text: string): void };
  state: { connectionId: string; subscriptions: Subscription[]; flood: FloodState };
}

let sentBytes = 0;
const index = new Map<string, FakeSocket>();
const naming = new Set<string>();
for (let i = 0; i < sockets; i++) {
  const connectionId = crypto.randomUUID();
  const socket: FakeSocket = {
    ws: {
      send: (text) => {
        sentBytes += text.length;
      },
    },
    state: {
      connectionId,
      subscriptions: [{ hosts: [HOST], streams: ['metrics'] }],
      flood: freshFloodState(Date.now()),
    },
  };
  index.set(connectionId, socket);
  naming.add(connectionId);
}
const wildcard = new Set<string>();
const flow = new FlowControl();
// A sample the size of a real one (~2.5 kB serialised): the frame is serialised once per batch either way.
const sample = {
  ts: 0,
  cpu: { total: 12.5, user: 8, system: 4, iowait: 0.5, cores: Array.from({ length: 8 }, (_, i) => i * 3.1) },
  memory: { used_pct: 41.2, used: 7e9, total: 16e9, swap_used: 0 },
  disks: Array.from({ length: 6 }, (_, i) => ({
    mount: `/mnt/disk${i}`,
    used_pct: 50 + i,
    read_bps: 1e5,
    write_bps: 2e5,
  })),
  net: Array.from({ length: 4 }, (_, i) => ({ iface: `eth${i}`, rx_bps: 1e6 * i, tx_bps: 5e5 * i })),
} as unknown as LiveSample;

/** As `TenantObject.deliver` does it, less the slow-consumer close (never taken here). */
function deliver(socket: FakeSocket, frame: DataFrame): boolean {
  const { connectionId } = socket.state;
  if (index.get(connectionId)?.ws !== socket.ws) return false;
  if (!flow.admit(connectionId, frame.seq, frame.bytes)) return false;
  try {
    socket.ws.send(frame.text);
  } catch {}
  flow.overTenantBound();
  return index.has(connectionId);
}

let seq = Date.now() * 1000;
function batch(ts: number): void {
  fanOutMetrics(candidatesFor(index, naming, wildcard), HOST, [{ ...sample, ts }], ++seq, (socket, frame) => {
    deliver(socket, frame);
  });
}

/** As `TenantObject.webSocketMessage` handles an ack, from the raw text on. */
function ack(socket: FakeSocket, raw: string): void {
  const charged = chargeMessage(socket.state.flood, Date.now());
  socket.state = { ...socket.state, flood: charged.state };
  const decoded = decodeClientMessage(raw);
  if (decoded.ok && decoded.message.type === 'ack') flow.ack(socket.state.connectionId, decoded.message.seq);
}

function cpuUs(run: () => void): number {
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

// Warm up the JIT, then time frames (every socket, every batch) and acks (every socket, once per batch).
const all = [...index.values()];
for (let b = 0; b < 20; b++) {
  batch(b);
  for (const socket of all) ack(socket, `{"type":"ack","seq":${seq}}`);
}
let frameUs = 0;
let ackUs = 0;
for (let b = 0; b < batches; b++) {
  frameUs += cpuUs(() => batch(1000 + b));
  const raw = `{"type":"ack","seq":${seq}}`;
  ackUs += cpuUs(() => {
    for (const socket of all) ack(socket, raw);
  });
}
const frames = sockets * batches;
console.log(
  `${sockets} sockets × ${batches} batches in Node ${process.version}: ` +
    `${(frameUs / frames).toFixed(2)} µs of the object's JS per frame sent, ` +
    `${(ackUs / frames).toFixed(2)} µs per ack handled ` +
    `(${Math.round(sentBytes / (frames + 20 * sockets))} B per frame)`,
);
