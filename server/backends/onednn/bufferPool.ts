// Recycles the large Float32Arrays of disposed tensors as the outputs of later kernels. A fresh
// 4–8 MB ArrayBuffer per kernel output means a fresh mmap and a page fault on every 4 KB of
// first touch; on a ResNet-20 training step that cost more CPU than every convolution together
// (one thread, batch 128: 1 473 → 678 CPU ms per step with the pool). PyTorch's caching
// allocator does the same for its tensors.
//
// Safety: an array goes back to the pool only when its tensor data is disposed, only if this
// pool made it, and never if some other tensor data was seen to share its buffer (the cpu
// backend's contiguous Slice returns a subarray view). Reads hand out copies (see backend.ts), so
// no one outside the backend can hold a pooled array past its tensor's life.

/** Arrays below this size come from `new Float32Array`: V8 serves them from its heap cheaply. */
export const POOL_MIN_BYTES = 64 * 1024;

export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** Buffers this pool made, and those of them some tensor data holds now. */
  private readonly made = new WeakSet<ArrayBuffer>();
  private readonly held = new WeakSet<ArrayBuffer>();
  /** Buffers that a second tensor data (a view, an alias) also referenced: never recycled. */
  private readonly shared = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;

  /** @param maxFreeBytes the most the pool keeps unused; beyond it disposed arrays go to the GC. */
  constructor(readonly maxFreeBytes: number) {}

  /** An uninitialised array of `length` floats (the caller overwrites all of it). */
  take(length: number): Float32Array {
    if (length * 4 < POOL_MIN_BYTES) return new Float32Array(length);
    const reused = this.free.get(length)?.pop();
    if (reused) {
      this.freeBytes -= reused.byteLength;
      return reused;
    }
    // allocUnsafeSlow: no zero fill, and a buffer of exactly this size (not a slice of a slab).
    const array = new Float32Array(Buffer.allocUnsafeSlow(length * 4).buffer, 0, length);
    this.made.add(array.buffer as ArrayBuffer);
    return array;
  }

  /** Whether `values` lives in a buffer this pool made (reads of it must copy). */
  owns(values: unknown): boolean {
    return ArrayBuffer.isView(values) && this.made.has(values.buffer as ArrayBuffer);
  }

  /** Called when tensor data is created with `values`: a second holder marks the buffer shared. */
  noteHolder(values: unknown): void {
    if (!this.owns(values)) return;
    const buffer = (values as ArrayBufferView).buffer as ArrayBuffer;
    if (this.held.has(buffer)) this.shared.add(buffer);
    else this.held.add(buffer);
  }

  /** Called when tensor data holding `values` is disposed. */
  release(values: unknown): void {
    if (!this.owns(values)) return;
    const array = values as Float32Array;
    const buffer = array.buffer as ArrayBuffer;
    this.held.delete(buffer);
    if (this.shared.has(buffer) || !(array instanceof Float32Array) || array.byteOffset !== 0 || array.byteLength !== buffer.byteLength)
      return;
    if (this.freeBytes + array.byteLength > this.maxFreeBytes) return;
    let list = this.free.get(array.length);
    if (!list) this.free.set(array.length, (list = []));
    list.push(array);
    this.freeBytes += array.byteLength;
  }

  /** Bytes held unused, for the leak check and tests. */
  get unusedBytes(): number {
    return this.freeBytes;
  }
}
