/** The process logger: pino JSON lines, with every credential-bearing path redacted. */
import { writeSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';

/** Paths that may carry secrets, wherever they appear in a log object. */
const REDACT_PATHS = [
  'password',
  'new_password',
  'current_password',
  'token',
  'refresh_token',
  'access_token',
  'client_secret',
  'code',
  'biometrics',
  'authorization',
  'cookie',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.token',
  '*.refresh_token',
  '*.access_token',
  '*.client_secret',
  '*.biometrics',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
];

/**
 * At most this many bytes of log lines wait for a slow or stalled stdout; lines beyond it are dropped and counted.
 * Memory stays bounded and a request never waits for the log reader.
 */
const LOG_BUFFER_BYTES = 4 * 1024 * 1024;
/** How long the synchronous flush at exit retries a full stdout before it gives up on the lines still buffered. */
const EXIT_FLUSH_MS = 500;

/** stdout as the logger writes it: asynchronous, bounded, and never able to hold the process at exit. */
interface StdoutLog {
  stream: pino.DestinationStream;
  /** Resolves once every buffered line is written, or after `ms`, whichever is first. */
  drain(ms: number): Promise<void>;
}

const stdoutLogs = new WeakMap<Logger, StdoutLog>();

/**
 * pino's own destination (sonic-boom on fd 1), asynchronous, with `maxLength` bounding its buffer. Two of its
 * defaults would block: a full pipe answers EAGAIN, and its `retryEAGAIN` retries forever, which asynchronously is
 * a timer every 100 ms (harmless) but in the `flushSync` pino runs at exit is a loop of `Atomics.wait`, so a
 * process whose log reader had gone away could never exit, SIGTERM or not. The retry is therefore bounded while a
 * synchronous flush runs, and whatever is left then is dropped.
 */
function stdoutLog(): StdoutLog & { onDropped(report: (lines: number) => void): void } {
  let syncDeadline: number | undefined;
  let dropped = 0;
  let lostAtExit = false;
  let unreported = 0;
  let report: ((lines: number) => void) | undefined;
  const stream = pino.destination({
    dest: 1,
    sync: false,
    maxLength: LOG_BUFFER_BYTES,
    retryEAGAIN: () => syncDeadline === undefined || Date.now() < syncDeadline,
  });
  stream.on('drop', () => {
    dropped++;
    unreported++;
  });
  // Once the reader catches up, the log itself says what it missed.
  stream.on('drain', () => {
    if (unreported === 0 || !report) return;
    const lines = unreported;
    unreported = 0;
    report(lines);
  });
  // An error other than EPIPE (which pino handles by going quiet) must not crash the service: logging is best-effort.
  stream.on('error', () => {});
  const flushSync = stream.flushSync.bind(stream);
  stream.flushSync = () => {
    syncDeadline = Date.now() + EXIT_FLUSH_MS;
    try {
      flushSync();
    } catch {
      // Still full at the deadline: the rest is lost, and said below.
      lostAtExit = true;
    } finally {
      syncDeadline = undefined;
    }
  };
  // Said where an operator may still see it (stderr is not the stalled pipe): a single attempt, never a wait.
  process.once('exit', () => {
    if (dropped === 0 && !lostAtExit) return;
    const what = `${dropped} log lines dropped${lostAtExit ? ', and those still buffered at exit' : ''}`;
    try {
      writeSync(2, `ringfence: ${what}: stdout was not being read fast enough\n`);
    } catch {
      // stderr is full or gone too
    }
  });
  return {
    stream,
    onDropped(fn) {
      report = fn;
    },
    drain(ms) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        stream.once('drain', done);
        // Nothing buffered and nothing in flight: there will be no 'drain'.
        stream.write('');
        function done() {
          clearTimeout(timer);
          stream.off('drain', done);
          resolve();
        }
      });
    },
  };
}

/** The process logger; without a destination, stdout through the bounded asynchronous writer above. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  const stdout = destination ? undefined : stdoutLog();
  const logger = pino(
    {
      level: config.logLevel,
      base: { service: 'ringfence' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? stdout!.stream,
  );
  if (stdout) {
    stdout.onDropped((lines) => logger.warn({ dropped_lines: lines }, 'log lines dropped: stdout was not being read fast enough'));
    stdoutLogs.set(logger, stdout);
  }
  return logger;
}

/** Waits (at most `ms`) for the logger's buffered lines to reach stdout: before a normal exit. */
export function drainLogger(logger: Logger, ms: number): Promise<void> {
  return stdoutLogs.get(logger)?.drain(ms) ?? Promise.resolve();
}
