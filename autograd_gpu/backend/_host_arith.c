/* + - * / and negation of host arrays, the array work of the commonest ops; NumPy's unary
 * loops; and the host threads that split large arrays of both.
 *
 * On a few elements a NumPy ufunc call costs ~0.4 us of dispatch (scalar discovery, type
 * resolution, loop selection, FP error checks) for nanoseconds of arithmetic; an op and its
 * backward make several such calls. `arith` does the work itself where that is exactly what
 * NumPy computes: C-contiguous, aligned, native float32 or float64 operands of one dtype and
 * one shape, or an array and a Python number (NumPy 2's rule: the number takes the array's
 * type). Each of these is one IEEE operation per element, so the bits are NumPy's.
 * Floating-point exceptions (overflow, division by zero, invalid, underflow) send the call
 * to NumPy instead, whose np.errstate then warns or raises as it would have. Everything
 * else is NumPy's own call (broadcasting, other dtypes, ...). One value spread by zero
 * strides (a sum's gradient) counts as a number. Large arrays are split across the host
 * threads (below), each part the same loop on its range: the same bits.
 *
 * The same goes for the whole-array sum and mean and for the gradient they send back (an
 * array of one value): `reduce_all` makes the additions of NumPy's pairwise summation, in
 * its order (large arrays split at the top of its tree across the host threads), and
 * divides as Mean.forward does; `fill` makes the array.
 *
 * C callers (the tape, autograd/_tape.c) take these from the capsule `api_c` (a struct
 * host_api, below); Python has them as `arith(op, a, b)`, `reduce_all(mean, x)` and
 * `fill(shape, g, n)` (the tests call all three; execute.spread calls fill), with
 * `ufunc(f, x)` (execute.unary), `add_into(x, g)` and `set_threads(n, min_part)`
 * (host_threads), and `chain(x, steps, ignore)` (execute.unary_chain). The host kernels of
 * the optimizers and the backward formulas (kernels/host_optim.cpp, host_grad.cpp) take the
 * threads from the capsule too. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/arrayscalars.h>
#include <numpy/ufuncobject.h>
#include <fenv.h>
#include <float.h>
#include <math.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

enum { OP_ADD = 1, OP_SUB, OP_MUL, OP_DIV, OP_NEG };

/* ---------------------------------------------------------------- the host threads
 *
 * host_parallel(fn, ctx, n, align, parts) calls fn(ctx, lo, hi) on `parts` contiguous
 * ranges covering [0, n) at once: the first on the calling thread, the others on this
 * module's threads, without the GIL (fn must not touch Python). One slot per thread, each
 * with its own job ticket, so that a call wakes only the threads it uses. A thread that has
 * run a part spins on its ticket for SPIN_NS before it sleeps: an expression's ops come one
 * after another, and a thread still awake takes the next part within a microsecond. The spin
 * is short because a spinning thread holds its core: BLAS (OpenBLAS's own threads) and
 * anything else the program runs between two split calls gets one core less while it lasts.
 * Measured on the 2-core benchmark machine, the seed two-layer net's Adam step took 1.85 to
 * 2.4 ms with a 1 ms spin (its matmuls on two OpenBLAS threads) against 0.53 to 0.64 ms with
 * none or 20 us, while the elementwise chain over 1e5 and 1e6 float32 elements, every pass in
 * C, was as fast with 20 us as with 1 ms. The threads live as long as the process; a forked child
 * starts with none (the parent's are not in it). Each part's floating-point exception flags
 * are collected: the call returns their union (FE_* bits), as one thread's flags would be. */

#define MAX_THREADS 256
#define SPIN_NS 20000

typedef void (*part_fn)(void *ctx, npy_intp lo, npy_intp hi);

typedef struct {
    part_fn fn;
    void *ctx;
    npy_intp n, chunk;
    atomic_int pending;  /* parts not yet done by the pool's threads */
    atomic_int fpe;      /* the union of the parts' exception flags */
} job_t;

typedef struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    atomic_ulong ticket;  /* raised once per job for this thread */
    job_t *job;
    int part;
} slot_t;

static slot_t *slots[MAX_THREADS];  /* (never freed: the threads hold them) */
static int n_slots;
static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;  /* one call at a time */
static int num_threads = 1;            /* set_threads: host_threads.get_num_threads() */
static npy_intp min_part = 1 << 15;   /* set_threads: elements a part is worth */
static int last_parts;                 /* the parts of the last call (for the tests) */

#define FP_RAISED (FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID | FE_UNDERFLOW)

