/* + - * / and negation of small host arrays, the array work of the commonest ops.
 *
 * On a few elements a NumPy ufunc call costs ~0.4 us of dispatch (scalar discovery, type
 * resolution, loop selection, FP error checks) for nanoseconds of arithmetic; an op and its
 * backward make several such calls. `arith` does the work itself where that is exactly what
 * NumPy computes: C-contiguous, aligned, native float32 or float64 operands of one dtype and
 * one shape, or an array and a Python number (NumPy 2's rule: the number takes the array's
 * type). Each of these is one IEEE operation per element, so the bits are NumPy's.
 * Floating-point exceptions (overflow, division by zero, invalid, underflow) send the call
 * to NumPy instead, whose np.errstate then warns or raises as it would have. Everything
 * else is NumPy's own call (broadcasting, other dtypes, ...), and an operand of host_pool's
 * size and up, whatever its layout, is declined (NotImplemented): the execution layer's
 * Python path takes those (backend/execute.py: pooled results, host threads).
 *
 * The same goes for the whole-array sum and mean and for the gradient they send back (an
 * array of one value): `reduce_all` calls NumPy's add.reduce (its pairwise summation is
 * NumPy's to define) without the Python-level call around it and divides as Mean.forward
 * does; `fill` makes the array.
 *
 * C callers (the tape, autograd/_tape.c) take these from the capsule `api_c` (a struct
 * host_api, below); Python has them as `arith(op, a, b)`, `reduce_all(mean, x)` and
 * `fill(shape, g, n)` (the tests call all three; execute.spread calls fill). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/arrayscalars.h>
#include <fenv.h>
#include <float.h>
#include <math.h>

enum { OP_ADD = 1, OP_SUB, OP_MUL, OP_DIV, OP_NEG };

static Py_ssize_t max_bytes = 1 << 20;  /* set_max_bytes: host_pool.POOL_MIN_BYTES */

#define FP_RAISED (FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID | FE_UNDERFLOW)

/* the loops: x op y elementwise, y one value (ys) or an array */
#define LOOPS(T, NAME)                                                                     \
    static void NAME(int op, T *out, const T *x, const T *y, T ys, npy_intp n)             \
    {                                                                                      \
        npy_intp i;                                                                        \
        if (y == NULL) {                                                                   \
            switch (op) {                                                                  \
            case OP_ADD: for (i = 0; i < n; i++) out[i] = x[i] + ys; break;               \
            case OP_SUB: for (i = 0; i < n; i++) out[i] = x[i] - ys; break;               \
            case OP_MUL: for (i = 0; i < n; i++) out[i] = x[i] * ys; break;               \
            case OP_DIV: for (i = 0; i < n; i++) out[i] = x[i] / ys; break;               \
            default: for (i = 0; i < n; i++) out[i] = -x[i];                               \
            }                                                                              \
            return;                                                                        \
        }                                                                                  \
        switch (op) {                                                                      \
        case OP_ADD: for (i = 0; i < n; i++) out[i] = x[i] + y[i]; break;                 \
        case OP_SUB: for (i = 0; i < n; i++) out[i] = x[i] - y[i]; break;                 \
        case OP_MUL: for (i = 0; i < n; i++) out[i] = x[i] * y[i]; break;                 \
        default: for (i = 0; i < n; i++) out[i] = x[i] / y[i];                            \
        }                                                                                  \
    }
LOOPS(float, loop_float)
LOOPS(double, loop_double)

/* 1 if `a` is an array these loops take (its type number in *type), 0 if not */
static int
plain(PyObject *a, int *type)
{
    if (Py_TYPE(a) != &PyArray_Type)
        return 0;
    PyArrayObject *arr = (PyArrayObject *)a;
    int t = PyArray_TYPE(arr);
    if ((t != NPY_FLOAT && t != NPY_DOUBLE) || !PyArray_ISCARRAY_RO(arr) ||
        !PyArray_ISNOTSWAPPED(arr))
        return 0;
    *type = t;
    return 1;
}

