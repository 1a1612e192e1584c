/* The host pool: NumPy's allocator for the data of large host arrays, keeping freed blocks
 * for reuse.
 *
 * A fresh large array is paid for twice on first touch: a page fault per page and the kernel
 * zeroing it, because the C allocator maps big blocks anew and unmaps (or trims) them when
 * freed. A training step allocates and frees the same few sizes each time (an im2col matrix,
 * a matmul result, a gradient), so the pool keeps the freed blocks and hands them out again.
 *
 * Installed as NumPy's data-memory handler (PyDataMem_SetHandler, NEP 49), it serves every
 * NumPy array made in the installing thread's context, whichever code makes it. Requests below
 * MIN_BYTES go to NumPy's own allocator as they are (its free lists serve those well). Larger ones
 * are rounded up to a size class, eight per power of two (at most 1/8 more memory), and taken
 * from that class's free list, or from the C allocator. `limit` bounds the bytes the pool
 * keeps, in use and free together: past it, free blocks of other classes are released first,
 * then new blocks go untracked (NumPy's own allocator's, freed by it as usual).
 *
 * Every call comes from NumPy with the GIL held (NumPy reads the handler, a Python capsule,
 * under the GIL, and its own allocator's free lists rely on the same), which serializes them:
 * no lock of its own. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_22_API_VERSION
#include <numpy/arrayobject.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#define MIN_SHIFT 20                 /* MIN_BYTES = 1 MiB */
#define MIN_BYTES ((size_t)1 << MIN_SHIFT)
#define MAX_SHIFT 46                 /* classes up to 64 TiB: larger requests go untracked */
#define SUBCLASSES 8
#define NCLASSES ((MAX_SHIFT - MIN_SHIFT) * SUBCLASSES)

/* Class c holds blocks of 2**e * (1 + j/8) bytes, e = MIN_SHIFT + c / 8, j = c % 8. */
static size_t
class_bytes(int c)
{
    int e = MIN_SHIFT + c / SUBCLASSES, j = c % SUBCLASSES;
    return (size_t)(SUBCLASSES + j) << (e - 3);
}

/* The smallest class whose blocks hold `size` (>= MIN_BYTES) bytes; -1 if none. */
static int
class_of(size_t size)
{
    int e = 63 - __builtin_clzll((unsigned long long)size);  /* 2**e <= size < 2**(e+1) */
    size_t step = (size_t)1 << (e - 3);
    size_t j = (size - ((size_t)1 << e) + step - 1) / step;  /* 0..8 */
    int c = (e - MIN_SHIFT) * SUBCLASSES + (int)j;
    return c < NCLASSES ? c : -1;
}

/* ------------------------------------------------------------ the blocks the pool holds */

/* Blocks handed out, by address: an open-addressing table (linear probing, deletion by
 * backward shift), so that a free can tell the pool's blocks from the C allocator's whatever
 * size NumPy passes. */
typedef struct {
    void *ptr;
    int cls;
} Entry;

static Entry *table;
static size_t table_cap;              /* a power of two, or 0 */
static size_t table_len;

/* Free blocks of each class, a stack threaded through the blocks' first bytes. */
static void *free_list[NCLASSES];

/* NumPy's default allocator: requests below MIN_BYTES, and any the pool does not keep */
static PyDataMemAllocator *numpy_alloc;

/* Whether blocks of HUGE_BYTES and more are offered to the kernel for transparent huge pages,
 * as NumPy's own allocator offers its large arrays (numpy's _set_madvise_hugepage, read when
 * the pool is installed): fewer page faults and TLB misses over a large array. */
#define HUGE_BYTES ((size_t)1 << 22)
static int hugepages;

static size_t limit_bytes;
static size_t pooled_bytes;           /* in use and free together */
static size_t free_bytes;
static size_t blocks;                 /* in use and free together */
static unsigned long long hits, misses;

static size_t
slot_of(void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;  /* (addresses are aligned) */
    return (size_t)(h >> 20) & (table_cap - 1);
}

static int
table_grow(void)
{
    size_t cap = table_cap ? 2 * table_cap : 64;
    Entry *t = calloc(cap, sizeof(Entry)), *old = table;
    if (t == NULL)
        return -1;
    size_t old_cap = table_cap;
    table = t;
    table_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].ptr == NULL)
            continue;
        size_t s = slot_of(old[i].ptr);
        while (table[s].ptr != NULL)
            s = (s + 1) & (cap - 1);
        table[s] = old[i];
    }
    free(old);
    return 0;
}

static int
table_add(void *p, int c)
{
    if (2 * (table_len + 1) > table_cap && table_grow() < 0)
        return -1;
    size_t s = slot_of(p);
    while (table[s].ptr != NULL)
        s = (s + 1) & (table_cap - 1);
    table[s].ptr = p;
    table[s].cls = c;
    table_len++;
    return 0;
}

