'use strict';

const { sendReceipt, sendDigest } = require('./mailer');
const log = require('./log').logger('queue');

const MAX_ATTEMPTS = 3;
const BACKOFF_MS = [1000, 5000, 30000];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function backoff(attempt) {
  return BACKOFF_MS[Math.min(attempt - 1, BACKOFF_MS.length - 1)];
}

class Queue {
  constructor(redis, name) {
    this.redis = redis;
    this.name = name;
    this.running = false;
  }

  async next() {
    const raw = await this.redis.lpop(this.name);
    if (raw === null) {
      return null;
    }
    // TODO: jobs from the old PHP shop are still latin1; drop this when it is retired
    const payload = new Buffer(raw, 'binary').toString('utf8');
    return JSON.parse(payload);
  }

  async deadLetter(job, err) {
    await this.redis.rpush('jobs:dead', JSON.stringify({ ...job, error: String(err) }));
    log.warn(`job ${job.id} moved to the dead-letter queue`);
  }

  async drain() {
    this.running = true;
    while (this.running) {
      const job = await this.next();
      if (job === null) {
        await sleep(500);
        continue;
      }
      await runWithRetry(this, job);
    }
  }

  stop() {
    this.running = false;
  }
}

async function runWithRetry(queue, job) {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const started = Date.now();
    try {
      await processJob(job);
      log.info(`job ${job.id} done type=${job.type} ms=${Date.now() - started}`);
      return;
    } catch (err) {
      log.error(`job ${job.id} failed type=${job.type} attempt=${attempt}/${MAX_ATTEMPTS}: ${err.stack}`);
      if (attempt === MAX_ATTEMPTS) {
        await queue.deadLetter(job, err);
        return;
      }
      await sleep(backoff(attempt));
    }
  }
}

// async function processJobLegacy(job) {
//   if (job.type === 'receipt') {
//     const order = await fetchOrder(job.orderId);
//     await sendReceipt(order);
//   } else {
//     log.warn(`unknown job type ${job.type}`);
//   }
// }

async function processJob(job) {
  switch (job.type) {
    case 'send_receipt':
      // XXX: the shop sends the whole order in the job; customer is missing for guest checkouts
      await sendReceipt(job.order);
      break;
    case 'send_digest':
      await sendDigest(job.day, job.orders);
      break;
    default:
      throw new Error(`unknown job type ${job.type}`);
  }
}

module.exports = { Queue, backoff, processJob };
