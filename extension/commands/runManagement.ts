/**
 * Run management in the Experiments view: Reveal Run Folder, Delete Run (to the trash, after a
 * confirmation; refused while the run trains) and Edit Note (extension/runNote.ts). Each takes the
 * run's tree node, as the context menu passes it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ListRunsRequest, type RunInfo } from '../../shared/protocol';
import { readRunNote, writeRunNote } from '../runNote';
import { registerCommand, UserCancelled, UserFacingError } from './errors';
import type { Services } from './services';

/** What Delete Run did: the run folder went to the trash, was deleted for good, or was kept (and why). */
export interface DeleteRunOutcome {
  deleted: 'trash' | 'permanently' | false;
  reason?: string;
}

export function registerRunManagementCommands(s: Services): void {
  registerCommand(s.ctx, 'ternary.revealRun', 'Reveal Run Folder', (arg?: unknown) => revealRun(s, arg));
  registerCommand(s.ctx, 'ternary.deleteRun', 'Delete Run', (arg?: unknown) => deleteRun(s, arg));
  registerCommand(s.ctx, 'ternary.editRunNote', 'Edit Note', (arg?: unknown) => editRunNote(s, arg));
}

function runOf(arg: unknown, action: string): RunInfo {
  const node = arg as { kind?: string; run?: RunInfo } | undefined;
  if (node?.kind !== 'run' || !node.run) throw new UserFacingError(`choose a run in the Experiments view to ${action} (right-click it).`);
  return node.run;
}

/** "tiny/20261206-073104-ab12", as the messages name a run. */
function runName(run: RunInfo): string {
  return `${run.experiment}/${run.runId}`;
}

/** Shows the run folder in the Explorer when it is in the workspace, else in the system's file manager. */
async function revealRun(s: Services, arg: unknown): Promise<string> {
  const run = runOf(arg, 'reveal its folder');
  const uri = vscode.Uri.file(run.runDir);
  const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
  await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
  s.ctx.log.info(`Revealed ${run.runDir}.`);
  return run.runDir;
}

/** How the run stands now (a fresh listing: the tree's row may be older than the run's state). */
async function currentStatus(s: Services, run: RunInfo): Promise<RunInfo['status'] | undefined> {
  const runsDir = path.dirname(path.dirname(run.runDir));
  const runs = await s.ctx.request(ListRunsRequest.type, { runsDirs: [runsDir] });
  return runs.find((r) => r.runDir === run.runDir)?.status;
}

async function deleteRun(s: Services, arg: unknown): Promise<DeleteRunOutcome> {
  const run = runOf(arg, 'delete it');
  const live = s.jobs.isRunActive(run.runId) || (await currentStatus(s, run)) === 'running';
  if (live) {
    const reason = `${runName(run)} is training; stop it first (Stop), then delete it.`;
    void vscode.window.showWarningMessage(`Ternary: ${reason}`);
    return { deleted: false, reason };
  }
  const folder = vscode.workspace.asRelativePath(run.runDir, false);
  const choice = await vscode.window.showWarningMessage(
    `Delete the run ${runName(run)}?`,
    { modal: true, detail: `Its folder ${folder} (metrics, checkpoints, model) goes to the trash.` },
    'Move to Trash',
  );
  if (choice !== 'Move to Trash') throw new UserCancelled();
  const uri = vscode.Uri.file(run.runDir);
  let deleted: DeleteRunOutcome['deleted'] = 'trash';
  try {
    await vscode.workspace.fs.delete(uri, { recursive: true, useTrash: true });
  } catch (error) {
    // A remote or browser window (code-server, SSH) has no trash: say so and ask again.
    s.ctx.log.warn(`Moving ${run.runDir} to the trash failed: ${error instanceof Error ? error.message : String(error)}`);
    const again = await vscode.window.showWarningMessage(
      `The trash is not available here. Delete the run ${runName(run)} permanently?`,
      { modal: true, detail: `Its folder ${folder} cannot be restored afterwards.` },
      'Delete Permanently',
    );
    if (again !== 'Delete Permanently') throw new UserCancelled();
    await vscode.workspace.fs.delete(uri, { recursive: true, useTrash: false });
    deleted = 'permanently';
  }
  s.ctx.log.info(`Deleted ${run.runDir} (${deleted === 'trash' ? 'to the trash' : 'permanently'}).`);
  s.experiments.refresh(true);
  s.ctx.hub.fireRunsChanged();
  return { deleted };
}

/** Asks for the run's note (prefilled with the current one); an empty note removes it. */
async function editRunNote(s: Services, arg: unknown): Promise<string> {
  const run = runOf(arg, 'write a note on it');
  const current = await readRunNote(run.runDir);
  const note = await vscode.window.showInputBox({
    title: `Note on ${runName(run)}`,
    prompt: 'Shown in the run’s tooltip and on the dashboard; kept in note.txt in the run folder. Empty removes it.',
    value: current,
  });
  if (note === undefined) throw new UserCancelled();
  await writeRunNote(run.runDir, note);
  s.experiments.refresh(true);
  s.ctx.hub.fireRunsChanged();
  return note.trim();
}
