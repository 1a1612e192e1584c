// The optimizer updates of optim.cuh compiled for the host: autograd_gpu.backend._host_optim.
//
// One pass over the parameter and its state, as the CUDA kernels make on a GPU, where the
// NumPy formulas (autograd_gpu/optim/_functional.py) make several (and, for float32,
// compute every fused multiply-add in float64 scratch arrays). The same templates as the
// CUDA build and the same scalars (computed in Python by autograd_gpu/fused/_optim.py), so
// the result is the NumPy formulas' bit for bit (tests/test_host_optim.py). Built with
// -ffp-contract=off (the compiler must not fuse a product into an addition the formulas
// round apart) and -fno-math-errno (sqrt sets no errno, so each loop vectorizes; its values
// are unchanged).
//
// step(kind, param, grad, b0, b1, b2, scalars, flags, parts) updates C-contiguous float32
// or float64 buffers of one dtype and length in place (b0..b2: the state buffers in the
// kernel's order, None where unused) and returns True; it returns False, touching nothing,
// for anything else. The loop runs without the GIL, split into `parts` contiguous ranges
// run at once by the calling thread and the host threads (backend/_host_arith.c's).
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define AG_FLOAT_IEEE 1  // plain float operations in kernels/ag_common.cuh (see there)

#include "host_api.h"
#include "optim.cuh"

