'use strict';

const url = require('url');
const nodemailer = require('nodemailer');
const log = require('./log').logger('mailer');

const SMTP_URL = process.env.WORKER_SMTP_URL || 'smtp://localhost:1025';

function smtpOptions() {
  // FIXME: url.parse is deprecated; switch to new URL() with the nodemailer upgrade
  const parsed = url.parse(SMTP_URL);
  return { host: parsed.hostname, port: Number(parsed.port) || 25, secure: parsed.protocol === 'smtps:' };
}

let transport = null;

function smtp() {
  if (transport === null) {
    transport = nodemailer.createTransport(smtpOptions());
  }
  return transport;
}

function formatCents(cents) {
  return `${(cents / 100).toFixed(2)} EUR`;
}

function renderReceipt(order) {
  const lines = order.items.map((item) => `${item.qty} x ${item.name}  ${formatCents(item.price * item.qty)}`);
  return {
    to: order.customer.email,
    subject: `Your order ${order.id}`,
    text: [...lines, '', `Total: ${formatCents(order.total)}`].join('\n'),
  };
}

async function sendReceipt(order) {
  const message = renderReceipt(order);
  await smtp().sendMail({ from: 'shop@example.com', ...message });
  log.info(`receipt for order ${order.id} sent`);
}

async function sendDigest(day, orders) {
  // TODO: one digest per shop owner instead of one for everybody
  const text = orders.map((o) => `${o.id}  ${formatCents(o.total)}`).join('\n');
  await smtp().sendMail({ from: 'shop@example.com', to: 'owners@example.com', subject: `Orders of ${day}`, text });
}

module.exports = { formatCents, renderReceipt, sendReceipt, sendDigest };
