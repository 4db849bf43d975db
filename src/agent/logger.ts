// The agent's logger: one JSON object per line on stdout, with level, time and message, plus the
// structured fields of the call. Under systemd (JOURNAL_STREAM is set when stdout is the journal)
// each line starts with the syslog priority, `<3>` for errors ... `<7>` for debug, which journald
// strips and records as the PRIORITY field (sd-daemon(3), SyslogLevelPrefix=yes by default).
import winston from 'winston';

const PRIORITY: Record<string, number> = { error: 3, warn: 4, info: 6, debug: 7 };

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export function createLogger(options: { level?: LogLevel; journal?: boolean; stream?: NodeJS.WritableStream } = {}): winston.Logger {
  const journal = options.journal ?? process.env.JOURNAL_STREAM !== undefined;
  const line = winston.format.printf((info) => {
    const { level, message, timestamp, ...fields } = info;
    const json = JSON.stringify({ time: timestamp, level, msg: message, ...fields }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    return journal ? `<${PRIORITY[level] ?? 6}>${json}` : json;
  });
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level: options.level ?? 'info',
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: winston.format.combine(winston.format.timestamp(), line),
    transports: [transport],
  });
}
