/**
 * `tern`: the headless way to run what the extension runs (docs/architecture.md, Processes). Each sub-command lives in
 * its own module and is loaded only when used, so `tern stats` does not pay for the trainer.
 */
import { userMistakeOf, type CliCommand } from './command';

const commands: Record<string, () => Promise<{ command: CliCommand }>> = {
  // One line per sub-command: name → module exporting `command`.
  bench: () => import('./commands/bench'),
  train: () => import('./commands/train'),
  eval: () => import('./commands/eval'),
  export: () => import('./commands/export'),
  serve: () => import('./commands/serve'),
  stats: () => import('./commands/stats'),
  sweep: () => import('./commands/sweep'),
  ternarize: () => import('./commands/ternarize'),
};

function printHelp(): void {
  const lines = [
    'Ternary Studio: quantization-aware training with ternary weights.',
    '',
    'Usage: tern <command> [options]',
    '',
    'Commands:',
  ];
  void Promise.all(Object.entries(commands).map(async ([name, load]) => [name, (await load()).command.summary] as const)).then((rows) => {
    for (const [name, summary] of rows) lines.push(`  ${name.padEnd(11)} ${summary}`);
    lines.push('', 'Run `tern help <command>` for the options of one command.');
    process.stdout.write(lines.join('\n') + '\n');
  });
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const topic = rest[0];
    if (topic && commands[topic]) {
      process.stdout.write((await commands[topic]()).command.usage + '\n');
    } else {
      printHelp();
    }
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`tern: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}.\n`);
    return 2;
  }
  const { command } = await load();
  try {
    return await command.run(rest);
  } catch (caught) {
    // By code (shared/userError.ts): a bad argument gets the usage and exit code 2, any other
    // mistake of the user its message and 1; the rest is a bug (below). The file system's
    // refusals (a full disk, an --out that is a file) are the user's to fix too.
    const err = userMistakeOf(caught);
    if (!err) throw caught;
    process.stderr.write(
      err.code === 'invalidArgument' ? `tern ${name}: ${err.message}\n${command.usage}\n` : `tern ${name}: ${err.message}\n`,
    );
    return err.code === 'invalidArgument' ? 2 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Expected failures (bad config, bad data, NaN loss) are reported by the commands themselves;
    // anything reaching here is a bug, so keep the stack.
    process.stderr.write(`tern: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
