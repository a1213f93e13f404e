// CUDA kernels of the GPU fast paths (tinygrad_ift/fast/cuda.py). T is float or double: cuda.py compiles this
// file once per dtype, after a `typedef float T;` (or double) line. tests/test_cuda_kernels.py compiles it for
// sm_90 with NVRTC, without a GPU, so that a typo fails CI, and as host C++ (tests/cuda_kernels_on_cpu.py, which
// replaces block_sum2 by a sequential sum) to check every kernel against the reference ops on the CPU.
//
// Layouts: BatchNorm views x as (N, C, L) (L = H*W), one block per channel; cross-entropy takes logits (N, C),
// one thread per row; conv columns are (N*OH*OW, G, kh*kw*C/G), channels last within a window.

#define THREADS 256

__device__ inline T relu_mask(T y) { return y > T(0) ? T(1) : T(0); }

// BatchNorm's output before its optional ReLU: one expression, so that forward and backward (which recomputes it
// for the ReLU's mask instead of keeping the output) round it alike.
__device__ inline T bn_affine_of(T x, T scale, T shift) { return x * scale + shift; }

// ----- elementwise ------------------------------------------------------------------------------------------
extern "C" __global__ void relu_backward(const T* grad, const T* out, T* dx, long long n) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i < n) dx[i] = grad[i] * relu_mask(out[i]);
}

// GELU, exact: y = x Phi(x);  dy/dx = Phi(x) + x phi(x).
extern "C" __global__ void gelu_forward(const T* x, T* y, T* cdf, long long n) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i < n) {
        T c = T(0.5) * (T(1) + erf(x[i] * T(0.70710678118654752440)));
        cdf[i] = c;
        y[i] = x[i] * c;
    }
}

extern "C" __global__ void gelu_backward(const T* grad, const T* x, const T* cdf, T* dx, long long n) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i < n) {
        T pdf = T(0.39894228040143267794) * exp(T(-0.5) * x[i] * x[i]);
        dx[i] = grad[i] * (cdf[i] + x[i] * pdf);
    }
}

// ----- per-channel sums over (N, C, L), one block per channel ------------------------------------------------
__device__ void block_sum2(double a, double b, double* out_a, double* out_b) {
    __shared__ double sa[THREADS], sb[THREADS];
    sa[threadIdx.x] = a;
    sb[threadIdx.x] = b;
    __syncthreads();
    for (int half = THREADS / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) {
            sa[threadIdx.x] += sa[threadIdx.x + half];
            sb[threadIdx.x] += sb[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) { *out_a = sa[0]; *out_b = sb[0]; }
}

// sum(x - k) and sum((x - k)^2) of channel c, shifted by one of its values, k = x[0, c, 0], so that the variance
// does not cancel; k goes to shift[c] for bn_statistics.
extern "C" __global__ void bn_moments(const T* x, T* shift, double* sums, double* squares, int N, int C, int L) {
    int c = blockIdx.x;
    double k = x[(long long)c * L], a = 0, b = 0;
    if (threadIdx.x == 0) shift[c] = x[(long long)c * L];
    for (long long j = threadIdx.x; j < (long long)N * L; j += THREADS) {
        double d = (double)x[(j / L) * C * (long long)L + (long long)c * L + j % L] - k;
        a += d;
        b += d * d;
    }
    block_sum2(a, b, sums + c, squares + c);
}

// BatchNorm's per-channel numbers, one thread per channel. Training: the batch's mean and (biased) variance from
// bn_moments' sums, shifted by k = moment_shift[c], and the running statistics updated in place if `running`:
// running = (1 - momentum) running + momentum batch, the variance unbiased. Eval: the running statistics. Then
// invstd = 1 / sqrt(var + eps) and y = x scale + shift: scale = invstd weight, shift = bias - mean scale (weight 1
// and bias 0 without `affine`).
extern "C" __global__ void bn_statistics(const T* moment_shift, const double* sums, const double* squares,
                                         const T* weight, const T* bias, T* running_mean, T* running_var,
                                         int training, int affine, int running, double momentum, double eps,
                                         long long count, int C, T* mean, T* invstd, T* scale, T* shift) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    T m, v;
    if (training) {
        double offset = sums[c] / count, var = squares[c] / count - offset * offset;
        m = T((double)moment_shift[c] + offset);
        v = T(var > 0 ? var : 0);
        if (running) {
            running_mean[c] = running_mean[c] * T(1 - momentum) + T(momentum) * m;
            running_var[c] = running_var[c] * T(1 - momentum) + T(momentum * count / (count - 1)) * v;
        }
    } else {
        m = running_mean[c];
        v = running_var[c];
    }
    T s = T(1) / sqrt(v + T(eps));
    mean[c] = m;
    invstd[c] = s;
    scale[c] = affine ? s * weight[c] : s;
    shift[c] = affine ? bias[c] - m * scale[c] : -m * s;
}

