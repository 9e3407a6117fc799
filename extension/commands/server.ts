/** Restart Server and Show Server Log; and the restart offer when a setting the server read at start changes. */
import * as vscode from 'vscode';
import { TernaryConfig } from '../config';
import { registerCommand } from './errors';
import type { Services } from './services';

export function registerServerCommands(s: Services): void {
  const { ctx } = s;
  registerCommand(ctx, 'ternary.restartServer', 'Restart Server', async () => {
    // Training runs are processes of their own (server/rpc/detachedTrain.ts) and the new server
    // follows them again; what ends with the server is the work inside it: a queued or starting
    // train job, an export, an evaluation, a ternarization.
    const lost = s.jobs.all().filter((j) => (j.kind === 'train' ? j.runId === undefined && !j.ended : true));
    if (lost.length > 0) {
      const what = lost.map((j) => (j.kind === 'train' ? `the queued training of ${j.label}` : `${j.kind} of ${j.label}`)).join(', ');
      const choice = await vscode.window.showWarningMessage(
        `Ternary: restarting the server cancels ${what}. Runs already training go on.`,
        { modal: true },
        'Restart',
      );
      if (choice !== 'Restart') return;
    }
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Restarting the Ternary training server' }, () =>
      ctx.restart(),
    );
    s.experiments.refresh();
    const info = ctx.serverInfo;
    vscode.window.setStatusBarMessage(`Ternary server restarted${info ? ` (${info.backend}, ${info.threads} threads)` : ''}`, 5000);
  });
  registerCommand(ctx, 'ternary.showServerLog', 'Show Server Log', () => ctx.log.show());

  ctx.pushExtCleanup(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('ternary.runsFolder')) s.experiments.refresh();
      if (!TernaryConfig.needsRestart(event) || !ctx.serverRunning) return;
      const choice = await vscode.window.showInformationMessage(
        'Ternary: the training server reads this setting when it starts. Restart it now?',
        'Restart Server',
      );
      if (choice) await vscode.commands.executeCommand('ternary.restartServer');
    }),
  );
}