static void
run_part(job_t *j, int part)
{
    npy_intp lo = part * j->chunk, hi = lo + j->chunk < j->n ? lo + j->chunk : j->n;
    if (lo >= hi)
        return;
    feclearexcept(FP_RAISED);
    j->fn(j->ctx, lo, hi);
    int raised = fetestexcept(FP_RAISED);
    if (raised)
        atomic_fetch_or_explicit(&j->fpe, raised, memory_order_relaxed);
}

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static long long
now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *
worker(void *arg)
{
    slot_t *slot = arg;
    unsigned long seen = 0;
    for (;;) {
        long long until = now_ns() + SPIN_NS;
        for (int i = 0; atomic_load_explicit(&slot->ticket, memory_order_acquire) == seen; i++) {
            cpu_relax();
            if ((i & 255) == 255 && now_ns() > until) {
                pthread_mutex_lock(&slot->m);
                while (atomic_load_explicit(&slot->ticket, memory_order_acquire) == seen)
                    pthread_cond_wait(&slot->cv, &slot->m);
                pthread_mutex_unlock(&slot->m);
                break;
            }
        }
        seen = atomic_load_explicit(&slot->ticket, memory_order_acquire);
        job_t *job = slot->job;
        run_part(job, slot->part);
        atomic_fetch_sub_explicit(&job->pending, 1, memory_order_release);
    }
    return NULL;
}

static void
forget_threads_in_child(void)
{
    n_slots = 0;  /* (the parent's slots are leaked, not touched) */
    pthread_mutex_init(&busy, NULL);
}

/* Starts threads until there are `want` (fewer where the system has none to give). */
static void
start_threads(int want)
{
    static int at_fork;
    if (!at_fork)
        at_fork = pthread_atfork(NULL, NULL, forget_threads_in_child) == 0 ? 1 : -1;
    while (n_slots < want) {
        slot_t *slot = calloc(1, sizeof(slot_t));
        if (slot == NULL)
            return;
        pthread_mutex_init(&slot->m, NULL);
        pthread_cond_init(&slot->cv, NULL);
        atomic_init(&slot->ticket, 0);
        pthread_attr_t attr;
        pthread_t t;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&t, &attr, worker, slot);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            free(slot);
            return;
        }
        slots[n_slots++] = slot;
    }
}

/* The parts worth making of n elements: one per min_part elements, at most num_threads
 * (host_threads.C_THREAD_MIN_ELEMENTS). */
static int
parts_for(npy_intp n)
{
    npy_intp k = n / min_part;
    return k < 2 ? 1 : (k < num_threads ? (int)k : num_threads);
}

/* See the section's comment. Parts are whole multiples of `align` elements (a cache line),
 * so that every part starts as aligned as the arrays do and vector loops see the same runs.
 * Called without the GIL. */
static int
host_parallel(part_fn fn, void *ctx, npy_intp n, npy_intp align, int parts)
{
    job_t job;
    job.fn = fn;
    job.ctx = ctx;
    job.n = n;
    atomic_init(&job.fpe, 0);
    npy_intp units = (n + align - 1) / align;
    if (parts > units)
        parts = (int)units;
    if (parts > MAX_THREADS)
        parts = MAX_THREADS;
    if (parts < 2 || pthread_mutex_trylock(&busy) != 0) {  /* (another call holds the threads) */
        last_parts = 1;
        job.chunk = n;
        run_part(&job, 0);
        return atomic_load(&job.fpe);
    }
    job.chunk = (units + parts - 1) / parts * align;
    parts = (int)((n + job.chunk - 1) / job.chunk);
    start_threads(parts - 1);
    int helpers = n_slots < parts - 1 ? n_slots : parts - 1;
    last_parts = parts;
    atomic_init(&job.pending, helpers);
    for (int i = 0; i < helpers; i++) {
        slot_t *slot = slots[i];
        slot->job = &job;
        slot->part = i + 1;
        pthread_mutex_lock(&slot->m);  /* (so that a thread going to sleep sees it) */
        atomic_fetch_add_explicit(&slot->ticket, 1, memory_order_release);
        pthread_mutex_unlock(&slot->m);
        pthread_cond_signal(&slot->cv);
    }
    run_part(&job, 0);
    for (int part = helpers + 1; part < parts; part++)
        run_part(&job, part);
    for (int i = 0; atomic_load_explicit(&job.pending, memory_order_acquire) != 0; i++) {
        cpu_relax();
        if ((i & 1023) == 1023)
            sched_yield();  /* (a helper descheduled by other work) */
    }
    pthread_mutex_unlock(&busy);
    return atomic_load(&job.fpe);
}