// BatchNorm backward's per-channel numbers, one thread per channel, from bn_backward_sums' sum(g) and
// sum(g (x - mean)): dbias, dweight, and (training) dx's batch-statistics terms coef and offset (else 0).
extern "C" __global__ void bn_backward_coefficients(const double* sum_dy, const double* sum_dy_xc, const T* mean,
                                                    const T* invstd, const T* scale, int training, long long count,
                                                    int C, T* grad_weight, T* grad_bias, T* coef, T* offset) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    grad_bias[c] = T(sum_dy[c]);
    grad_weight[c] = T(sum_dy_xc[c] * invstd[c]);
    T k = training ? T((double)scale[c] * invstd[c] * invstd[c] * sum_dy_xc[c] / count) : T(0);
    coef[c] = k;
    offset[c] = training ? T((double)mean[c] * k - (double)scale[c] * sum_dy[c] / count) : T(0);
}

// With relu != 0 the ReLU after BatchNorm is fused in: y = max(x * scale[c] + shift[c], 0), and backward's dy is
// first masked by the ReLU's gradient, g = dy where y > 0, else 0 (the mask recomputed from x).
__device__ inline T relu_masked(T dy, T x, T scale, T shift, int relu) {
    return relu && !(bn_affine_of(x, scale, shift) > T(0)) ? T(0) : dy;
}

// sum(g) and sum(g * (x - mean)) of channel c (g = dy, or dy masked by the fused ReLU).
extern "C" __global__ void bn_backward_sums(const T* dy, const T* x, const T* mean, const T* scale, const T* shift,
                                            int relu, double* sum_dy, double* sum_dy_xc, int N, int C, int L) {
    int c = blockIdx.x;
    double m = mean[c], a = 0, b = 0;
    for (long long j = threadIdx.x; j < (long long)N * L; j += THREADS) {
        long long i = (j / L) * C * (long long)L + (long long)c * L + j % L;
        double g = (double)relu_masked(dy[i], x[i], scale[c], shift[c], relu);
        a += g;
        b += g * ((double)x[i] - m);
    }
    block_sum2(a, b, sum_dy + c, sum_dy_xc + c);
}

// y = x * scale[c] + shift[c], then max(y, 0) if relu (NaN stays NaN, as the reference's maximum)
extern "C" __global__ void bn_affine(const T* x, const T* scale, const T* shift, int relu, T* y, long long n, int C,
                                     int L) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i < n) {
        int c = (i / L) % C;
        T value = bn_affine_of(x[i], scale[c], shift[c]);
        y[i] = relu && value < T(0) ? T(0) : value;
    }
}

