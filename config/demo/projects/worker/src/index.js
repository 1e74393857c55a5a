'use strict';

const Redis = require('ioredis');
const { Queue } = require('./queue');
const log = require('./log').logger('worker');

const redis = new Redis(process.env.WORKER_REDIS_URL || 'redis://localhost:6379');
const queue = new Queue(redis, 'jobs:emails');

process.on('SIGTERM', () => {
  log.info('SIGTERM received, finishing the current job');
  queue.stop();
});

log.info(`worker started pid=${process.pid} queue=${queue.name}`);
queue.drain().then(() => redis.quit());
