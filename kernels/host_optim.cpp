// The optimizer updates of optim.cuh compiled for the host: autograd_gpu.backend._host_optim.
//
// One pass over the parameter and its state, as the CUDA kernels make on a GPU, where the
// NumPy formulas (autograd_gpu/optim/_functional.py) make several (and, for float32, widen
// every product to float64 in a scratch array). The same templates as the CUDA build and the
// same scalars (computed in Python by autograd_gpu/fused/_optim.py), so the result is the
// NumPy formulas' bit for bit (tests/test_host_optim.py). Built with -ffp-contract=off (the
// compiler must not fuse a product into an addition the formulas round apart) and
// -fno-math-errno (sqrt sets no errno, so each loop vectorizes; its values are unchanged).
//
// step(kind, param, grad, b0, b1, b2, scalars, flags) updates C-contiguous float32 or
// float64 buffers of one dtype and length in place (b0..b2: the state buffers in the
// kernel's order, None where unused) and returns True; it returns False, touching nothing,
// for anything else. The loop runs without the GIL, so the host threads can split it.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define AG_FLOAT_IEEE 1  // plain float operations in kernels/ag_common.cuh (see there)

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

template <typename T>
struct Arrays {
    Py_ssize_t n;
    T* __restrict__ p;
    const T* __restrict__ g;
    T* __restrict__ b0;
    T* __restrict__ b1;
    T* __restrict__ b2;
    const double* s;
};

template <typename T>
struct Sgd : Arrays<T> {
    template <bool WD, bool MOM, bool NESTEROV, bool MAXIMIZE, bool FIRST>
    void go() {
        const T neg_lr = T(this->s[0]), mom = T(this->s[1]), omd = T(this->s[2]),
                wd = T(this->s[3]);
        T* __restrict__ p = this->p;
        const T* __restrict__ g = this->g;
        T* __restrict__ buf = this->b0;
        for (Py_ssize_t i = 0; i < this->n; i++) {
            T unused = 0;
            ag::sgd_step<T>(p[i], g[i], MOM ? buf[i] : unused, neg_lr, mom, omd, wd, WD, MOM,
                            NESTEROV, MAXIMIZE, FIRST);
        }
    }
};

template <typename T>
struct Adam : Arrays<T> {
    template <bool WD, bool DECOUPLED, bool AMSGRAD, bool MAXIMIZE>
    void go() {
        const double* s = this->s;
        const T decay = T(s[0]), wd = T(s[1]), lw = T(s[2]), beta2 = T(s[3]), omb2 = T(s[4]),
                bc2 = T(s[5]), eps = T(s[6]), nss = T(s[7]);
        T* __restrict__ p = this->p;
        const T* __restrict__ g = this->g;
        T* __restrict__ m = this->b0;
        T* __restrict__ v = this->b1;
        T* __restrict__ vmax = this->b2;
        for (Py_ssize_t i = 0; i < this->n; i++) {
            T unused = 0;
            ag::adam_step<T>(p[i], g[i], m[i], v[i], AMSGRAD ? vmax[i] : unused, decay, wd, lw,
                             beta2, omb2, bc2, eps, nss, WD, DECOUPLED, AMSGRAD, MAXIMIZE);
        }
    }
};

template <typename T>
struct Rmsprop : Arrays<T> {
    template <bool WD, bool CENTERED, bool MOM, bool MAXIMIZE>
    void go() {
        const double* s = this->s;
        const T neg_lr = T(s[0]), alpha = T(s[1]), oma = T(s[2]), eps = T(s[3]), wd = T(s[4]),
                mom = T(s[5]);
        T* __restrict__ p = this->p;
        const T* __restrict__ g = this->g;
        T* __restrict__ sq = this->b0;
        T* __restrict__ buf = this->b1;
        T* __restrict__ gavg = this->b2;
        for (Py_ssize_t i = 0; i < this->n; i++) {
            T unused_buf = 0, unused_gavg = 0;
            ag::rmsprop_step<T>(p[i], g[i], sq[i], MOM ? buf[i] : unused_buf,
                                CENTERED ? gavg[i] : unused_gavg, neg_lr, alpha, oma, eps, wd, mom,
                                WD, CENTERED, MOM, MAXIMIZE);
        }
    }
};

