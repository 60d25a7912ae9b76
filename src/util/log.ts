import { pino, type Logger as PinoLogger } from 'pino';

/** The structured logger used everywhere (JSON lines on stderr). */
export type Logger = PinoLogger;

/** Maps SageMaker's Python-style numeric level (10 debug, 20 info, 30 warning, 40 error) to pino's. */
export function pinoLevel(pythonLevel: number): string {
  if (pythonLevel <= 10) return 'debug';
  if (pythonLevel <= 20) return 'info';
  if (pythonLevel <= 30) return 'warn';
  if (pythonLevel <= 40) return 'error';
  return 'fatal';
}

/**
 * Creates the process logger: JSON lines written synchronously to stderr, so nothing is lost when the
 * process exits right after a failure. stdout stays free for metric lines and user output.
 */
export function createLogger(pythonLevel = 20, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    { level: pinoLevel(pythonLevel), base: { ...bindings }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: true }),
  );
}