/* The slot of p in the table, or table_cap when p is not the pool's. */
static size_t
table_slot(void *p)
{
    if (table_len == 0)
        return table_cap;
    size_t mask = table_cap - 1, s = slot_of(p);
    while (table[s].ptr != p) {
        if (table[s].ptr == NULL)
            return table_cap;
        s = (s + 1) & mask;
    }
    return s;
}

/* Removes p from the table: its class, or -1 when p is not the pool's. */
static int
table_pop(void *p)
{
    size_t s = table_slot(p);
    if (s == table_cap)
        return -1;
    size_t mask = table_cap - 1;
    int c = table[s].cls;
    /* backward shift: move later entries of the run up into the hole */
    size_t hole = s;
    for (size_t i = (s + 1) & mask; table[i].ptr != NULL; i = (i + 1) & mask) {
        size_t home = slot_of(table[i].ptr);
        /* entry i may fill the hole if its home is not within (hole, i] */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            table[hole] = table[i];
            hole = i;
        }
    }
    table[hole].ptr = NULL;
    table_len--;
    return c;
}

/* p's class, or -1 when p is not the pool's. */
static int
table_class(void *p)
{
    size_t s = table_slot(p);
    return s == table_cap ? -1 : table[s].cls;
}

/* Releases free blocks, largest class first and never of class `keep`, until `needed` bytes
 * are gone or none is left. */
static void
release_free(size_t needed, int keep)
{
    for (int c = NCLASSES - 1; c >= 0 && needed > 0; c--) {
        if (c == keep)
            continue;
        size_t n = class_bytes(c);
        while (free_list[c] != NULL && needed > 0) {
            void *p = free_list[c];
            free_list[c] = *(void **)p;
            free(p);
            free_bytes -= n;
            pooled_bytes -= n;
            blocks--;
            needed = needed > n ? needed - n : 0;
        }
    }
}

/* A block of class c from the free list, or NULL. */
static void *
take_free(int c)
{
    void *p = free_list[c];
    if (p == NULL)
        return NULL;
    if (table_add(p, c) < 0)
        return NULL;  /* (the table could not grow: the caller allocates untracked) */
    free_list[c] = *(void **)p;
    free_bytes -= class_bytes(c);
    hits++;
    return p;
}

/* Room for a new block of class c within the limit (freeing blocks of other classes); 0 if
 * there is none. */
static int
make_room(int c)
{
    size_t n = class_bytes(c);
    if (pooled_bytes + n > limit_bytes)
        release_free(pooled_bytes + n - limit_bytes, c);
    return pooled_bytes + n <= limit_bytes;
}

/* A new block of class c from the C allocator (zeroed if `zero`), tracked; NULL if either
 * allocation fails (the caller then allocates untracked). */
static void *
new_block(int c, int zero)
{
    size_t n = class_bytes(c);
    void *p = zero ? calloc(1, n) : malloc(n);
    if (p == NULL)
        return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (hugepages && n >= HUGE_BYTES) {
        /* from the first page boundary inside the block (madvise takes whole pages); an
         * error (a kernel without them) changes nothing */
        uintptr_t start = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
        madvise((void *)start, (uintptr_t)p + n - start, MADV_HUGEPAGE);
    }
#endif
    if (table_add(p, c) < 0) {
        free(p);
        return NULL;
    }
    pooled_bytes += n;
    blocks++;
    return p;
}

/* ------------------------------------------------------------ NumPy's allocator interface */

/* A block of the pool for `size` bytes (zeroed if `zero`), or NULL where NumPy's allocator
 * is to serve the request: below MIN_BYTES, the pool off, or no room within the limit. */
static void *
pool_block(size_t size, int zero)
{
    int c = size >= MIN_BYTES ? class_of(size) : -1;
    if (c < 0 || limit_bytes == 0)
        return NULL;
    void *p = take_free(c);
    if (p != NULL)  /* (a reused block is zeroed in one pass: cheaper than fresh pages) */
        return zero ? memset(p, 0, size) : p;
    misses++;
    return make_room(c) ? new_block(c, zero) : NULL;
}

static void *
pool_malloc(void *ctx, size_t size)
{
    (void)ctx;
    void *p = pool_block(size, 0);
    return p != NULL ? p : numpy_alloc->malloc(numpy_alloc->ctx, size);
}

static void *
pool_calloc(void *ctx, size_t nelem, size_t elsize)
{
    (void)ctx;
    size_t size;
    if (__builtin_mul_overflow(nelem, elsize, &size))
        return NULL;
    void *p = pool_block(size, 1);
    return p != NULL ? p : numpy_alloc->calloc(numpy_alloc->ctx, nelem, elsize);
}