// dx = g * scale[c] - x * coef[c] + offset[c]  (training: coef and offset hold the batch-statistics terms)
extern "C" __global__ void bn_backward_dx(const T* dy, const T* x, const T* scale, const T* shift, int relu,
                                          const T* coef, const T* offset, T* dx, long long n, int C, int L) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i < n) {
        int c = (i / L) % C;
        dx[i] = relu_masked(dy[i], x[i], scale[c], shift[c], relu) * scale[c] - x[i] * coef[c] + offset[c];
    }
}

// ----- softmax cross-entropy with label smoothing s, one thread per row of (N, C) logits ---------------------
// loss = -sum_c q_c log p_c with q = (1 - s) onehot(y) + s / C;  dz = (p - q) * grad
extern "C" __global__ void cross_entropy_forward(const T* logits, const long long* labels, T smoothing, T* loss,
                                                 T* probs, int N, int C) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= N) return;
    const T* z = logits + (long long)row * C;
    T* p = probs + (long long)row * C;
    T top = z[0];
    for (int c = 1; c < C; ++c) top = z[c] > top ? z[c] : top;
    T total = 0;
    for (int c = 0; c < C; ++c) total += exp(z[c] - top);
    T log_total = log(total), result = 0;
    for (int c = 0; c < C; ++c) {
        T log_p = z[c] - top - log_total;
        T q = smoothing / C + (c == labels[row] ? T(1) - smoothing : T(0));
        result -= q * log_p;
        p[c] = exp(log_p);
    }
    loss[row] = result;
}

extern "C" __global__ void cross_entropy_backward(const T* probs, const long long* labels, T smoothing,
                                                  const T* grad, T* dz, int N, int C) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i < (long long)N * C) {
        int row = i / C, c = i % C;
        T q = smoothing / C + (c == labels[row] ? T(1) - smoothing : T(0));
        dz[i] = (probs[i] - q) * grad[row];
    }
}

// ----- optimiser updates, in place, one launch per parameter ----------------------------------------------
// Adam / AdamW in the reference's order: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= step_size * m / (sqrt(v) / sqrt_c2 + eps), with L2 (g += wd p) or decoupled (p *= 1 - lr wd) decay.
extern "C" __global__ void adam_update(T* p, const T* g, T* m, T* v, T lr, T beta1, T beta2, T eps, T wd,
                                       int decoupled, T sqrt_c2, T step_size, long long n) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= n) return;
    T grad = g[i], param = p[i];
    if (wd != T(0) && decoupled) param *= T(1) - lr * wd;
    else if (wd != T(0)) grad = param * wd + grad;
    T mi = m[i] * beta1 + grad * (T(1) - beta1);
    T vi = v[i] * beta2 + grad * (T(1) - beta2) * grad;
    m[i] = mi;
    v[i] = vi;
    p[i] = param - mi / (sqrt(vi) / sqrt_c2 + eps) * step_size;
}

// SGD with momentum: g += wd p;  buf = g (first step) or mu buf + (1 - dampening) g;  p -= lr buf.
extern "C" __global__ void sgd_update(T* p, const T* g, T* buf, T lr, T momentum, T dampening, T wd, int first,
                                      long long n) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= n) return;
    T grad = wd != T(0) ? p[i] * wd + g[i] : g[i];
    if (momentum != T(0)) {
        buf[i] = first ? grad : buf[i] * momentum + grad * (T(1) - dampening);
        grad = buf[i];
    }
    p[i] -= grad * lr;
}

// ----- convolution: im2col, one thread per entry of the (N*OH*OW, G, KH*KW*C/G) columns -----------------------
// Entry (row, g, (ki, kj, cg)) is pixel (oy*SH - PH + ki*DH, ox*SW - PW + kj*DW) of channel g*C/G + cg of image n,
// row = (n*OH + oy)*OW + ox; zero where the window hangs over the border (the padding is never built).
extern "C" __global__ void im2col(const T* image, T* cols, int N, int C, int H, int W, int G, int KH, int KW,
                                  int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= (long long)N * OH * OW * KH * KW * C) return;
    int per_group = C / G;
    int cg = i % per_group;
    long long rest = i / per_group;
    int kj = rest % KW;
    rest /= KW;
    int ki = rest % KH;
    rest /= KH;
    int g = rest % G;
    long long row = rest / G;
    int ox = row % OW, oy = (row / OW) % OH;
    long long n = row / ((long long)OW * OH);
    int y = oy * SH - PH + ki * DH, x = ox * SW - PW + kj * DW;
    bool inside = y >= 0 && y < H && x >= 0 && x < W;
    cols[i] = inside ? image[((n * C + (long long)g * per_group + cg) * H + y) * W + x] : T(0);
}

