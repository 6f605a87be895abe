import type { FastifyServerOptions } from "fastify";

/**
 * Logs for a person on a terminal (one readable line each, via pino-pretty)
 * and JSON lines for a log collector otherwise. Requests are logged at debug
 * (see build-app.ts), so at the default level the terminal of `pnpm start`
 * keeps what matters in view, such as the admin token printed at first start.
 */
export function loggerOptions(level: string, tty: boolean): FastifyServerOptions["logger"] {
  if (!tty) return { level };
  return {
    level,
    transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname,reqId" } },
  };
}