static void
pool_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (ptr == NULL)
        return;
    int c = table_pop(ptr);  /* (the table, not NumPy's size, says whose block it is) */
    if (c < 0) {
        numpy_alloc->free(numpy_alloc->ctx, ptr, size);
        return;
    }
    size_t n = class_bytes(c);
    if (pooled_bytes > limit_bytes) {  /* (the limit was lowered while it was in use) */
        free(ptr);
        pooled_bytes -= n;
        blocks--;
        return;
    }
    *(void **)ptr = free_list[c];
    free_list[c] = ptr;
    free_bytes += n;
}

static void *
pool_realloc(void *ctx, void *ptr, size_t new_size)
{
    if (ptr == NULL)
        return pool_malloc(ctx, new_size);
    int c = table_class(ptr);
    if (c < 0)  /* NumPy's allocator's block stays NumPy's allocator's */
        return numpy_alloc->realloc(numpy_alloc->ctx, ptr, new_size);
    size_t n = class_bytes(c);
    if (new_size <= n)
        return ptr;  /* it fits where it is */
    void *q = pool_malloc(ctx, new_size);
    if (q == NULL)
        return NULL;  /* (ptr is left as it was, as realloc leaves it) */
    memcpy(q, ptr, n);  /* (all of the old block: new_size is larger) */
    pool_free(ctx, ptr, n);
    return q;
}

static PyDataMem_Handler handler = {
    "autograd_gpu host pool",
    1,
    {NULL, pool_malloc, pool_calloc, pool_realloc, pool_free},
};

/* ------------------------------------------------------------ the module */

static PyObject *
install(PyObject *self, PyObject *noargs)
{
    PyObject *capsule = PyCapsule_New(&handler, "mem_handler", NULL);
    if (capsule == NULL)
        return NULL;
    PyObject *old = PyDataMem_SetHandler(capsule);
    Py_DECREF(capsule);
    if (old == NULL)
        return NULL;
    Py_DECREF(old);
    Py_RETURN_NONE;
}

static PyObject *
set_hugepages(PyObject *self, PyObject *arg)
{
    int on = PyObject_IsTrue(arg);
    if (on < 0)
        return NULL;
    hugepages = on;
    Py_RETURN_NONE;
}

static PyObject *
set_limit(PyObject *self, PyObject *arg)
{
    unsigned long long n = PyLong_AsUnsignedLongLong(arg);
    if (n == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    limit_bytes = (size_t)n;
    if (pooled_bytes > limit_bytes)
        release_free(pooled_bytes - limit_bytes, -1);
    Py_RETURN_NONE;
}

static PyObject *
empty(PyObject *self, PyObject *noargs)
{
    release_free(free_bytes, -1);
    Py_RETURN_NONE;
}

static PyObject *
stats(PyObject *self, PyObject *noargs)
{
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:K,s:K}", "pooled_bytes", (Py_ssize_t)pooled_bytes,
                         "free_bytes", (Py_ssize_t)free_bytes, "limit_bytes",
                         (Py_ssize_t)limit_bytes, "blocks", (Py_ssize_t)blocks, "hits", hits,
                         "misses", misses);
}

static PyObject *
owns(PyObject *self, PyObject *arg)
{
    /* whether array `arg`'s data is a block the pool handed out (for the tests) */
    if (!PyArray_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "owns() takes a NumPy array");
        return NULL;
    }
    return PyBool_FromLong(table_class(PyArray_DATA((PyArrayObject *)arg)) >= 0);
}

static PyObject *
size_class(PyObject *self, PyObject *arg)
{
    /* the bytes of the block that serves a request of `arg` bytes (0: not pooled) */
    size_t n = PyLong_AsSize_t(arg);
    if (n == (size_t)-1 && PyErr_Occurred())
        return NULL;
    int c = n >= MIN_BYTES ? class_of(n) : -1;
    return PyLong_FromSize_t(c < 0 ? 0 : class_bytes(c));
}

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS,
     "install(): the pool becomes NumPy's allocator in the calling thread's context."},
    {"set_hugepages", set_hugepages, METH_O,
     "set_hugepages(on): whether new blocks of 4 MiB and more are offered for huge pages."},
    {"set_limit", set_limit, METH_O,
     "set_limit(nbytes): the most bytes the pool keeps; free blocks over it are released."},
    {"empty", empty, METH_NOARGS, "empty(): releases every free block."},
    {"stats", stats, METH_NOARGS,
     "stats(): pooled_bytes, free_bytes, limit_bytes, blocks, hits, misses."},
    {"owns", owns, METH_O, "owns(a): whether the data of array a is one of the pool's blocks."},
    {"size_class", size_class, METH_O,
     "size_class(n): the bytes of the block serving an n-byte request (0: not pooled)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_host_memory",
    "The host pool: NumPy's allocator for large host arrays, reusing freed blocks.", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__host_memory(void)
{
    import_array();
    PyDataMem_Handler *h = PyCapsule_GetPointer(PyDataMem_DefaultHandler, "mem_handler");
    if (h == NULL)
        return NULL;
    numpy_alloc = &h->allocator;
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "MIN_BYTES", (long)MIN_BYTES) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
