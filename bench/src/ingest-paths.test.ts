import { CONTROL_MAX_BATCHES_IN_FLIGHT } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INGEST_PATHS, InFlightWindow, parseIngestPaths, parseSocketInFlight } from './ingest-paths.ts';

describe('--ingest-path', () => {
  it('measures both by default, HTTP first', () => {
    expect(DEFAULT_INGEST_PATHS).toEqual(['http', 'socket']);
    expect(parseIngestPaths(DEFAULT_INGEST_PATHS.join(','))).toEqual({ ok: true, value: ['http', 'socket'] });
  });

  it('keeps the order given, each path once, spaces ignored', () => {
    expect(parseIngestPaths('socket')).toEqual({ ok: true, value: ['socket'] });
    expect(parseIngestPaths('socket, http')).toEqual({ ok: true, value: ['socket', 'http'] });
    expect(parseIngestPaths('http,http,')).toEqual({ ok: true, value: ['http'] });
  });

  it('refuses an unknown or empty choice, naming the choices', () => {
    const unknown = parseIngestPaths('http,websocket');
    expect(unknown.ok).toBe(false);
    expect(!unknown.ok && unknown.message).toMatch(/http, socket.*"websocket"/);
    expect(parseIngestPaths(' , ').ok).toBe(false);
  });
});

describe('--ingest-socket-in-flight', () => {
  it('takes 1 up to the protocol cap, no more (the object would close the socket)', () => {
    expect(parseSocketInFlight('1')).toEqual({ ok: true, value: 1 });
    expect(parseSocketInFlight(String(CONTROL_MAX_BATCHES_IN_FLIGHT))).toEqual({
      ok: true,
      value: CONTROL_MAX_BATCHES_IN_FLIGHT,
    });
    for (const bad of [String(CONTROL_MAX_BATCHES_IN_FLIGHT + 1), '0', '2.5', 'many']) {
      expect(parseSocketInFlight(bad).ok).toBe(false);
    }
  });
});

describe('InFlightWindow', () => {
  it('holds at most its cap, and makes room as answers come', () => {
    const w = new InFlightWindow(2);
    expect(w.room).toBe(2);
    w.sent('a', 10);
    w.sent('b', 12);
    expect(w.room).toBe(0);
    expect(() => w.sent('c', 13)).toThrow(/2 batches already in flight/);
    expect(w.answered('a', 25)).toBe(15);
    expect(w.room).toBe(1);
    w.sent('c', 30);
    expect(w.size).toBe(2);
  });

  it('answers the time since each batch was sent, in any order', () => {
    const w = new InFlightWindow();
    expect(w.cap).toBe(CONTROL_MAX_BATCHES_IN_FLIGHT);
    w.sent('first', 0);
    w.sent('second', 5);
    expect(w.answered('second', 9)).toBe(4);
    expect(w.answered('first', 20)).toBe(20);
  });

  it('ignores an answer to no batch in flight (unknown, or answered already)', () => {
    const w = new InFlightWindow(4);
    w.sent('a', 0);
    expect(w.answered('a', 1)).toBe(1);
    expect(w.answered('a', 2)).toBeUndefined();
    expect(w.answered('never-sent', 2)).toBeUndefined();
    expect(w.size).toBe(0);
  });

  it('refuses a batch id already out', () => {
    const w = new InFlightWindow(4);
    w.sent('a', 0);
    expect(() => w.sent('a', 1)).toThrow(/already in flight/);
  });

  it('abandons what is still out when the socket goes or the wait ends', () => {
    const w = new InFlightWindow(4);
    w.sent('a', 0);
    w.sent('b', 0);
    expect(w.abandon()).toBe(2);
    expect(w.room).toBe(4);
    expect(w.answered('a', 5)).toBeUndefined();
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => new InFlightWindow(0)).toThrow();
    expect(() => new InFlightWindow(1.5)).toThrow();
  });
});
