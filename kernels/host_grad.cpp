// The backward formulas of elementwise_grad.cuh that are pure arithmetic, compiled for the
// host: autograd_gpu.backend._host_grad.
//
// Each such formula (``g * (1 - y * y)`` for tanh) is a few NumPy passes on the host, each
// over the whole array; here it is one loop, which reads its inputs and writes its result
// once, split across the host threads (backend/_host_arith.c's). Every operation is one
// IEEE + - * / or a comparison, in the formula's order (the templates mirror the NumPy
// formulas of autograd_gpu/ops/elementwise.py), so the result is NumPy's bit for bit
// (tests/test_host_grad.py). Built with -ffp-contract=off: the compiler must not fuse a
// product into an addition the formulas round apart.
//
// run(code, v, g, scalars) computes formula `code` (FORMULAS maps the formula names to
// codes) for C-contiguous float32 or float64 arrays v and g of one dtype and shape, the
// scalars Python floats or ints (exact in the dtype): a new array. NotImplemented, having
// computed nothing, for any other operands, and where the loop raised a floating-point
// exception (the NumPy formula then runs, and warns or raises per np.errstate).
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#define AG_FLOAT_IEEE 1  // plain float operations in kernels/ag_common.cuh (see there)

#include "elementwise_grad.cuh"
#include "host_api.h"

namespace {

enum Code { RELU, LEAKY_RELU, SIGMOID, TANH, EXP, LOG, SQRT, ABS, N_CODES };
const char* const kNames[N_CODES] = {
    "relu_backward", "leaky_relu_backward", "sigmoid_backward", "tanh_backward",
    "exp_backward", "log_backward", "sqrt_backward", "abs_backward"};
const int kScalars[N_CODES] = {0, 1, 0, 0, 0, 0, 0, 0};

template <typename T>
void loop(int code, npy_intp n, const T* v, const T* g, T* out, T s0) {
    switch (code) {
    case RELU: for (npy_intp i = 0; i < n; i++) out[i] = ag::relu_grad<T>(v[i], g[i]); break;
    case LEAKY_RELU:
        for (npy_intp i = 0; i < n; i++) out[i] = ag::leaky_relu_grad<T>(v[i], g[i], s0);
        break;
    case SIGMOID: for (npy_intp i = 0; i < n; i++) out[i] = ag::sigmoid_grad<T>(v[i], g[i]); break;
    case TANH: for (npy_intp i = 0; i < n; i++) out[i] = ag::tanh_grad<T>(v[i], g[i]); break;
    case EXP: for (npy_intp i = 0; i < n; i++) out[i] = ag::exp_grad<T>(v[i], g[i]); break;
    case LOG: for (npy_intp i = 0; i < n; i++) out[i] = ag::log_grad<T>(v[i], g[i]); break;
    case SQRT: for (npy_intp i = 0; i < n; i++) out[i] = ag::sqrt_grad<T>(v[i], g[i]); break;
    default: for (npy_intp i = 0; i < n; i++) out[i] = ag::abs_grad<T>(v[i], g[i]);
    }
}

struct Job {
    int code, type;
    const char *v, *g;
    char* out;
    double s0;
};

void run_range(void* ctx, npy_intp lo, npy_intp hi) {
    const Job& j = *(const Job*)ctx;
    if (j.type == NPY_FLOAT)
        loop<float>(j.code, hi - lo, (const float*)j.v + lo, (const float*)j.g + lo,
                    (float*)j.out + lo, (float)j.s0);
    else
        loop<double>(j.code, hi - lo, (const double*)j.v + lo, (const double*)j.g + lo,
                     (double*)j.out + lo, j.s0);
}

using ag_host::HostApi;
const HostApi* host = nullptr;  // (kernels/host_api.h)

PyObject* run(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "run(code, v, g, scalars)");
        return nullptr;
    }
    long code = PyLong_AsLong(args[0]);
    if (code == -1 && PyErr_Occurred())
        return nullptr;
    if (code < 0 || code >= N_CODES) {
        PyErr_SetString(PyExc_ValueError, "run: unknown formula code");
        return nullptr;
    }
    PyObject *v = args[1], *g = args[2], *scalars = args[3];
    int tv, tg;
    if (!host->plain(v, &tv) || !host->plain(g, &tg) || tv != tg || !PyTuple_Check(scalars) ||
        PyTuple_GET_SIZE(scalars) != kScalars[code])
        Py_RETURN_NOTIMPLEMENTED;
    PyArrayObject *av = (PyArrayObject*)v, *ag_ = (PyArrayObject*)g;
    int nd = PyArray_NDIM(av);
    if (nd == 0 || nd != PyArray_NDIM(ag_) ||
        !PyArray_CompareLists(PyArray_DIMS(av), PyArray_DIMS(ag_), nd))
        Py_RETURN_NOTIMPLEMENTED;
    Job job = {(int)code, tv, (const char*)PyArray_DATA(av), (const char*)PyArray_DATA(ag_),
               nullptr, 0.0};
    if (kScalars[code] && !host->plain_number(PyTuple_GET_ITEM(scalars, 0), tv, &job.s0))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject* out = PyArray_SimpleNew(nd, PyArray_DIMS(av), tv);
    if (out == nullptr)
        return nullptr;
    job.out = (char*)PyArray_DATA((PyArrayObject*)out);
    int raised = host->elementwise(run_range, &job, PyArray_SIZE(av), (int)PyArray_ITEMSIZE(av));
    if (raised) {
        Py_DECREF(out);
        Py_RETURN_NOTIMPLEMENTED;
    }
    return out;
}

PyMethodDef methods[] = {
    {"run", (PyCFunction)(void (*)(void))run, METH_FASTCALL,
     "run(code, v, g, scalars): backward formula `code` (see FORMULAS) of C-contiguous float "
     "arrays v and g of one dtype and shape, one pass split across the host threads; "
     "NotImplemented for other operands or where a floating-point exception was raised."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_host_grad",
    "The arithmetic backward formulas of kernels/elementwise_grad.cuh compiled for the host.",
    -1, methods, nullptr, nullptr, nullptr, nullptr,
};

}  // namespace

PyMODINIT_FUNC PyInit__host_grad(void) {
    if (_import_array() < 0)
        return nullptr;
    host = ag_host::import_host_api();
    if (host == nullptr)
        return nullptr;
    PyObject* m = PyModule_Create(&module);
    if (m == nullptr)
        return nullptr;
    PyObject* codes = PyDict_New();
    if (codes == nullptr || PyModule_AddObject(m, "FORMULAS", codes) < 0) {
        Py_XDECREF(codes);
        Py_DECREF(m);
        return nullptr;
    }
    for (int i = 0; i < N_CODES; i++) {
        PyObject* c = PyLong_FromLong(i);
        if (c == nullptr || PyDict_SetItemString(codes, kNames[i], c) < 0) {
            Py_XDECREF(c);
            Py_DECREF(m);
            return nullptr;
        }
        Py_DECREF(c);
    }
    return m;
}
