/** Run folders on disk, read without tfjs (the extension host imports this). */
export { listRuns, readRunHistory, readRunInfo } from './runFiles';
export { defaultRunsDir } from './runsDir';
