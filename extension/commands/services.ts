/** What the command modules share: the context object, the catalog, the jobs and the trees. */
import type { Catalog } from '../catalog';
import type { Ctx } from '../ctx';
import type { JobTracker } from '../jobs';
import type { ExperimentsTreeProvider } from '../trees/experimentsTree';
import type { LayersTreeProvider } from '../trees/layersTree';

export interface Services {
  ctx: Ctx;
  catalog: Catalog;
  jobs: JobTracker;
  experiments: ExperimentsTreeProvider;
  layers: LayersTreeProvider;
}
