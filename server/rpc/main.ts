/** Entry of the bundled training server, `dist/server.js`: `node dist/server.js --stdio`. */
import { SERVE_USAGE, serveStdio } from './stdio';

if (process.argv.includes('--stdio')) {
  void serveStdio();
} else {
  process.stderr.write(SERVE_USAGE + '\n');
  process.exitCode = 2;
}