// ----- convolution: col2im, one thread per pixel of the (N, C, H, W) image -----------------------------------
// Each pixel adds the column entries of every window that covers it (no atomics: a gather, not a scatter).
extern "C" __global__ void col2im(const T* cols, T* image, int N, int C, int H, int W, int G, int KH, int KW,
                                  int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= (long long)N * C * H * W) return;
    int x = i % W, y = (i / W) % H, c = (i / ((long long)W * H)) % C;
    long long n = i / ((long long)W * H * C);
    int per_group = C / G, g = c / per_group, cg = c % per_group;
    long long window = (long long)KH * KW * per_group;
    T total = 0;
    for (int ki = 0; ki < KH; ++ki) {
        int oy_s = y + PH - ki * DH;  // oy * SH must equal this
        if (oy_s < 0 || oy_s % SH) continue;
        int oy = oy_s / SH;
        if (oy >= OH) continue;
        for (int kj = 0; kj < KW; ++kj) {
            int ox_s = x + PW - kj * DW;
            if (ox_s < 0 || ox_s % SW) continue;
            int ox = ox_s / SW;
            if (ox >= OW) continue;
            long long row = (n * OH + oy) * OW + ox;
            total += cols[(row * G + g) * window + ((long long)ki * KW + kj) * per_group + cg];
        }
    }
    image[i] = total;
}

// ----- max pooling with the winning offset, one thread per output pixel of (N, C, OH, OW) --------------------
// A window over the padding alone (possible with dilation) gives -infinity, as the reference's -inf padding, and
// winner -1: its gradient goes nowhere.
__device__ inline T minus_infinity() {
    T zero = T(0);
    return T(-1) / zero;
}

extern "C" __global__ void max_pool_forward(const T* x, T* out, int* winner, int NC, int H, int W, int KH, int KW,
                                            int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= (long long)NC * OH * OW) return;
    int ox = i % OW, oy = (i / OW) % OH;
    long long plane = i / ((long long)OW * OH);
    T best = 0;
    int best_offset = -1;
    for (int ki = 0; ki < KH; ++ki) {
        int y = oy * SH - PH + ki * DH;
        for (int kj = 0; kj < KW; ++kj) {
            int x_ = ox * SW - PW + kj * DW;
            if (y < 0 || y >= H || x_ < 0 || x_ >= W) continue;  // padding counts as -inf
            T value = x[(plane * H + y) * W + x_];
            if (best_offset < 0 || value > best) { best = value; best_offset = ki * KW + kj; }
        }
    }
    out[i] = best_offset < 0 ? minus_infinity() : best;
    winner[i] = best_offset;
}

// The gradient of each output pixel goes to its window's winner; windows may overlap, hence the atomicAdd.
extern "C" __global__ void max_pool_backward(const T* grad, const int* winner, T* dx, int NC, int H, int W, int KW,
                                             int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= (long long)NC * OH * OW || winner[i] < 0) return;
    int ox = i % OW, oy = (i / OW) % OH;
    long long plane = i / ((long long)OW * OH);
    int ki = winner[i] / KW, kj = winner[i] % KW;
    int y = oy * SH - PH + ki * DH, x_ = ox * SW - PW + kj * DW;
    atomicAdd(dx + (plane * H + y) * W + x_, grad[i]);
}
