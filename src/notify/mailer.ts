/** The SMTP transport, from SMTP_URL; none when it is not configured (mail then waits in the outbox). */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config.ts';

export function createTransport(config: Config): Transporter | undefined {
  if (!config.smtpUrl) return undefined;
  return nodemailer.createTransport(config.smtpUrl);
}
