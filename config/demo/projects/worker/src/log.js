'use strict';

// One line per event: local ISO 8601 time with its offset, level, component, message.
function timestamp(date = new Date()) {
  const offset = -date.getTimezoneOffset();
  const pad = (n) => String(Math.trunc(Math.abs(n))).padStart(2, '0');
  const local = new Date(date.getTime() + offset * 60000).toISOString().slice(0, 23);
  return `${local}${offset >= 0 ? '+' : '-'}${pad(offset / 60)}:${pad(offset % 60)}`;
}

function logger(component) {
  const write = (level) => (message) =>
    process.stdout.write(`${timestamp()} ${level.padEnd(5)} [${component}] ${message}\n`);
  return { info: write('INFO'), warn: write('WARN'), error: write('ERROR') };
}

module.exports = { logger, timestamp };