namespace {

enum Kind { SGD, ADAM, RMSPROP, ADAGRAD, ADADELTA };

struct Buffers {
    Py_buffer view[5];
    int held = 0;
    ~Buffers() {
        for (int i = 0; i < held; i++)
            PyBuffer_Release(&view[i]);
    }
};

// Flags<N, Body>::run(f, body) calls body.go<f[0], ..., f[N-1]>(): every flag a constant
// in the loop, so the compiler drops the branches and vectorizes each variant.
template <int N, typename Body, bool... Bs>
struct Flags {
    static void run(const bool* f, Body& body) {
        if (f[sizeof...(Bs)])
            Flags<N - 1, Body, Bs..., true>::run(f, body);
        else
            Flags<N - 1, Body, Bs..., false>::run(f, body);
    }
};
template <typename Body, bool... Bs>
struct Flags<0, Body, Bs...> {
    static void run(const bool*, Body& body) { body.template go<Bs...>(); }
};

// The loops, twice: for the x86-64 baseline (SSE2: two doubles a vector) and, with GCC on
// x86-64, for AVX2 with FMA (eight floats), which step() takes when the CPU has both. The
// float32 multiply-adds are correctly rounded in either: the baseline computes them in
// double, rounded to odd (optim.cuh's fmadd), the AVX2 copy with the FMA instruction, which
// rounds once: the same bits, and one instruction where the other takes some twenty. Every
// other product still rounds on its own in both (-ffp-contract=off: the compiler fuses
// nothing by itself).
namespace baseline {
using Fma = ag::Fmadd;
#include "host_optim_steps.inc"
}  // namespace baseline
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AG_HOST_AVX2 1
namespace avx2 {
// The FMA instruction for float. Defined outside the AVX2 target, as optim.cuh's steps are
// (a function compiled for AVX2 cannot be inlined into them); inlined through them into the
// AVX2 loops, __builtin_fmaf is compiled there, to vfmadd, vectorized.
struct Fma {
    AG_FN static float fmadd(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
    AG_FN static double fmadd(double a, double b, double c) { return ag::fmadd(a, b, c); }
};
}  // namespace avx2
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#include "host_optim_steps.inc"
}  // namespace avx2
#pragma GCC pop_options
#endif

template <typename T, template <typename> class Arrays>
Arrays<T> arrays_of(Py_ssize_t n, void* const* ptr, const double* s) {
    return Arrays<T>{n, (T*)ptr[0], (const T*)ptr[1], (T*)ptr[2], (T*)ptr[3], (T*)ptr[4], s};
}

#if defined(AG_HOST_AVX2)
bool avx2_fma() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
bool use_avx2 = avx2_fma();  // (set_avx2: the tests compare both builds)
#else
bool use_avx2 = false;
#endif

template <typename T>
void run_best(int kind, Py_ssize_t n, void* const* ptr, const double* s, const bool* f) {
#if defined(AG_HOST_AVX2)
    if (use_avx2) {
        avx2::run<T>(kind, arrays_of<T, avx2::Arrays>(n, ptr, s), f);
        return;
    }
#endif
    baseline::run<T>(kind, arrays_of<T, baseline::Arrays>(n, ptr, s), f);
}

// One step's work: the buffers at ptr, a range of which run_range updates.
struct Job {
    int kind;
    char fmt;
    void* ptr[5];
    const double* s;
    const bool* f;
};

void run_range(void* ctx, Py_ssize_t lo, Py_ssize_t hi) {
    const Job& j = *(const Job*)ctx;
    size_t size = j.fmt == 'f' ? sizeof(float) : sizeof(double);
    void* ptr[5];
    for (int i = 0; i < 5; i++)
        ptr[i] = j.ptr[i] ? (char*)j.ptr[i] + lo * size : nullptr;
    if (j.fmt == 'f')
        run_best<float>(j.kind, hi - lo, ptr, j.s, j.f);
    else
        run_best<double>(j.kind, hi - lo, ptr, j.s, j.f);
}

using ag_host::HostApi;
const HostApi* host = nullptr;  // (kernels/host_api.h)

// the buffers each kind's step reads unconditionally (the rest may be None)
const int kRequired[] = {0, 2, 1, 1, 2};
const int kScalars[] = {4, 8, 6, 3, 5};
const int kFlags[] = {5, 4, 4, 2, 2};

PyObject* step(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "step expects 9 arguments");
        return nullptr;
    }
    int kind = (int)PyLong_AsLong(args[0]);
    if (kind == -1 && PyErr_Occurred())
        return nullptr;
    long parts = PyLong_AsLong(args[8]);
    if (parts == -1 && PyErr_Occurred())
        return nullptr;
    if (parts < 1 || parts > 1024) {
        PyErr_SetString(PyExc_ValueError, "step: parts must be from 1 to 1024");
        return nullptr;
    }
    PyObject *param = args[1], *grad = args[2], *b[3] = {args[3], args[4], args[5]};
    PyObject *scalars = args[6], *flags = args[7];
    if (kind < SGD || kind > ADADELTA) {
        PyErr_SetString(PyExc_ValueError, "step: unknown optimizer kind");
        return nullptr;
    }
    double s[8];
    bool f[5];
    if (!PyTuple_Check(scalars) || PyTuple_GET_SIZE(scalars) != kScalars[kind] ||
        !PyTuple_Check(flags) || PyTuple_GET_SIZE(flags) != kFlags[kind]) {
        PyErr_SetString(PyExc_ValueError, "step: wrong number of scalars or flags");
        return nullptr;
    }
    for (int i = 0; i < kScalars[kind]; i++) {
        s[i] = PyFloat_AsDouble(PyTuple_GET_ITEM(scalars, i));
        if (s[i] == -1.0 && PyErr_Occurred())
            return nullptr;
    }
    for (int i = 0; i < kFlags[kind]; i++) {
        int t = PyObject_IsTrue(PyTuple_GET_ITEM(flags, i));
        if (t < 0)
            return nullptr;
        f[i] = t != 0;
    }
    Buffers held;
    PyObject* objs[5] = {param, grad, b[0], b[1], b[2]};
    void* ptr[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
    char fmt = 0;
    Py_ssize_t n = -1;
    for (int i = 0; i < 5; i++) {
        if (objs[i] == Py_None) {
            if (i < 2 || i - 2 < kRequired[kind])
                Py_RETURN_FALSE;
            continue;
        }
        int want = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (i == 1 ? 0 : PyBUF_WRITABLE);
        if (PyObject_GetBuffer(objs[i], &held.view[held.held], want) < 0) {
            PyErr_Clear();  // (not a contiguous, writable buffer: the NumPy formulas run)
            Py_RETURN_FALSE;
        }
        Py_buffer& v = held.view[held.held++];
        const char* vf = v.format ? v.format : "B";
        if (*vf == '<' || *vf == '=' || *vf == '@')
            vf++;
        char c = (vf[0] && !vf[1]) ? vf[0] : 0;
        Py_ssize_t len = v.itemsize ? v.len / v.itemsize : -1;
        if ((c != 'f' || v.itemsize != 4) && (c != 'd' || v.itemsize != 8))
            Py_RETURN_FALSE;
        if (fmt == 0) {
            fmt = c;
            n = len;
        } else if (c != fmt || len != n) {
            Py_RETURN_FALSE;
        }
        ptr[i] = v.buf;
    }
    // a flag's buffer must be there when the flag is on (the caller passes both)
    if ((kind == SGD && f[1] && !ptr[2]) || (kind == ADAM && f[2] && !ptr[4]) ||
        (kind == RMSPROP && ((f[1] && !ptr[4]) || (f[2] && !ptr[3]))))
        Py_RETURN_FALSE;
    Job job;
    job.kind = kind;
    job.fmt = fmt;
    for (int i = 0; i < 5; i++)
        job.ptr[i] = ptr[i];
    job.s = s;
    job.f = f;
    if (n == 0)
        Py_RETURN_TRUE;  // (nothing to update)
    // parts of whole cache lines (64 bytes), so that every part starts as aligned as the
    // buffers do and the vector loops see the same runs
    Py_ssize_t line = 64 / (fmt == 'f' ? sizeof(float) : sizeof(double));
    Py_BEGIN_ALLOW_THREADS
    host->parallel(run_range, &job, n, line, (int)parts);
    Py_END_ALLOW_THREADS
    Py_RETURN_TRUE;
}