template <typename T>
struct Adagrad : Arrays<T> {
    template <bool WD, bool MAXIMIZE>
    void go() {
        const T neg_clr = T(this->s[0]), eps = T(this->s[1]), wd = T(this->s[2]);
        T* __restrict__ p = this->p;
        const T* __restrict__ g = this->g;
        T* __restrict__ sum = this->b0;
        for (Py_ssize_t i = 0; i < this->n; i++)
            ag::adagrad_step<T>(p[i], g[i], sum[i], neg_clr, eps, wd, WD, MAXIMIZE);
    }
};

template <typename T>
struct Adadelta : Arrays<T> {
    template <bool WD, bool MAXIMIZE>
    void go() {
        const double* s = this->s;
        const T neg_lr = T(s[0]), rho = T(s[1]), omr = T(s[2]), eps = T(s[3]), wd = T(s[4]);
        T* __restrict__ p = this->p;
        const T* __restrict__ g = this->g;
        T* __restrict__ sq = this->b0;
        T* __restrict__ acc = this->b1;
        for (Py_ssize_t i = 0; i < this->n; i++)
            ag::adadelta_step<T>(p[i], g[i], sq[i], acc[i], neg_lr, rho, omr, eps, wd, WD,
                                 MAXIMIZE);
    }
};

template <template <typename> class Step, int N, typename T>
void go(const Arrays<T>& a, const bool* f) {
    Step<T> body;
    static_cast<Arrays<T>&>(body) = a;
    Flags<N, Step<T>>::run(f, body);
}

template <typename T>
void run(int kind, const Arrays<T>& a, const bool* f) {
    switch (kind) {
    case SGD: go<Sgd, 5>(a, f); break;
    case ADAM: go<Adam, 4>(a, f); break;
    case RMSPROP: go<Rmsprop, 4>(a, f); break;
    case ADAGRAD: go<Adagrad, 2>(a, f); break;
    case ADADELTA: go<Adadelta, 2>(a, f); break;
    }
}

// the buffers each kind's step reads unconditionally (the rest may be None)
const int kRequired[] = {0, 2, 1, 1, 2};
const int kScalars[] = {4, 8, 6, 3, 5};
const int kFlags[] = {5, 4, 4, 2, 2};

PyObject* step(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "step expects 8 arguments");
        return nullptr;
    }
    int kind = (int)PyLong_AsLong(args[0]);
    if (kind == -1 && PyErr_Occurred())
        return nullptr;
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
    Py_BEGIN_ALLOW_THREADS
    if (fmt == 'f')
        run<float>(kind, Arrays<float>{n, (float*)ptr[0], (const float*)ptr[1], (float*)ptr[2],
                                       (float*)ptr[3], (float*)ptr[4], s}, f);
    else
        run<double>(kind, Arrays<double>{n, (double*)ptr[0], (const double*)ptr[1],
                                         (double*)ptr[2], (double*)ptr[3], (double*)ptr[4], s}, f);
    Py_END_ALLOW_THREADS
    Py_RETURN_TRUE;
}

PyMethodDef methods[] = {
    {"step", (PyCFunction)(void (*)(void))step, METH_FASTCALL,
     "step(kind, param, grad, b0, b1, b2, scalars, flags): one optimizer update in place "
     "(kernels/optim.cuh on the host); False when the arrays are not C-contiguous float32 or "
     "float64 buffers of one dtype and length."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_host_optim",
    "The optimizer updates of kernels/optim.cuh compiled for the host (one pass each).", -1,
    methods, nullptr, nullptr, nullptr, nullptr,
};

}  // namespace

PyMODINIT_FUNC PyInit__host_optim(void) {
    PyObject* m = PyModule_Create(&module);
    if (m == nullptr)
        return nullptr;
    const char* names[] = {"SGD", "ADAM", "RMSPROP", "ADAGRAD", "ADADELTA"};
    for (int i = 0; i < 5; i++)
        if (PyModule_AddIntConstant(m, names[i], i) < 0)
            return nullptr;
    return m;
}
