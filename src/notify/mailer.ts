/** The SMTP transport, from SMTP_URL; none when it is not configured (mail then waits in the outbox). */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config.ts';

/**
 * How long one step of a delivery may wait (connecting, the greeting, any reply): half the outbox lease. A worker
 * renews its lease every third of it while it delivers (so a slow receiver may take longer in all than a lease), but if renewing ever stalls (the database slow or
 * unreachable) the delivery still ends — fails, and is retried under a new claim — before the lease runs out and
 * another worker may take the message over. nodemailer's defaults (2 min to connect, 10 min of silence) would let
 * one message outlast a default 60 s lease many times over.
 */
export function deliveryTimeoutMs(leaseSeconds: number): number {
  return Math.max(100, Math.floor((leaseSeconds * 1000) / 2));
}

export function createTransport(config: Config): Transporter | undefined {
  if (!config.smtpUrl) return undefined;
  const timeout = deliveryTimeoutMs(config.outboxLeaseSeconds);
  return nodemailer.createTransport({ url: config.smtpUrl, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout });
}
