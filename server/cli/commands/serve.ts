/** `tern serve --stdio`: the training server the extension talks to, for other editors and scripts. */
import { UsageError, type CliCommand } from '../command';

const usage = `Usage: tern serve --stdio

Starts the training server: JSON-RPC with the LSP base protocol (Content-Length framing) on
stdin/stdout, the way the VS Code extension drives it. Log lines go to the client and to stderr;
the server exits when stdin closes. Protocol: docs/protocol.md.`;

export const command: CliCommand = {
  summary: 'Run the training server on stdio (JSON-RPC, LSP framing) for editors and scripts',
  usage,
  async run(argv) {
    if (argv.length !== 1 || argv[0] !== '--stdio') {
      throw new UsageError(
        argv.length
          ? `unexpected argument(s): ${argv.filter((a) => a !== '--stdio').join(' ') || argv.join(' ')}`
          : 'missing --stdio (the only transport)',
      );
    }
    // Loaded here so that the rest of `tern` does not pay for the server's modules.
    const { serveStdio } = await import('../../rpc/stdio');
    return serveStdio();
  },
};
