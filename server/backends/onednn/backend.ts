// The onednn backend's tensor storage: the cpu backend's (same TensorData map, same typed arrays)
// plus the recycling of kernel outputs (bufferPool.ts). The kernels themselves are registered in
// register.ts.
import type { backend_util, DataId, DataType } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { outputPool } from './util';

export class OnednnBackend extends MathBackendCPU {
  constructor() {
    super();
    // MathBackendCPU prints "install tfjs-node to speed things up" on its first tensor; here the
    // native kernels are the speed-up (and tfjs-node cannot be installed offline).
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    outputPool.noteHolder(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    outputPool.noteHolder(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  /** A copy when the values are pooled: whoever reads may keep the array after the tensor dies. */
  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    return outputPool.owns(values) ? (values as Float32Array).slice() : values;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const disposed = super.disposeData(dataId, force);
    if (disposed && values && !this.data.has(dataId)) outputPool.release(values);
    return disposed;
  }
}