// set_avx2(on): whether step() runs the AVX2 build (where the CPU, with FMA, and the
// compiler have one); returns whether it did before. For the tests, which check that both
// give the same bits.
PyObject* set_avx2(PyObject*, PyObject* on) {
    int t = PyObject_IsTrue(on);
    if (t < 0)
        return nullptr;
    bool before = use_avx2;
#if defined(AG_HOST_AVX2)
    use_avx2 = t && avx2_fma();
#endif
    return PyBool_FromLong(before);
}

PyMethodDef methods[] = {
    {"set_avx2", (PyCFunction)set_avx2, METH_O,
     "set_avx2(on): run the AVX2 (with FMA) build of the loops (where there is one); returns the "
     "old setting."},
    {"step", (PyCFunction)(void (*)(void))step, METH_FASTCALL,
     "step(kind, param, grad, b0, b1, b2, scalars, flags, parts): one optimizer update in "
     "place (kernels/optim.cuh on the host), split into `parts` ranges run at once on the "
     "module's threads; False when the arrays are not C-contiguous float32 or float64 "
     "buffers of one dtype and length."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_host_optim",
    "The optimizer updates of kernels/optim.cuh compiled for the host (one pass each).", -1,
    methods, nullptr, nullptr, nullptr, nullptr,
};

}  // namespace

PyMODINIT_FUNC PyInit__host_optim(void) {
    host = ag_host::import_host_api();
    if (host == nullptr)
        return nullptr;
    PyObject* m = PyModule_Create(&module);
    if (m == nullptr)
        return nullptr;
    const char* names[] = {"SGD", "ADAM", "RMSPROP", "ADAGRAD", "ADADELTA"};
    for (int i = 0; i < 5; i++)
        if (PyModule_AddIntConstant(m, names[i], i) < 0)
            return nullptr;
    return m;
}
