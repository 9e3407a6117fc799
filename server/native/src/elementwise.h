// Element-wise, reduction and data-movement kernels the tfjs cpu backend runs slowly (its
// broadcasting binary ops index every element through generic coordinate maths, and its
// reductions transpose first). Plain loops, parallel with OpenMP, vectorised by the compiler.
#pragma once
#include <cstdint>

namespace tern {

/**
 * How a binary op's input maps onto the output: viewing the output as [outer, repeat, inner],
 * input element (o, r, i) is input[o * inner + i]. A full input has repeat = 1, a scalar has
 * inner = 1 and repeat = size, a per-channel [C] has inner = C.
 */
struct Broadcast {
  int64_t repeat;
  int64_t inner;
};

enum class BinaryOp { Add, Sub, Mul, Div, SquaredDifference, Maximum, Minimum, Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual };
enum class UnaryOp { Relu, Step, Square, Neg, Abs, Rsqrt, Sqrt, Relu6, Sign };

/**
 * out[k] = op(a[..], b[..]) for k < size, in runs of `run` elements (a divisor of every
 * broadcast period) along which each input is either contiguous or constant.
 */
void binary(BinaryOp op, const float* a, Broadcast ba, const float* b, Broadcast bb, float* out,
            int64_t size, int64_t run);
/** The comparisons (Less … NotEqual) of `binary`, writing tfjs bools (one byte, 0 or 1). */
void compare(BinaryOp op, const float* a, Broadcast ba, const float* b, Broadcast bb, uint8_t* out,
             int64_t size, int64_t run);
void unary(UnaryOp op, const float* x, float* out, int64_t size, float alpha);
/** dx = dy · step(x): ReLU's gradient in one pass instead of Step then Multiply. */
void reluBackward(const float* dy, const float* x, float* dx, int64_t size);
/**
 * One SGD step with momentum, as server/train/optimizers.ts computes it, float op for float op:
 * d = g (+ w·wd), buf' = buf·m + d, step = nesterov ? d + buf'·m : buf', w' = w − step·lr.
 */
void sgdUpdate(const float* w, const float* g, const float* buf, float* wOut, float* bufOut, int64_t size, float lr,
               float momentum, bool nesterov, float weightDecay);
/** out[o, i] = scale · Σ_r x[o, r, i] (a reduction over one contiguous group of axes). */
void reduceSum(const float* x, float* out, int64_t outer, int64_t reduced, int64_t inner, double scale);
/** y = (x − mean[c]) · scale[c]/√(variance[c] + ε) + offset[c], c = index % channels. */
void batchNormForward(const float* x, const float* mean, const float* variance, const float* offset,
                      const float* scale, float* y, int64_t size, int64_t channels, float epsilon);
/** Copies a box of a row-major tensor (rank ≤ 8): out = x[begin : begin + size]. */
void slice(const float* x, const int64_t* shape, const int64_t* begin, const int64_t* size, int rank,
           float* out);
/** Pads a row-major tensor with a constant (inverse of slice). */
void pad(const float* x, const int64_t* shape, const int64_t* before, const int64_t* outShape, int rank,
         float value, float* out);

}  // namespace tern