/* set_max_bytes: `fill` declines results this large (host_pool.POOL_MIN_BYTES), which the
 * caller serves with a broadcast view of the one value: no memory, no pass */
static Py_ssize_t max_bytes = 1 << 20;

/* the loops: x op y elementwise, x or y one value (xs, ys: the array pointer NULL) */
#define LOOPS(T, NAME)                                                                     \
    static void NAME(int op, T *out, const T *x, T xs, const T *y, T ys, npy_intp n)       \
    {                                                                                      \
        npy_intp i;                                                                        \
        if (op == OP_NEG) {                                                                \
            for (i = 0; i < n; i++) out[i] = -x[i];                                        \
        }                                                                                  \
        else if (y == NULL) {                                                              \
            switch (op) {                                                                  \
            case OP_ADD: for (i = 0; i < n; i++) out[i] = x[i] + ys; break;               \
            case OP_SUB: for (i = 0; i < n; i++) out[i] = x[i] - ys; break;               \
            case OP_MUL: for (i = 0; i < n; i++) out[i] = x[i] * ys; break;               \
            default: for (i = 0; i < n; i++) out[i] = x[i] / ys;                          \
            }                                                                              \
        }                                                                                  \
        else if (x == NULL) {                                                              \
            switch (op) {                                                                  \
            case OP_ADD: for (i = 0; i < n; i++) out[i] = xs + y[i]; break;               \
            case OP_SUB: for (i = 0; i < n; i++) out[i] = xs - y[i]; break;               \
            case OP_MUL: for (i = 0; i < n; i++) out[i] = xs * y[i]; break;               \
            default: for (i = 0; i < n; i++) out[i] = xs / y[i];                          \
            }                                                                              \
        }                                                                                  \
        else {                                                                             \
            switch (op) {                                                                  \
            case OP_ADD: for (i = 0; i < n; i++) out[i] = x[i] + y[i]; break;             \
            case OP_SUB: for (i = 0; i < n; i++) out[i] = x[i] - y[i]; break;             \
            case OP_MUL: for (i = 0; i < n; i++) out[i] = x[i] * y[i]; break;             \
            default: for (i = 0; i < n; i++) out[i] = x[i] / y[i];                        \
            }                                                                              \
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

/* 1 if `a` is one value spread over `like`'s shape (an array of `like`'s type and shape
 * whose every stride is 0, as np.broadcast_to makes a sum's gradient): the value in *v */
static int
one_value(PyObject *a, int type, PyArrayObject *like, double *v)
{
    if (Py_TYPE(a) != &PyArray_Type)
        return 0;
    PyArrayObject *arr = (PyArrayObject *)a;
    int nd = PyArray_NDIM(arr);
    if (PyArray_TYPE(arr) != type || nd == 0 || nd != PyArray_NDIM(like) ||
        !PyArray_ISALIGNED(arr) || !PyArray_ISNOTSWAPPED(arr) ||
        !PyArray_CompareLists(PyArray_DIMS(arr), PyArray_DIMS(like), nd) ||
        PyArray_SIZE(arr) == 0)
        return 0;
    for (int i = 0; i < nd; i++)
        if (PyArray_STRIDES(arr)[i] != 0)
            return 0;
    *v = type == NPY_FLOAT ? *(float *)PyArray_DATA(arr) : *(double *)PyArray_DATA(arr);
    return 1;
}

typedef struct {
    int op, type;
    char *out;
    const char *x, *y;  /* (NULL: the one value xs, ys) */
    double xs, ys;
} arith_job;

static void
arith_part(void *ctx, npy_intp lo, npy_intp hi)
{
    arith_job *a = ctx;
    if (a->type == NPY_FLOAT)
        loop_float(a->op, (float *)a->out + lo, a->x ? (const float *)a->x + lo : NULL,
                   (float)a->xs, a->y ? (const float *)a->y + lo : NULL, (float)a->ys, hi - lo);
    else
        loop_double(a->op, (double *)a->out + lo, a->x ? (const double *)a->x + lo : NULL,
                    a->xs, a->y ? (const double *)a->y + lo : NULL, a->ys, hi - lo);
}

/* host_parallel over the n elements of arrays of `itemsize`, with the GIL released where
 * the work is worth it (64 KiB and up), in parts_for(n) parts */
static int
run_elementwise(part_fn fn, void *ctx, npy_intp n, int itemsize)
{
    int raised;
    if (n * itemsize < (1 << 16))
        return host_parallel(fn, ctx, n, 1, 1);
    int parts = parts_for(n);
    Py_BEGIN_ALLOW_THREADS
    raised = host_parallel(fn, ctx, n, 64 / itemsize, parts);
    Py_END_ALLOW_THREADS
    return raised;
}

/* a op b into `out` (a new array where out is NULL; else an array of the result's type and
 * shape, which may be `a` itself) for the operands the loops take: C-contiguous float32 or
 * float64 arrays of one dtype and shape, or such an array and one value (a Python number,
 * or an array of one value spread by zero strides, on either side). A new reference to the
 * result; NotImplemented for other operands; NULL on error. Exceptions raised: NULL with
 * *raised set (the caller asks NumPy). */
static PyObject *
arith_into(int op, PyObject *a, PyObject *b, PyArrayObject *out, int *raised)
{
    int ta = 0, tb = 0;
    PyArrayObject *like;
    arith_job j = {op, 0, NULL, NULL, NULL, 0.0, 0.0};
    *raised = 0;
    if (plain(a, &ta)) {
        like = (PyArrayObject *)a;
        j.x = PyArray_DATA(like);
        if (op != OP_NEG) {
            if (plain(b, &tb)) {
                PyArrayObject *y = (PyArrayObject *)b;
                if (tb != ta || PyArray_NDIM(y) != PyArray_NDIM(like) ||
                    !PyArray_CompareLists(PyArray_DIMS(like), PyArray_DIMS(y), PyArray_NDIM(y)))
                    Py_RETURN_NOTIMPLEMENTED;
                j.y = PyArray_DATA(y);
            }
            else if (!one_value(b, ta, like, &j.ys) && !plain_number(b, ta, &j.ys)) {
                Py_RETURN_NOTIMPLEMENTED;
            }
        }
    }
    else if (op != OP_NEG && plain(b, &tb) && one_value(a, tb, (PyArrayObject *)b, &j.xs)) {
        ta = tb;
        like = (PyArrayObject *)b;
        j.y = PyArray_DATA(like);
    }
    else {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (out == NULL) {
        out = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(like), PyArray_DIMS(like), ta);
        if (out == NULL)
            return NULL;
    }
    else {
        Py_INCREF(out);
    }
    j.type = ta;
    j.out = PyArray_DATA(out);
    *raised = run_elementwise(arith_part, &j, PyArray_SIZE(like), ta == NPY_FLOAT ? 4 : 8);
    if (*raised) {
        Py_DECREF(out);
        return NULL;
    }
    return (PyObject *)out;
}

/* a op b (OP_NEG: -a, b unused) for a NumPy array `a` and an array or Python number `b`:
 * a new array (0-d operands give a 0-d array, not NumPy's scalar), NULL with NumPy's
 * error. Large arrays are split across the host threads. */
static PyObject *
arith(int op, PyObject *a, PyObject *b)
{
    int raised;
    PyObject *r = arith_into(op, a, b, NULL, &raised);
    if (r == Py_NotImplemented || raised) {  /* (raised: NumPy warns or raises per np.errstate) */
        Py_XDECREF(r);
        return numpy_call(op, a, b);
    }
    return r;
}

/* x += g in place for an array x the loops take and g an array of its type and shape or one
 * value (see arith_into): a new reference to x; NotImplemented where NumPy must do it (the
 * caller's in-place add); NULL on error. The sums are NumPy's; a floating-point exception
 * (an overflow to inf) is not reported, as PyTorch does not report one in accumulating a
 * gradient: x is already partly summed, so NumPy cannot be asked again. */
static PyObject *
add_into(PyObject *x, PyObject *g)
{
    int raised;
    if (Py_TYPE(x) != &PyArray_Type || !PyArray_ISWRITEABLE((PyArrayObject *)x))
        Py_RETURN_NOTIMPLEMENTED;
    if (Py_TYPE(g) == &PyArray_Type && g != x) {  /* (g overlapping x but not x: NumPy's) */
        char *xs = PyArray_DATA((PyArrayObject *)x), *gs = PyArray_DATA((PyArrayObject *)g);
        char *xe = xs + PyArray_NBYTES((PyArrayObject *)x);
        char *ge = gs + (PyArray_ISCONTIGUOUS((PyArrayObject *)g) ? PyArray_NBYTES((PyArrayObject *)g)
                                                                   : PyArray_ITEMSIZE((PyArrayObject *)g));
        if (gs < xe && xs < ge && gs != xs)
            Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *r = arith_into(OP_ADD, x, g, (PyArrayObject *)x, &raised);
    if (raised)
        return Py_NewRef(x);
    return r;
}

/* ---------------------------------------------------------------- NumPy's unary loops */

typedef struct {
    PyUFuncGenericFunction loop;
    void *data;
    char *in, *out;
    npy_intp itemsize;
} ufunc_job;

static void
ufunc_part(void *ctx, npy_intp lo, npy_intp hi)
{
    ufunc_job *u = ctx;
    char *args[2] = {u->in + lo * u->itemsize, u->out + lo * u->itemsize};
    npy_intp dim = hi - lo, steps[2] = {u->itemsize, u->itemsize};
    u->loop(args, &dim, steps, u->data);
}

/* NumPy's inner loop of unary ufunc f for type t (NULL where it has none) */
static PyUFuncGenericFunction
unary_loop(PyObject *f, int t, void **data)
{
    if (!PyObject_TypeCheck(f, &PyUFunc_Type))
        return NULL;
    PyUFuncObject *uf = (PyUFuncObject *)f;
    if (uf->nin != 1 || uf->nout != 1 || uf->core_enabled)
        return NULL;
    for (int i = 0; i < uf->ntypes; i++)
        if (uf->types[2 * i] == t && uf->types[2 * i + 1] == t && uf->functions[i] != NULL) {
            *data = uf->data ? uf->data[i] : NULL;
            return uf->functions[i];
        }
    return NULL;
}

/* f(x) for a unary NumPy ufunc f (one input, one output) and a plain array x of at least one
 * dimension: NumPy's own inner loop for x's type (the same bits), a large x split across the
 * host threads. A new array; NotImplemented for anything else (the caller calls f). Where
 * the loop raises a floating-point exception NumPy's own call answers, which warns or
 * raises per np.errstate. */
static PyObject *
unary(PyObject *f, PyObject *x)
{
    int t;
    if (!plain(x, &t) || PyArray_NDIM((PyArrayObject *)x) == 0)
        Py_RETURN_NOTIMPLEMENTED;
    ufunc_job u = {NULL, NULL, NULL, NULL, 0};
    u.loop = unary_loop(f, t, &u.data);
    if (u.loop == NULL)
        Py_RETURN_NOTIMPLEMENTED;
    PyArrayObject *in = (PyArrayObject *)x;
    PyObject *out = PyArray_SimpleNew(PyArray_NDIM(in), PyArray_DIMS(in), t);
    if (out == NULL)
        return NULL;
    u.in = PyArray_DATA(in);
    u.out = PyArray_DATA((PyArrayObject *)out);
    u.itemsize = PyArray_ITEMSIZE(in);
    if (run_elementwise(ufunc_part, &u, PyArray_SIZE(in), (int)u.itemsize)) {
        Py_DECREF(out);
        return PyObject_CallOneArg(f, x);
    }
    return out;
}

/* ---------------------------------------------------------------- chains of unary steps */

/* chain(x, steps, ignore): x through `steps`, one after another, into one new array: each
 * step a unary ufunc (NumPy's own loop for x's type), or (op, number, number_first): t op
 * number, or number op t (op 1 to 4: + - * /; the number a Python float or small int). Block by block, every step on a block
 * while it is in the L1 cache, large arrays split across the host threads: one pass over
 * memory where NumPy makes one per step, with NumPy's bits (each step is its loop or one
 * IEEE operation per element, and a block is a whole number of cache lines from the
 * array's start, as a part is). `ignore`: floating-point exceptions (FP_* bits) the caller
 * would silence with np.errstate; any other makes the call NotImplemented, so that NumPy's
 * own steps warn or raise. */

#define CHAIN_MAX_STEPS 8
#define CHAIN_BLOCK_BYTES 8192

typedef struct {
    PyUFuncGenericFunction loop;  /* (NULL: an arithmetic step) */
    void *data;
    int op, number_first;
    double v;
} chain_step;

typedef struct {
    int type, n_steps;
    npy_intp itemsize;
    const char *in;
    char *out;
    chain_step steps[CHAIN_MAX_STEPS];
} chain_job;

static void
chain_part(void *ctx, npy_intp lo, npy_intp hi)
{
    chain_job *c = ctx;
    npy_intp block = CHAIN_BLOCK_BYTES / c->itemsize;
    for (npy_intp b = lo; b < hi; b += block) {
        npy_intp m = hi - b < block ? hi - b : block;
        const char *src = c->in + b * c->itemsize;
        char *dst = c->out + b * c->itemsize;
        for (int k = 0; k < c->n_steps; k++, src = dst) {
            const chain_step *s = &c->steps[k];
            if (s->loop != NULL) {
                char *args[2] = {(char *)src, dst};
                npy_intp steps[2] = {c->itemsize, c->itemsize};
                s->loop(args, &m, steps, s->data);
            }
            else if (c->type == NPY_FLOAT) {
                const float *t = (const float *)src;
                loop_float(s->op, (float *)dst, s->number_first ? NULL : t, (float)s->v,
                           s->number_first ? t : NULL, (float)s->v, m);
            }
            else {
                const double *t = (const double *)src;
                loop_double(s->op, (double *)dst, s->number_first ? NULL : t, s->v,
                            s->number_first ? t : NULL, s->v, m);
            }
        }
    }
}

static PyObject *
chain(PyObject *x, PyObject *steps, int ignore)
{
    int t;
    if (!plain(x, &t) || PyArray_NDIM((PyArrayObject *)x) == 0 || !PyTuple_CheckExact(steps) ||
        PyTuple_GET_SIZE(steps) < 1 || PyTuple_GET_SIZE(steps) > CHAIN_MAX_STEPS)
        Py_RETURN_NOTIMPLEMENTED;
    chain_job c;
    c.type = t;
    c.n_steps = (int)PyTuple_GET_SIZE(steps);
    for (int k = 0; k < c.n_steps; k++) {
        PyObject *s = PyTuple_GET_ITEM(steps, k);
        chain_step *cs = &c.steps[k];
        cs->loop = NULL;
        if (!PyTuple_Check(s)) {
            cs->loop = unary_loop(s, t, &cs->data);
            if (cs->loop == NULL)
                Py_RETURN_NOTIMPLEMENTED;
            continue;
        }
        long o;
        if (PyTuple_GET_SIZE(s) != 3 || !PyLong_CheckExact(PyTuple_GET_ITEM(s, 0)) ||
            (o = PyLong_AsLong(PyTuple_GET_ITEM(s, 0))) < OP_ADD || o > OP_DIV ||
            !plain_number(PyTuple_GET_ITEM(s, 1), t, &cs->v))
            Py_RETURN_NOTIMPLEMENTED;
        cs->op = (int)o;
        cs->number_first = PyObject_IsTrue(PyTuple_GET_ITEM(s, 2)) == 1;
    }
    PyArrayObject *in = (PyArrayObject *)x;
    PyObject *out = PyArray_SimpleNew(PyArray_NDIM(in), PyArray_DIMS(in), t);
    if (out == NULL)
        return NULL;
    c.itemsize = PyArray_ITEMSIZE(in);
    c.in = PyArray_DATA(in);
    c.out = PyArray_DATA((PyArrayObject *)out);
    int raised = run_elementwise(chain_part, &c, PyArray_SIZE(in), (int)c.itemsize);
    if (raised & ~ignore) {
        Py_DECREF(out);
        Py_RETURN_NOTIMPLEMENTED;
    }
    return out;
}

/* ---------------------------------------------------------------- sum, mean, fill */


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

static PyObject *add_reduce;  /* numpy.add.reduce */

/* NumPy's pairwise summation (its FLOAT_pairwise_sum and DOUBLE_pairwise_sum, which
 * add.reduce runs over a contiguous array): below 8 elements one running sum; up to 128
 * eight running sums, one per position mod 8, then combined as ((0+1)+(2+3))+((4+5)+(6+7)),
 * then the rest; above that the two halves, split at a multiple of 8, summed apart and
 * added. Each addition is the same IEEE operation in the same order: NumPy's bits. */
#define PW_BLOCKSIZE 128
#define PAIRWISE(T, NAME)                                                                  \
    static T NAME(const T *a, npy_intp n)                                                  \
    {                                                                                      \
        npy_intp i;                                                                        \
        if (n < 8) {                                                                       \
            T res = 0;                                                                     \
            for (i = 0; i < n; i++)                                                        \
                res += a[i];                                                               \
            return res;                                                                    \
        }                                                                                  \
        if (n <= PW_BLOCKSIZE) {                                                           \
            T r[8], res;                                                                   \
            for (int k = 0; k < 8; k++)                                                    \
                r[k] = a[k];                                                               \
            for (i = 8; i < n - (n % 8); i += 8)                                           \
                for (int k = 0; k < 8; k++)                                                \
                    r[k] += a[i + k];                                                      \
            res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));       \
            for (; i < n; i++)                                                             \
                res += a[i];                                                               \
            return res;                                                                    \
        }                                                                                  \
        npy_intp n2 = n / 2;                                                               \
        n2 -= n2 % 8;                                                                      \
        return NAME(a, n2) + NAME(a + n2, n - n2);                                         \
    }
PAIRWISE(float, pairwise_float)
PAIRWISE(double, pairwise_double)

/* A large sum on the host threads: the top levels of the pairwise tree split into up to
 * 2**depth subtrees (leaves), each summed by one part, then added as the tree adds them. */
#define PW_MAX_LEAVES 64

typedef struct {
    int type, n_leaves;
    const char *a;
    npy_intp lo[PW_MAX_LEAVES], n[PW_MAX_LEAVES];
    double sum[PW_MAX_LEAVES];  /* (a float32 leaf's sum is a float, exactly) */
} pairwise_job;

static void
pairwise_leaves(pairwise_job *j, npy_intp lo, npy_intp n, int depth)
{
    if (depth == 0 || n <= PW_BLOCKSIZE) {
        j->lo[j->n_leaves] = lo;
        j->n[j->n_leaves++] = n;
        return;
    }
    npy_intp n2 = n / 2;
    n2 -= n2 % 8;
    pairwise_leaves(j, lo, n2, depth - 1);
    pairwise_leaves(j, lo + n2, n - n2, depth - 1);
}

/* the tree's additions above the leaves, in its order (*k: the next leaf) */
static double
pairwise_combine(pairwise_job *j, npy_intp n, int depth, int *k)
{
    if (depth == 0 || n <= PW_BLOCKSIZE)
        return j->sum[(*k)++];
    npy_intp n2 = n / 2;
    n2 -= n2 % 8;
    double l = pairwise_combine(j, n2, depth - 1, k);
    double r = pairwise_combine(j, n - n2, depth - 1, k);
    return j->type == NPY_FLOAT ? (double)((float)l + (float)r) : l + r;
}

static void
pairwise_part(void *ctx, npy_intp lo, npy_intp hi)
{
    pairwise_job *j = ctx;
    for (npy_intp i = lo; i < hi; i++)
        j->sum[i] = j->type == NPY_FLOAT
            ? pairwise_float((const float *)j->a + j->lo[i], j->n[i])
            : pairwise_double((const double *)j->a + j->lo[i], j->n[i]);
}

/* The sum of the n elements of a plain float32/float64 array, as add.reduce(x, None): its
 * identity 0 plus the pairwise sum (so -0.0 alone sums to 0.0, as NumPy's does). Returns
 * the floating-point exception flags raised (an overflow to inf, inf - inf), *v the sum. */
static int
pairwise_sum(int type, const char *a, npy_intp n, double *v)
{
    int parts = parts_for(n), depth = 0, raised;
    while ((2 << depth) <= parts && (2 << depth) <= PW_MAX_LEAVES)
        depth++;
    pairwise_job j;
    j.type = type;
    j.a = a;
    j.n_leaves = 0;
    pairwise_leaves(&j, 0, n, depth);
    if (j.n_leaves == 1) {  /* (one part, on this thread: the GIL kept) */
        raised = host_parallel(pairwise_part, &j, 1, 1, 1);
    }
    else {
        Py_BEGIN_ALLOW_THREADS
        raised = host_parallel(pairwise_part, &j, j.n_leaves, 1, j.n_leaves);
        Py_END_ALLOW_THREADS
    }
    int k = 0;
    feclearexcept(FP_RAISED);
    double s = pairwise_combine(&j, n, depth, &k);
    *v = type == NPY_FLOAT ? (double)((float)0 + (float)s) : 0.0 + s;
    return raised | fetestexcept(FP_RAISED);
}

/* The sum of every element of `x` as NumPy's add.reduce(x, None) computes it, as a 0-d
 * array (the pairwise sum above, in C: no ufunc call, a large x split across the host
 * threads); with `mean`, that sum divided by the count as Mean.forward does (a NumPy scalar
 * over a Python int: the int in the array's type, one IEEE division). NotImplemented for
 * anything but a plain non-empty array (the ops' Python code takes it). */
static PyObject *
reduce_all(int mean, PyObject *x)
{
    int type;
    if (!plain(x, &type) || PyArray_SIZE((PyArrayObject *)x) == 0)
        Py_RETURN_NOTIMPLEMENTED;
    npy_intp n = PyArray_SIZE((PyArrayObject *)x);
    double v;
    if (pairwise_sum(type, PyArray_DATA((PyArrayObject *)x), n, &v)) {
        /* (an exception: NumPy's own call, which warns or raises per np.errstate) */
        PyObject *args[2] = {x, Py_None};
        PyObject *r = PyObject_Vectorcall(add_reduce, args, 2, NULL);
        if (r == NULL)
            return NULL;
        v = PyArray_IsScalar(r, Float) ? PyArrayScalar_VAL(r, Float) : PyArrayScalar_VAL(r, Double);
        Py_DECREF(r);
    }
    if (mean)  /* (n < 2**24: exact in float32) */
        v = type == NPY_FLOAT ? (double)((float)v / (float)n) : v / (double)n;
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
py_ufunc(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "ufunc(f, x)");
        return NULL;
    }
    return unary(args[0], args[1]);
}

