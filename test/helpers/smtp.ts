/** A real SMTP server in the test process (smtp-server) that keeps every message it receives. */
import { SMTPServer } from 'smtp-server';
import test from 'ava';
import { simpleParser, type ParsedMail } from 'mailparser';
import { standIn } from './stand-in.ts';

export interface SmtpSink {
  url: string;
  messages: ParsedMail[];
  /** For each message kept (in the same order): milliseconds from its connection's opening to its acceptance. */
  durations: number[];
  /** Connections open now with a mail from `address` under way (MAIL FROM given, not yet accepted). */
  inFlightFrom(address: string): number;
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
   * A slow receiver: its answers to the connection (the greeting), MAIL FROM and RCPT TO each wait this long, so one
   * message takes about three times it — longer than an outbox lease, with no single wait near the client's
   * timeouts. A function gives the wait for the nth connection (from 0): nodemailer, unpooled, opens one per message.
   * The answer to the end of the data is never held: a client that stopped waiting for it may have had its mail
   * accepted all the same (a duplicate no sender can prevent), which is not what a slow receiver is here to show.
   */
  stepDelayMs?: number | ((connection: number) => number);
  /** Awaited before a received mail is accepted: a rejection refuses it (a 4xx/5xx answer, the mail not kept). */
  accept?: (mail: ParsedMail) => Promise<void>;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const durations: number[] = [];
  const waiters: { match: (m: ParsedMail) => boolean; resolve: (m: ParsedMail) => void }[] = [];
  /** Each open connection: its wait per answer, when it opened, and the sender of the mail under way on it. */
  const open = new Map<string, { delay: number; openedAt: number; from?: string }>();
  let connections = 0;
  const delayOf = (n: number) => (typeof options.stepDelayMs === 'function' ? options.stepDelayMs(n) : (options.stepDelayMs ?? 0));
  const later = (session: { id: string }, callback: () => void) => {
    const delay = open.get(session.id)?.delay ?? 0;
    if (delay > 0) setTimeout(callback, delay);
    else callback();
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(session, callback) {
      open.set(session.id, { delay: delayOf(connections++), openedAt: Date.now() });
      later(session, () => callback());
    },
    onMailFrom(address, session, callback) {
      const state = open.get(session.id);
      if (state) state.from = address.address;
      later(session, () => callback());
    },
    onRcptTo(_address, session, callback) {
      later(session, () => callback());
    },
    onClose(session) {
      open.delete(session.id);
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then(async (mail) => {
          const state = open.get(session.id);
          await options.accept?.(mail);
          messages.push(mail);
          durations.push(Date.now() - (state?.openedAt ?? Date.now()));
          if (state) state.from = undefined;
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
    durations,
    dropped,
    inFlightFrom: (address) => [...open.values()].filter((c) => c.from === address).length,
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
