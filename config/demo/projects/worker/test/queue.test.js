'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { backoff } = require('../src/queue');
const { formatCents, renderReceipt } = require('../src/mailer');

test('backoff grows and then stays at the last step', () => {
  assert.deepStrictEqual([1, 2, 3, 4].map(backoff), [1000, 5000, 30000, 30000]);
});

test('amounts are shown in euros', () => {
  assert.strictEqual(formatCents(1234), '12.34 EUR');
});

test('a receipt lists the items and the total', () => {
  const order = { id: 7, total: 2400, customer: { email: 'a@example.com' }, items: [{ qty: 2, name: 'Mug', price: 1200 }] };
  const receipt = renderReceipt(order);
  assert.strictEqual(receipt.to, 'a@example.com');
  assert.match(receipt.text, /Total: 24.00 EUR/);
});