/* A Python float or a small Python int as a double that converts exactly the way NumPy
 * converts it to the array's type (ints up to 2**24 in magnitude: exact in float32);
 * 0 where the number is something else. */
static int
plain_number(PyObject *s, int type, double *v)
{
    if (PyFloat_CheckExact(s)) {
        *v = PyFloat_AS_DOUBLE(s);
        /* (a finite double beyond float32's range: NumPy's cast warns; let it) */
        return type == NPY_DOUBLE || !isfinite(*v) || fabs(*v) <= FLT_MAX;
    }
    if (PyLong_CheckExact(s)) {
        int overflow;
        long long i = PyLong_AsLongLongAndOverflow(s, &overflow);
        if (overflow || (i == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return 0;
        }
        if (i > (1LL << 24) || i < -(1LL << 24))
            return 0;
        *v = (double)i;
        return 1;
    }
    return 0;
}

/* NumPy's own a op b, a NumPy scalar result (from 0-d operands) made a 0-d array */
static PyObject *
numpy_call(int op, PyObject *a, PyObject *b)
{
    PyObject *r;
    switch (op) {
    case OP_ADD: r = PyNumber_Add(a, b); break;
    case OP_SUB: r = PyNumber_Subtract(a, b); break;
    case OP_MUL: r = PyNumber_Multiply(a, b); break;
    case OP_DIV: r = PyNumber_TrueDivide(a, b); break;
    default: r = PyNumber_Negative(a);
    }
    if (r != NULL && PyArray_IsScalar(r, Generic)) {
        PyObject *arr = PyArray_FromScalar(r, NULL);
        Py_DECREF(r);
        r = arr;
    }
    return r;
}

/* a op b (OP_NEG: -a, b unused) for a NumPy array `a` and an array or Python number `b`:
 * a new array (0-d operands give a 0-d array, not NumPy's scalar), NULL with NumPy's error,
 * or NotImplemented where the execution layer's Python path takes it (large arrays). */
static PyObject *
arith(int op, PyObject *a, PyObject *b)
{
    if ((PyArray_Check(a) && PyArray_NBYTES((PyArrayObject *)a) >= max_bytes) ||
        (op != OP_NEG && PyArray_Check(b) && PyArray_NBYTES((PyArrayObject *)b) >= max_bytes))
        Py_RETURN_NOTIMPLEMENTED;
    int ta = 0, tb = 0;
    if (!plain(a, &ta))
        return numpy_call(op, a, b);
    PyArrayObject *x = (PyArrayObject *)a, *y = NULL;
    double ys = 0.0;
    if (op != OP_NEG) {
        if (plain(b, &tb)) {
            y = (PyArrayObject *)b;
            if (tb != ta || PyArray_NDIM(y) != PyArray_NDIM(x) ||
                !PyArray_CompareLists(PyArray_DIMS(x), PyArray_DIMS(y), PyArray_NDIM(x)))
                return numpy_call(op, a, b);
        }
        else if (!plain_number(b, ta, &ys)) {
            return numpy_call(op, a, b);
        }
    }
    PyObject *out = PyArray_SimpleNew(PyArray_NDIM(x), PyArray_DIMS(x), ta);
    if (out == NULL)
        return NULL;
    npy_intp n = PyArray_SIZE(x);
    feclearexcept(FP_RAISED);
    if (ta == NPY_FLOAT)
        loop_float(op, PyArray_DATA((PyArrayObject *)out), PyArray_DATA(x),
                   y ? PyArray_DATA(y) : NULL, (float)ys, n);
    else
        loop_double(op, PyArray_DATA((PyArrayObject *)out), PyArray_DATA(x),
                    y ? PyArray_DATA(y) : NULL, ys, n);
    if (fetestexcept(FP_RAISED)) {  /* NumPy warns or raises per np.errstate: its call */
        Py_DECREF(out);
        return numpy_call(op, a, b);
    }
    return out;
}

/* ---------------------------------------------------------------- sum, mean, fill */

static PyObject *add_reduce;  /* numpy.add.reduce */

/* The 0-d array of one float32/float64 value */
static PyObject *
scalar_array(int type, double v)
{
    PyObject *out = PyArray_SimpleNew(0, NULL, type);
    if (out == NULL)
        return NULL;
    if (type == NPY_FLOAT)
        *(float *)PyArray_DATA((PyArrayObject *)out) = (float)v;
    else
        *(double *)PyArray_DATA((PyArrayObject *)out) = v;
    return out;
}

/* The sum of every element of `x` as NumPy's add.reduce(x, None) computes it, as a 0-d
 * array; with `mean`, that sum divided by the count as Mean.forward does (a NumPy scalar
 * over a Python int: the int in the array's type, one IEEE division). NotImplemented for
 * anything but a plain non-empty array under max_bytes (the ops' Python code takes it). */
static PyObject *
reduce_all(int mean, PyObject *x)
{
    int type;
    if (!plain(x, &type) || PyArray_NBYTES((PyArrayObject *)x) >= max_bytes ||
        PyArray_SIZE((PyArrayObject *)x) == 0)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *args[2] = {x, Py_None};
    PyObject *r = PyObject_Vectorcall(add_reduce, args, 2, NULL);
    if (r == NULL)
        return NULL;
    double v;
    if (PyArray_IsScalar(r, Float))
        v = PyArrayScalar_VAL(r, Float);
    else if (PyArray_IsScalar(r, Double))
        v = PyArrayScalar_VAL(r, Double);
    else {  /* (not a float scalar: NumPy's own answer, as an array) */
        PyObject *arr = PyArray_FROM_O(r);
        Py_DECREF(r);
        return arr;
    }
    Py_DECREF(r);
    if (mean) {
        npy_intp n = PyArray_SIZE((PyArrayObject *)x);  /* (< 2**24: exact in float32) */
        v = type == NPY_FLOAT ? (double)((float)v / (float)n) : v / (double)n;
    }
    return scalar_array(type, v);
}

/* A new array of `shape` (a tuple), every element the value of `g` (a 0-d float32/float64
 * array or NumPy scalar), divided by `n` unless n is 1 as _expand_grad does (in double, then
 * rounded to g's type). NotImplemented for other g, or a result of max_bytes and up. */
static PyObject *
fill(PyObject *shape, PyObject *g, Py_ssize_t n)
{
    int type;
    double v;
    if (Py_TYPE(g) == &PyArray_Type && PyArray_NDIM((PyArrayObject *)g) == 0 &&
        plain(g, &type))
        v = type == NPY_FLOAT ? *(float *)PyArray_DATA((PyArrayObject *)g)
                              : *(double *)PyArray_DATA((PyArrayObject *)g);
    else if (PyArray_IsScalar(g, Float) && (type = NPY_FLOAT))
        v = PyArrayScalar_VAL(g, Float);
    else if (PyArray_IsScalar(g, Double) && (type = NPY_DOUBLE))
        v = PyArrayScalar_VAL(g, Double);
    else
        Py_RETURN_NOTIMPLEMENTED;
    if (!PyTuple_CheckExact(shape) || PyTuple_GET_SIZE(shape) > NPY_MAXDIMS || n < 1)
        Py_RETURN_NOTIMPLEMENTED;
    npy_intp dims[NPY_MAXDIMS], size = 1;
    int nd = (int)PyTuple_GET_SIZE(shape);
    for (int i = 0; i < nd; i++) {
        dims[i] = PyLong_AsSsize_t(PyTuple_GET_ITEM(shape, i));
        if (dims[i] < 0) {
            if (PyErr_Occurred())
                return NULL;
            Py_RETURN_NOTIMPLEMENTED;
        }
        size *= dims[i];
        if (size * (type == NPY_FLOAT ? 4 : 8) >= max_bytes)
            Py_RETURN_NOTIMPLEMENTED;
    }
    if (n != 1)
        v = v / (double)n;
    PyObject *out = PyArray_SimpleNew(nd, dims, type);
    if (out == NULL)
        return NULL;
    if (type == NPY_FLOAT) {
        float f = (float)v, *o = PyArray_DATA((PyArrayObject *)out);
        for (npy_intp i = 0; i < size; i++)
            o[i] = f;
    }
    else {
        double *o = PyArray_DATA((PyArrayObject *)out);
        for (npy_intp i = 0; i < size; i++)
            o[i] = v;
    }
    return out;
}

/* ---------------------------------------------------------------- the module */

static PyObject *
py_reduce_all(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "reduce_all(mean, x)");
        return NULL;
    }
    int mean = PyObject_IsTrue(args[0]);
    return mean < 0 ? NULL : reduce_all(mean, args[1]);
}

