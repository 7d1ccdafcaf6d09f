import { AckPacer, type ServerMessage, STREAM_PATH } from '@pulsewire/protocol';
import WebSocket from 'ws';

const OPEN_TIMEOUT_MS = 15_000;

export interface LiveClientOptions {
  /** The ack delay; the protocol's `ACK_DELAY_MS` unless given. */
  ackDelayMs?: number | undefined;
  /**
   * Offer permessage-deflate, as browsers do (the default). The fan-out bench turns it off: thousands of
   * sockets each inflating every frame through a zlib stream in this one Node thread cost ~110 µs per frame, the
   * load generator's own work taking the cores the stack needs (bench/README.md, "Fan-out profile").
   */
  compression?: boolean | undefined;
  /**
   * Hands `metrics` frames over as {@link MetricsReceipt}s (their seq and sample timestamps, read without parsing the
   * rest) instead of to `onFrame`: the fan-out bench, where `JSON.parse` of every frame at every socket cost 14–27 µs
   * a frame of the load generator's CPU. Every other frame is parsed and goes to `onFrame`.
   */
  onMetrics?: ((receipt: MetricsReceipt, receivedAt: number) => void) | undefined;
}

/** What the fan-out bench needs of a `metrics` frame: its seq (to ack) and its samples' timestamps. */
export interface MetricsReceipt {
  seq: number;
  timestamps: number[];
}

const METRICS_PREFIX = '{"type":"metrics","seq":';
/** A sample's `ts`, its first key as the agent and the object write it, at the start of the array or after a sample. */
const SAMPLE_TS = /(?:\[|\},)\{"ts":(\d+)[,}]/g;

/**
 * The seq and sample timestamps of a `metrics` frame as the tenant object serialises it (`type`, `seq`, `hostId`,
 * `samples`, in that order, each sample starting with `ts`), or null for any other frame or layout, which the
 * caller then parses whole. A frame misread here shows as a frame not delivered: the bench's accounting fails
 * loudly, never silently.
 */
export function peekMetrics(text: string): MetricsReceipt | null {
  if (!text.startsWith(METRICS_PREFIX)) return null;
  const seqEnd = text.indexOf(',', METRICS_PREFIX.length);
  const seq = Number(text.slice(METRICS_PREFIX.length, seqEnd));
  const samplesAt = text.indexOf('"samples":[', seqEnd);
  if (!Number.isSafeInteger(seq) || samplesAt < 0) return null;
  const timestamps: number[] = [];
  SAMPLE_TS.lastIndex = samplesAt + '"samples":'.length;
  for (let match = SAMPLE_TS.exec(text); match; match = SAMPLE_TS.exec(text)) timestamps.push(Number(match[1]));
  return { seq, timestamps };
}

/**
 * A dashboard socket as a script would open one: a `read` API key in the Authorization header, no
 * Origin. It acknowledges data frames like the browser client, and hands every frame to `onFrame`
 * with the moment it arrived.
 */
export class LiveClient {
  /** The object closes sockets that fall too far behind: ack at the browser's pace. */
  private readonly acks: AckPacer;
  closed: { code: number; reason: string } | null = null;
  /** Acks sent: each one is a message the tenant object is woken for. */
  acksSent = 0;

  private readonly ws: WebSocket;
  private constructor(
    ws: WebSocket,
    onFrame: (message: ServerMessage, receivedAt: number) => void,
    options: LiveClientOptions,
  ) {
    const { ackDelayMs, onMetrics } = options;
    this.ws = ws;
    this.acks = new AckPacer({
      ...(ackDelayMs === undefined ? {} : { delayMs: ackDelayMs }),
      send: (ack) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        this.acksSent++;
        this.send(ack);
      },
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const receivedAt = performance.timeOrigin + performance.now();
      const text = String(data);
      const receipt = onMetrics ? peekMetrics(text) : null;
      if (receipt && onMetrics) {
        this.acks.received(receipt.seq, text.length);
        onMetrics(receipt, receivedAt);
        return;
      }
      const message = JSON.parse(text) as ServerMessage;
      if ('seq' in message) this.acks.received(message.seq, text.length);
      onFrame(message, receivedAt);
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.acks.stop();
    });
    // A failed socket also closes; an 'error' without a listener would throw.
    ws.on('error', () => {});
  }

  static open(
    baseUrl: string,
    readKey: string,
    onFrame: (message: ServerMessage, receivedAt: number) => void,
    options: LiveClientOptions = {},
  ): Promise<LiveClient> {
    const url = new URL(STREAM_PATH, baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, {
      headers: { Authorization: `Bearer ${readKey}` },
      perMessageDeflate: options.compression ?? true,
    });
    const client = new LiveClient(ws, onFrame, options);
    return new Promise((resolve, reject) => {
      // A handshake that never completes must not hang the run: give up (and close) after OPEN_TIMEOUT_MS.
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`the stream socket did not open within ${OPEN_TIMEOUT_MS} ms`));
      }, OPEN_TIMEOUT_MS);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`the stream socket failed to open: ${error.message}`));
      });
    });
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  close(): void {
    this.acks.stop();
    this.ws.close(1000, 'bench done');
  }
}
