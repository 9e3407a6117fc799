/**
 * Imported first by the server entry: stdout carries the JSON-RPC stream, so anything a library
 * prints with console.log/info/debug (tfjs greets Node users that way) must not land there. Until
 * the connection is up such lines go to stderr; `routeConsole` then sends them to the client as
 * `window/logMessage`.
 */
import { format } from 'node:util';

type Level = 'error' | 'warn' | 'info' | 'log';
let sink: (level: Level, message: string) => void = (_level, message) => process.stderr.write(message + '\n');

const patch = (name: 'log' | 'info' | 'debug' | 'warn' | 'error' | 'trace', level: Level) => {
  console[name] = (...args: unknown[]) => sink(level, format(...args));
};
patch('log', 'log');
patch('debug', 'log');
patch('trace', 'log');
patch('info', 'info');
patch('warn', 'warn');
patch('error', 'error');

/** From now on console output goes to `send` (the client's log). */
export function routeConsole(send: (level: Level, message: string) => void): void {
  sink = send;
}
