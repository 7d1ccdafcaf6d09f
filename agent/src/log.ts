/**
 * Plain text log lines on stderr (journald adds its own timestamps under systemd; stdout stays free for
 * `collect --json`). `once` exists because a collector failing every second must not flood the journal.
 */
export const logLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Logs `message` the first time `key` is seen (again after `forget(key)`). */
  once(key: string, level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void;
  forget(key: string): boolean;
}

function format(fields: LogFields | undefined): string {
  if (!fields) return '';
  let text = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const plain = String(value);
    text += ` ${key}=${/[\s"=]/.test(plain) || plain === '' ? JSON.stringify(plain) : plain}`;
  }
  return text;
}

export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = logLevels.indexOf(level);
  const seen = new Set<string>();
  const emit = (at: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields) => {
    if (logLevels.indexOf(at) < threshold) return;
    write(`${new Date().toISOString()} ${at.padEnd(5)} ${message}${format(fields)}\n`);
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    once(key, at, message, fields) {
      if (seen.has(key)) return;
      seen.add(key);
      emit(at, message, fields);
    },
    forget: (key) => seen.delete(key),
  };
}

/** Collects lines in memory; tests assert on what was logged. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(
    createLogger(level, (line) => lines.push(line)),
    { lines },
  );
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
