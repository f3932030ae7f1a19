/*
 * MedTune's native matrix product: OpenBLAS's sgemm on float32 operands that live in the wasm backend's
 * heap (an ArrayBuffer passed with byte offsets), so tfjs-backend-wasm's BatchMatMul runs at the speed of
 * the machine's BLAS without copying a tensor. Loaded by core/model/native-blas.ts when it was built
 * (`npm run build:native`, needs libopenblas-dev); everything works without it.
 */
#include <dlfcn.h>
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
 * gemm(heap, aByte, bByte, cByte, batch, strideA, strideB, M, N, K, transA, transB, threads)
 * For i < batch: C_i[M×N] = op(A_i) · op(B_i), row-major; A_i at aByte + i·strideA floats, B_i likewise,
 * C_i at cByte + i·M·N floats. op(A) is A[M×K], or A stored [K×M] when transA; op(B) is B[K×N], or B stored
 * [N×K] when transB. A stride of 0 shares one operand across the batch. threads > 0 sets OpenBLAS's count.
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
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
  for (int64_t i = 0; i < batch; i++) {
    p_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, A + i * sa, lda,
                B + i * sb, ldb, 0.0f, C + i * M * N, (int)N);
  }
  return NULL;
}

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
      {"info", NULL, describe, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
