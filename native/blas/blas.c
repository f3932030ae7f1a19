/*
 * MedTune's native matrix product: OpenBLAS's sgemm on float32 operands that live in the wasm backend's
 * heap (an ArrayBuffer passed with byte offsets), so tfjs-backend-wasm's BatchMatMul runs at the speed of
 * the machine's BLAS without copying a tensor. Loaded by core/model/native-blas.ts when it was built
 * (`npm run build:native`, needs libopenblas-dev); everything works without it.
 */
#include <dlfcn.h>
#include <math.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cblas.h>

/*
 * OpenBLAS is opened at run time, not linked: it reads OPENBLAS_CORETYPE once, when it loads, and open()
 * must be able to set that first — from any thread (a worker's process.env never reaches the C environment).
 */
typedef void (*sgemm_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint, blasint, blasint, float, const float *, blasint,
                         const float *, blasint, float, float *, blasint);
static sgemm_fn p_sgemm;
static void (*p_set_threads)(int);
static int (*p_get_threads)(void);
static char *(*p_corename)(void);
static char *(*p_config)(void);
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static char open_error[512];

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) {                          \
      napi_throw_error(env, NULL, "napi call failed"); \
      return NULL;                                    \
    }                                                 \
  } while (0)

static int64_t int_arg(napi_env env, napi_value v) {
  int64_t out = 0;
  napi_get_value_int64(env, v, &out);
  return out;
}

/*
 * gemm(heap, aByte, bByte, cByte, batch, strideA, strideB, M, N, K, transA, transB, threads[, biasByte])
 * For i < batch: C_i[M×N] = op(A_i) · op(B_i), row-major; A_i at aByte + i·strideA floats, B_i likewise,
 * C_i at cByte + i·M·N floats. op(A) is A[M×K], or A stored [K×M] when transA; op(B) is B[K×N], or B stored
 * [N×K] when transB. A stride of 0 shares one operand across the batch. threads > 0 sets OpenBLAS's count.
 * With biasByte ≥ 0 every row of C starts as the N-vector there (x·W + b in one pass: sgemm's beta = 1).
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 13) {
    napi_throw_type_error(env, NULL, "gemm needs 13 arguments");
    return NULL;
  }
  void *data = NULL;
  size_t length = 0;
  bool is_ab = false;
  CHECK(napi_is_arraybuffer(env, argv[0], &is_ab));
  if (!is_ab) {
    napi_throw_type_error(env, NULL, "gemm: the heap must be an ArrayBuffer");
    return NULL;
  }
  CHECK(napi_get_arraybuffer_info(env, argv[0], &data, &length));
  int64_t a = int_arg(env, argv[1]), b = int_arg(env, argv[2]), c = int_arg(env, argv[3]);
  int64_t batch = int_arg(env, argv[4]), sa = int_arg(env, argv[5]), sb = int_arg(env, argv[6]);
  int64_t M = int_arg(env, argv[7]), N = int_arg(env, argv[8]), K = int_arg(env, argv[9]);
  bool ta = false, tb = false;
  napi_get_value_bool(env, argv[10], &ta);
  napi_get_value_bool(env, argv[11], &tb);
  int64_t threads = int_arg(env, argv[12]);
  int64_t bias = argc >= 14 ? int_arg(env, argv[13]) : -1;
  if (bias >= 0 && (bias % 4 != 0 || (uint64_t)bias + 4u * (uint64_t)N > length)) {
    napi_throw_range_error(env, NULL, "gemm: the bias lies outside the heap");
    return NULL;
  }
  if (M <= 0 || N <= 0 || K <= 0 || batch <= 0 || a < 0 || b < 0 || c < 0 || sa < 0 || sb < 0 || (a | b | c) % 4 != 0) {
    napi_throw_range_error(env, NULL, "gemm: bad shape or offset");
    return NULL;
  }
  /* Every operand must lie inside the heap: a wrong offset must throw, never write elsewhere. */
  uint64_t endA = (uint64_t)a + 4u * ((uint64_t)(batch - 1) * sa + (uint64_t)M * K);
  uint64_t endB = (uint64_t)b + 4u * ((uint64_t)(batch - 1) * sb + (uint64_t)K * N);
  uint64_t endC = (uint64_t)c + 4u * ((uint64_t)batch * M * N);
  if (endA > length || endB > length || endC > length) {
    napi_throw_range_error(env, NULL, "gemm: an operand lies outside the heap");
    return NULL;
  }
  if (!p_sgemm) {
    napi_throw_error(env, NULL, "gemm: OpenBLAS is not open (call open() first)");
    return NULL;
  }
  if (threads > 0 && threads != p_get_threads()) p_set_threads((int)threads);
  float *heap = (float *)data;
  const float *A = heap + a / 4, *B = heap + b / 4;
  float *C = heap + c / 4;
  int lda = ta ? (int)M : (int)K, ldb = tb ? (int)K : (int)N;
  float beta = 0.0f;
  if (bias >= 0) {
    const float *b0 = heap + bias / 4;
    for (int64_t r = 0; r < batch * M; r++) memcpy(C + r * N, b0, (size_t)N * sizeof(float));
    beta = 1.0f;
  }
  for (int64_t i = 0; i < batch; i++) {
    p_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, A + i * sa, lda,
            B + i * sb, ldb, beta, C + i * M * N, (int)N);
  }
  return NULL;
}