static PyObject *
py_chain(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "chain(x, steps, ignore)");
        return NULL;
    }
    long ignore = PyLong_AsLong(args[2]);
    if (ignore == -1 && PyErr_Occurred())
        return NULL;
    return chain(args[0], args[1], (int)ignore);
}

static PyObject *
py_add_into(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "add_into(x, g)");
        return NULL;
    }
    return add_into(args[0], args[1]);
}

static PyObject *
py_set_threads(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "set_threads(n, min_part)");
        return NULL;
    }
    long n = PyLong_AsLong(args[0]);
    Py_ssize_t m = PyLong_AsSsize_t(args[1]);
    if ((n == -1 || m == -1) && PyErr_Occurred())
        return NULL;
    if (n < 1 || m < 1) {
        PyErr_SetString(PyExc_ValueError, "set_threads: n and min_part must be positive");
        return NULL;
    }
    num_threads = n > MAX_THREADS ? MAX_THREADS : (int)n;
    min_part = m;
    Py_RETURN_NONE;
}

static PyObject *
py_last_parts(PyObject *mod, PyObject *unused)
{
    return PyLong_FromLong(last_parts);
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
    {"ufunc", (PyCFunction)(void (*)(void))py_ufunc, METH_FASTCALL,
     "ufunc(f, x): f(x) by NumPy's own loop for a unary ufunc f and a C-contiguous float "
     "array x, split across the host threads; NotImplemented for anything else."},
    {"chain", (PyCFunction)(void (*)(void))py_chain, METH_FASTCALL,
     "chain(x, steps, ignore): x through unary ufuncs and (op, number, number_first) steps "
     "into one new array, block by block; NotImplemented for other operands, or where an "
     "exception outside the FP_* mask `ignore` was raised."},
    {"add_into", (PyCFunction)(void (*)(void))py_add_into, METH_FASTCALL,
     "add_into(x, g): x += g in place (g of x's shape or one value), x; NotImplemented where "
     "NumPy must do it."},
    {"set_threads", (PyCFunction)(void (*)(void))py_set_threads, METH_FASTCALL,
     "set_threads(n, min_part): split large work into at most n parts of at least min_part "
     "elements."},
    {"last_parts", (PyCFunction)py_last_parts, METH_NOARGS,
     "last_parts(): the parts the last split call ran in (1: the calling thread alone)."},
    {"set_max_bytes", (PyCFunction)py_set_max_bytes, METH_O,
     "set_max_bytes(n): fill declines results of n bytes and up (the host pool's size)."},
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
    PyObject *(*add_into)(PyObject *x, PyObject *g);
    int (*parallel)(part_fn fn, void *ctx, npy_intp n, npy_intp align, int parts);
    int (*elementwise)(part_fn fn, void *ctx, npy_intp n, int itemsize);
    int (*plain)(PyObject *a, int *type);
    int (*plain_number)(PyObject *s, int type, double *v);
} host_api;

PyMODINIT_FUNC
PyInit__host_arith(void)
{
    import_array();
    import_umath();
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
    static host_api api = {arith, reduce_all, fill, add_into, host_parallel, run_elementwise,
                           plain, plain_number};
    PyObject *cap = PyCapsule_New((void *)&api, "autograd_gpu.backend._host_arith.api_c", NULL);
    if (cap == NULL || PyModule_AddObject(m, "api_c", cap) < 0) {
        Py_XDECREF(cap);
        Py_DECREF(m);
        return NULL;
    }
    /* chain's `ignore` bits */
    if (PyModule_AddIntConstant(m, "FP_OVERFLOW", FE_OVERFLOW) < 0 ||
        PyModule_AddIntConstant(m, "FP_UNDERFLOW", FE_UNDERFLOW) < 0 ||
        PyModule_AddIntConstant(m, "FP_INVALID", FE_INVALID) < 0 ||
        PyModule_AddIntConstant(m, "FP_DIVBYZERO", FE_DIVBYZERO) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
