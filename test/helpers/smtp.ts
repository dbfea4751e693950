/** A real SMTP server in the test process (smtp-server) that keeps every message it receives. */
import { SMTPServer } from 'smtp-server';
import test from 'ava';
import { simpleParser, type ParsedMail } from 'mailparser';
import { standIn } from './stand-in.ts';

export interface SmtpSink {
  url: string;
  messages: ParsedMail[];
  /**
   * Connections a client cut off in the middle of a mail (a server killed while sending): a real SMTP server logs
   * them and carries on, and so does the sink. Any other server error is still thrown.
   */
  dropped: NodeJS.ErrnoException[];
  /** Resolves with the first message (already received or arriving) that matches, or rejects after `ms`. */
  waitFor(match: (m: ParsedMail) => boolean, ms?: number): Promise<ParsedMail>;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  /**
   * A slow receiver: each of its answers (greeting, MAIL FROM, RCPT TO, end of data) waits this long, so one
   * message takes about four times it — longer than an outbox lease, with no single wait near the client's timeouts.
   */
  stepDelayMs?: number;
  /** Awaited before a received mail is accepted: a rejection refuses it (a 4xx/5xx answer, the mail not kept). */
  accept?: (mail: ParsedMail) => Promise<void>;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const waiters: { match: (m: ParsedMail) => boolean; resolve: (m: ParsedMail) => void }[] = [];
  const delay = options.stepDelayMs ?? 0;
  const later = (callback: () => void) => (delay > 0 ? setTimeout(callback, delay) : callback());
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, callback) {
      later(() => callback());
    },
    onMailFrom(_address, _session, callback) {
      later(() => callback());
    },
    onRcptTo(_address, _session, callback) {
      later(() => callback());
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then(async (mail) => {
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          await options.accept?.(mail);
          messages.push(mail);
          for (const w of [...waiters]) {
            if (w.match(mail)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(mail);
            }
          }
          callback();
        })
        .catch(callback);
    },
  });
  const dropped: NodeJS.ErrnoException[] = [];
  // Without a listener the server's 'error' event (emitted for a reset inside a mail transaction) would be an
  // uncaught exception in the test process.
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') throw err;
    dropped.push(err);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    dropped,
    waitFor(match, ms = 10_000) {
      const found = messages.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (m: ParsedMail) => (clearTimeout(timer), resolve(m)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching mail within ${ms} ms (received ${messages.length})`));
        }, ms);
        waiters.push(waiter);
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The test file's SMTP sink, for tests of the mail layer without an app (an app has its own: useTestApp({ smtp })). */
export function useSmtpSink(): SmtpSink {
  const sink = standIn<SmtpSink>('the SMTP sink');
  let started: SmtpSink | undefined;
  test.serial.before(async () => {
    started = await startSmtpSink();
    sink.set(started);
  });
  test.after.always(async () => {
    await started?.close();
  });
  return sink.value;
}
