/**
 * The runs a window saw training whose end no window has told yet (extension/attachedRuns.ts
 * announces those ends once). One marker file per run in the extension's global storage, on the
 * extension host's disk: a Memento would not do, because VS Code in a browser (code-server) keeps
 * mementos in the browser's storage, per origin, so a window opened from another address or
 * browser would not know the runs. Markers are shared by the windows of every workspace; deleting
 * a marker is what claims the announcement, so two windows never tell the same end.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';

interface Marker {
  runDir: string;
}

export class SeenLiveRuns {
  constructor(private readonly dir: vscode.Uri) {}

  /** Remembers `runDir` as seen training. */
  async add(runDir: string): Promise<void> {
    await vscode.workspace.fs.createDirectory(this.dir);
    const marker: Marker = { runDir: path.resolve(runDir) };
    await vscode.workspace.fs.writeFile(this.markerOf(runDir), Buffer.from(JSON.stringify(marker)));
  }

  /** Forgets `runDir`; true when this call removed its marker (the caller then tells its end). */
  async claim(runDir: string): Promise<boolean> {
    try {
      await vscode.workspace.fs.delete(this.markerOf(runDir));
      return true;
    } catch {
      return false; // gone already: another window told it, or it was never seen
    }
  }

  /** The run folders remembered, in any workspace. */
  async list(): Promise<string[]> {
    let entries: [string, vscode.FileType][];
    try {
      entries = await vscode.workspace.fs.readDirectory(this.dir);
    } catch {
      return []; // nothing remembered yet
    }
    const runDirs: string[] = [];
    for (const [name, type] of entries) {
      if (type !== vscode.FileType.File || !name.endsWith('.json')) continue;
      try {
        const marker = JSON.parse(
          Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(this.dir, name))).toString('utf8'),
        ) as Marker;
        if (typeof marker.runDir === 'string') runDirs.push(marker.runDir);
      } catch {
        // Removed meanwhile by another window, or cut short by a crash: either way not ours to tell.
      }
    }
    return runDirs;
  }

  private markerOf(runDir: string): vscode.Uri {
    const id = createHash('sha256').update(path.resolve(runDir)).digest('hex').slice(0, 24);
    return vscode.Uri.joinPath(this.dir, `${id}.json`);
  }
}