static PyObject *
py_fill(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "fill(shape, g, n)");
        return NULL;
    }
    Py_ssize_t n = PyLong_AsSsize_t(args[2]);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    return fill(args[0], args[1], n);
}

static PyObject *
py_arith(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "arith(op, a, b)");
        return NULL;
    }
    long op = PyLong_AsLong(args[0]);
    if (op == -1 && PyErr_Occurred())
        return NULL;
    if (op < OP_ADD || op > OP_NEG) {
        PyErr_SetString(PyExc_ValueError, "arith: op is 1 (+), 2 (-), 3 (*), 4 (/) or 5 (neg)");
        return NULL;
    }
    return arith((int)op, args[1], args[2]);
}

static PyObject *
py_set_max_bytes(PyObject *mod, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    max_bytes = n;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"arith", (PyCFunction)(void (*)(void))py_arith, METH_FASTCALL,
     "arith(op, a, b): a op b for op 1 (+), 2 (-), 3 (*), 4 (/), 5 (-a); NotImplemented for "
     "arrays the execution layer's Python path takes."},
    {"reduce_all", (PyCFunction)(void (*)(void))py_reduce_all, METH_FASTCALL,
     "reduce_all(mean, x): the sum (or mean) of every element as a 0-d array, NumPy's bits; "
     "NotImplemented where the ops' Python code takes it."},
    {"fill", (PyCFunction)(void (*)(void))py_fill, METH_FASTCALL,
     "fill(shape, g, n): a new array of shape, every element g (/ n unless n is 1)."},
    {"set_max_bytes", (PyCFunction)py_set_max_bytes, METH_O,
     "set_max_bytes(n): arrays of n bytes and up are declined (the host pool's size)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_host_arith",
    "+ - * / and negation of small host arrays (see the source's comment).", -1, methods,
};

/* what the capsule api_c holds (autograd/_tape.c declares the same struct) */
typedef struct {
    PyObject *(*arith)(int op, PyObject *a, PyObject *b);
    PyObject *(*reduce_all)(int mean, PyObject *x);
    PyObject *(*fill)(PyObject *shape, PyObject *g, Py_ssize_t n);
} host_api;

PyMODINIT_FUNC
PyInit__host_arith(void)
{
    import_array();
    PyObject *numpy = PyImport_ImportModule("numpy");
    PyObject *add = numpy ? PyObject_GetAttrString(numpy, "add") : NULL;
    Py_XDECREF(numpy);
    add_reduce = add ? PyObject_GetAttrString(add, "reduce") : NULL;
    Py_XDECREF(add);
    if (add_reduce == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    static host_api api = {arith, reduce_all, fill};
    PyObject *cap = PyCapsule_New((void *)&api, "autograd_gpu.backend._host_arith.api_c", NULL);
    if (cap == NULL || PyModule_AddObject(m, "api_c", cap) < 0) {
        Py_XDECREF(cap);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
