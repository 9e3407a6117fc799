"""Ternary Studio's PyTorch engine: trains a resolved experiment (written by the TypeScript side,
server/engines/torch/) with torch DDP under torchrun, into the same run folder as the tfjs engine.
"""

MIN_TORCH = (1, 13)