/* A float32 run of n values at byte offset `off` of the heap, or NULL (and a thrown error) when outside it. */
static float *heap_run(napi_env env, void *data, size_t length, int64_t off, int64_t n) {
  if (off < 0 || n < 0 || off % 4 != 0 || (uint64_t)off + 4u * (uint64_t)n > length) {
    napi_throw_range_error(env, NULL, "gelu: an operand lies outside the heap");
    return NULL;
  }
  return (float *)((char *)data + off);
}

/*
 * erf(x) as a rational function of x (odd over even polynomial, Eigen's / TensorFlow's fast erf): max abs error
 * 7e-8 against the exact erf, and plain arithmetic, so the compiler vectorises the loops below (glibc's erff
 * does not: 5 ns a value, as slow as the five wasm kernels it replaced).
 */
static inline float erf_rational(float v) {
  float x = v < -4.0f ? -4.0f : (v > 4.0f ? 4.0f : v);
  float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return x * p / q;
}

/* The loops, built for AVX-512, AVX2 and plain x86-64 and chosen at load time by the CPU (GCC's target_clones). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CPU_CLONES
#endif

CPU_CLONES static void gelu_loop(const float *restrict x, float *restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erf_rational(x[i] * 0.70710678118654752f));
}

CPU_CLONES static void gelu_grad_loop(const float *restrict x, const float *restrict dy, float *restrict dx, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    float cdf = 0.5f * (1.0f + erf_rational(v * 0.70710678118654752f));
    float pdf = 0.39894228040143268f * expf(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

/*
 * gelu(heap, x, y, n): y = x·Φ(x) = 0.5·x·(1 + erf(x/√2)), exact (erf) GELU as PyTorch's nn.GELU().
 * geluGrad(heap, x, dy, dx, n): dx = dy·(Φ(x) + x·φ(x)). One pass over the heap instead of five wasm kernels.
 */
static napi_value gelu_common(napi_env env, napi_callback_info info, int grad) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < (size_t)(grad ? 5 : 4)) {
    napi_throw_type_error(env, NULL, "gelu: too few arguments");
    return NULL;
  }
  void *data = NULL;
  size_t length = 0;
  CHECK(napi_get_arraybuffer_info(env, argv[0], &data, &length));
  int64_t n = int_arg(env, argv[grad ? 4 : 3]);
  float *x = heap_run(env, data, length, int_arg(env, argv[1]), n);
  if (!x) return NULL;
  if (!grad) {
    float *y = heap_run(env, data, length, int_arg(env, argv[2]), n);
    if (!y) return NULL;
    gelu_loop(x, y, n);
    return NULL;
  }
  float *dy = heap_run(env, data, length, int_arg(env, argv[2]), n);
  float *dx = dy ? heap_run(env, data, length, int_arg(env, argv[3]), n) : NULL;
  if (!dx) return NULL;
  gelu_grad_loop(x, dy, dx, n);
  return NULL;
}

static napi_value gelu(napi_env env, napi_callback_info info) { return gelu_common(env, info, 0); }
static napi_value gelu_grad(napi_env env, napi_callback_info info) { return gelu_common(env, info, 1); }

/* open(coretype) → opens OpenBLAS once per process; coretype ('' for none) becomes OPENBLAS_CORETYPE unless set. */
static napi_value open_blas(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char coretype[64] = "";
  size_t len = 0;
  if (argc >= 1) napi_get_value_string_utf8(env, argv[0], coretype, sizeof coretype, &len);
  pthread_mutex_lock(&open_lock);
  if (!p_sgemm && !open_error[0]) {
    if (coretype[0]) setenv("OPENBLAS_CORETYPE", coretype, 0);
    const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
    void *lib = NULL;
    for (size_t i = 0; i < 3 && !lib; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      snprintf(open_error, sizeof open_error, "cannot open OpenBLAS: %s", dlerror());
    } else {
      p_set_threads = (void (*)(int))dlsym(lib, "openblas_set_num_threads");
      p_get_threads = (int (*)(void))dlsym(lib, "openblas_get_num_threads");
      p_corename = (char *(*)(void))dlsym(lib, "openblas_get_corename");
      p_config = (char *(*)(void))dlsym(lib, "openblas_get_config");
      sgemm_fn sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
      if (!p_set_threads || !p_get_threads || !p_corename || !p_config || !sgemm) {
        snprintf(open_error, sizeof open_error, "the library opened is not OpenBLAS (a symbol is missing)");
      } else {
        p_sgemm = sgemm;
      }
    }
  }
  pthread_mutex_unlock(&open_lock);
  if (!p_sgemm) {
    napi_throw_error(env, NULL, open_error);
    return NULL;
  }
  return NULL;
}

/* info() → { core, config, threads }: which kernel OpenBLAS chose, for the backend's description. */
static napi_value describe(napi_env env, napi_callback_info info) {
  napi_value out, v;
  if (!p_sgemm) {
    napi_throw_error(env, NULL, "info: OpenBLAS is not open");
    return NULL;
  }
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, p_corename(), NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, out, "core", v));
  CHECK(napi_create_string_utf8(env, p_config(), NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, out, "config", v));
  CHECK(napi_create_int32(env, p_get_threads(), &v));
  CHECK(napi_set_named_property(env, out, "threads", v));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, open_blas, NULL, NULL, NULL, napi_default, NULL},
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
      {"gelu", NULL, gelu, NULL, NULL, NULL, napi_default, NULL},
      {"geluGrad", NULL, gelu_grad, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, describe, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 5, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
