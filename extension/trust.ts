/**
 * Workspace trust: in Restricted Mode the views and statistics work, but nothing that runs
 * compute on the workspace's instructions (training, evaluation, ternarization) starts.
 */
import * as vscode from 'vscode';
import { UserCancelled } from './commands/errors';

/** Refuses `action` in an untrusted workspace with a message saying why and how to proceed. */
export async function requireTrust(action: string): Promise<void> {
  if (vscode.workspace.isTrusted) return;
  const choice = await vscode.window.showWarningMessage(
    `Ternary: ${action} is disabled in Restricted Mode. It reads the data, model and config files this workspace names and writes run folders into it, so it needs a trusted workspace. Viewing runs and layer statistics still works.`,
    'Manage Workspace Trust',
  );
  if (choice === 'Manage Workspace Trust') await vscode.commands.executeCommand('workbench.trust.manage');
  throw new UserCancelled();
}
