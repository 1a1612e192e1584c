/* The tape's hot loops in C: recording a node (Node.apply), making a Tensor, and
 * replaying the tape (the engine's loop over nodes and the leaves' gradients).
 *
 * Why C: recording and replaying are pure bookkeeping (tuples, dicts, a heap), and in
 * Python that bookkeeping cost several microseconds per op, more than NumPy's own work on
 * small arrays. The rules are stated once, in Python: recording in autograd/node.py (its
 * docstring, "Recording rules"), replaying in autograd/engine.py ("Replay rules"); those modules call
 * this one, and rare paths (multi-output ops, hooks, anomaly mode, error messages) call back
 * into their Python helpers, which `setup` hands over once at import.
 *
 * Tensor is a Python class with __slots__; its slots are read and written here at their
 * member offsets (what the slot descriptors do), so a Tensor is created without running
 * Python code.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

/* ---------------------------------------------------------------- set up once, at import */

static PyTypeObject *Tensor_T;      /* autograd_gpu.Tensor */
static PyTypeObject *Accumulate_T;  /* AccumulateGrad, a leaf's sink node */
static PyTypeObject *ndarray_T;     /* numpy.ndarray */
static PyTypeObject *generic_T;     /* numpy.generic, the NumPy scalars */
static PyTypeObject *device_array_T;  /* CuPy's ndarray, once one has been seen (is_device_array) */
static PyObject *np_asarray;
static PyObject *Node_cls;          /* the op base class (autograd/node.py; for its _record_trace switch) */
static PyObject *grad_state;        /* grad_mode._state: .enabled, per thread */
static PyObject *sequence;          /* the tape's counter (itertools.count), shared with Python */
static PyObject *no_edge;           /* (None, 0) */
static PyObject *zero, *one;        /* the ints 0 and 1 */
static PyObject *float_dtypes;      /* a set of NumPy dtypes of kind "f" or "c" seen so far */

/* Python helpers for the rare paths */
static PyObject *h_device_mismatch, *h_stale_view, *h_as_array, *h_replace, *h_saved_output,
    *h_run_hooks, *h_materialize, *h_check_anomaly, *h_modified_message,
    *h_enter_device, *h_restore_device, *h_is_device_array, *h_seed_like;
static PyObject *second_backward;   /* the message for a backward through freed saved values */
static PyObject *h_forward_oom, *h_backward_oom;  /* MemoryError handlers (set_oom_handlers) */

static Py_ssize_t off_data, off_requires_grad, off_grad_fn, off_output_nr, off_grad,
    off_version, off_hooks, off_accumulator, off_retains_grad, off_base;
static PyTypeObject *Node_T;        /* Node_cls: its instances' slots are read at these offsets */
static Py_ssize_t off_next_functions, off_needs_input_grad, off_sequence_nr, off_saved,
    off_freed, off_pre_hooks, off_n_outputs;

static PyObject *s_forward, *s_backward, *s_enabled, *s_dtype, *s_kind, *s_next_functions,
    *s_needs_input_grad, *s_sequence_nr, *s_saved, *s_freed, *s_record_trace, *s_record_stack,
    *s_wrap_outputs, *s_get_accumulator, *s_base_fn, *s_base, *s_pre_hooks, *s_n_outputs,
    *s_device, *s_accumulate, *s_ref, *s_shape, *s_array,
    *s_version, *s_expected, *s_index, *s_ndim;

static int ready = 0;

#define SLOT(o, off) (*(PyObject **)((char *)(o) + (off)))

static inline void
slot_set(PyObject *o, Py_ssize_t off, PyObject *v)
{
    PyObject *old = SLOT(o, off);
    Py_XINCREF(v);
    SLOT(o, off) = v;
    Py_XDECREF(old);
}

/* A slot's value (borrowed); None where it was never set. */
static inline PyObject *
slot_get(PyObject *o, Py_ssize_t off)
{
    PyObject *v = SLOT(o, off);
    return v ? v : Py_None;
}

/* A node's attribute (a new reference): a Node's slot at `off`, or getattr for other nodes
 * (AccumulateGrad) and for a slot never set (its AttributeError). */
static inline PyObject *
node_get(PyObject *node, Py_ssize_t off, PyObject *name)
{
    if (PyObject_TypeCheck(node, Node_T)) {
        PyObject *v = SLOT(node, off);
        if (v != NULL) {
            Py_INCREF(v);
            return v;
        }
    }
    return PyObject_GetAttr(node, name);
}

static inline int
node_set(PyObject *node, Py_ssize_t off, PyObject *name, PyObject *v)
{
    if (PyObject_TypeCheck(node, Node_T)) {
        slot_set(node, off, v);
        return 0;
    }
    return PyObject_SetAttr(node, name, v);
}

/* A new node of `cls` (a Node subclass) with the defaults Node.__new__ sets. */
static PyObject *
new_node(PyTypeObject *cls)
{
    PyObject *node = cls->tp_alloc(cls, 0);
    if (node != NULL && PyObject_TypeCheck(node, Node_T)) {
        slot_set(node, off_saved, Py_None);
        slot_set(node, off_freed, Py_False);
        slot_set(node, off_pre_hooks, Py_None);
        slot_set(node, off_n_outputs, one);
    }
    return node;
}

static int
slot_offset(PyObject *cls, const char *name, Py_ssize_t *off)
{
    PyObject *descr = PyObject_GetAttrString(cls, name);
    if (descr == NULL)
        return -1;
    if (Py_TYPE(descr) != &PyMemberDescr_Type ||
        ((PyMemberDescrObject *)descr)->d_member->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "_tape.setup: Tensor.%s is not a __slots__ entry", name);
        Py_DECREF(descr);
        return -1;
    }
    *off = ((PyMemberDescrObject *)descr)->d_member->offset;
    Py_DECREF(descr);
    return 0;
}

static inline int
truthy(PyObject *v)
{
    if (v == Py_True)
        return 1;
    if (v == Py_False || v == Py_None)
        return 0;
    return PyObject_IsTrue(v);
}

/* ---------------------------------------------------------------- Tensor creation */

static int
init_slots(PyObject *t, PyObject *data, PyObject *grad_fn, int requires_grad)
{
    PyObject *version = PyList_New(1);
    if (version == NULL)
        return -1;
    Py_INCREF(zero);
    PyList_SET_ITEM(version, 0, zero);
    slot_set(t, off_data, data);
    slot_set(t, off_requires_grad, requires_grad ? Py_True : Py_False);
    slot_set(t, off_grad_fn, grad_fn);
    slot_set(t, off_output_nr, zero);
    slot_set(t, off_grad, Py_None);
    slot_set(t, off_version, version);
    Py_DECREF(version);
    slot_set(t, off_hooks, Py_None);
    slot_set(t, off_accumulator, Py_None);
    slot_set(t, off_retains_grad, Py_False);
    slot_set(t, off_base, Py_None);
    return 0;
}

static PyObject *
new_tensor(PyObject *data, PyObject *grad_fn, int requires_grad)
{
    PyObject *t = Tensor_T->tp_alloc(Tensor_T, 0);
    if (t == NULL)
        return NULL;
    if (init_slots(t, data, grad_fn, requires_grad) < 0) {
        Py_DECREF(t);
        return NULL;
    }
    return t;
}

static int
not_ready(void)
{
    if (ready)
        return 0;
    PyErr_SetString(PyExc_RuntimeError, "autograd_gpu.autograd._tape used before setup()");
    return 1;
}

/* wrap(data, grad_fn=None, requires_grad=False): a Tensor around an existing array. */
static PyObject *
tape_wrap(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (not_ready())
        return NULL;
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "wrap(data, grad_fn=None, requires_grad=False)");
        return NULL;
    }
    int rg = 0;
    if (nargs > 2 && (rg = truthy(args[2])) < 0)
        return NULL;
    return new_tensor(args[0], nargs > 1 ? args[1] : Py_None, rg);
}

/* init(t, data, grad_fn=None, requires_grad=False): sets every slot of a new Tensor; returns t. */
static PyObject *
tape_init(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (not_ready())
        return NULL;
    if (nargs < 2 || nargs > 4) {
        PyErr_SetString(PyExc_TypeError, "init(t, data, grad_fn=None, requires_grad=False)");
        return NULL;
    }
    if (!PyObject_TypeCheck(args[0], Tensor_T)) {
        PyErr_SetString(PyExc_TypeError, "init: not a Tensor");
        return NULL;
    }
    int rg = 0;
    if (nargs > 3 && (rg = truthy(args[3])) < 0)
        return NULL;
    if (init_slots(args[0], args[1], nargs > 2 ? args[2] : Py_None, rg) < 0)
        return NULL;
    Py_INCREF(args[0]);
    return args[0];
}

/* ---------------------------------------------------------------- recording (apply) */

/* 1 if the array's dtype is floating or complex, 0 if not, -1 on error */
static int
is_float(PyObject *arr)
{
    PyObject *dtype = PyObject_GetAttr(arr, s_dtype);
    if (dtype == NULL)
        return -1;
    int r = PySet_Contains(float_dtypes, dtype);
    if (r == 0) {
        PyObject *kind = PyObject_GetAttr(dtype, s_kind);
        if (kind == NULL) {
            r = -1;
        }
        else {
            r = PyUnicode_CompareWithASCIIString(kind, "f") == 0 ||
                PyUnicode_CompareWithASCIIString(kind, "c") == 0;
            Py_DECREF(kind);
            if (r && PySet_Add(float_dtypes, dtype) < 0)
                r = -1;
        }
    }
    Py_DECREF(dtype);
    return r;
}

static PyObject *
version_of(PyObject *t)
{
    PyObject *v = slot_get(t, off_version);
    if (PyList_CheckExact(v) && PyList_GET_SIZE(v) > 0) {
        PyObject *x = PyList_GET_ITEM(v, 0);
        Py_INCREF(x);
        return x;
    }
    return PySequence_GetItem(v, 0);
}

static int
bump_version(PyObject *t)
{
    PyObject *v = slot_get(t, off_version);
    PyObject *now = PySequence_GetItem(v, 0);
    if (now == NULL)
        return -1;
    PyObject *next = PyNumber_Add(now, one);
    Py_DECREF(now);
    if (next == NULL)
        return -1;
    int r = PySequence_SetItem(v, 0, next);
    Py_DECREF(next);
    return r;
}

/* node._saved = what forward saved, each entry tied to the input or the output it is:
 * (tensor, version) for an input, _SavedOutput for an output (its array, index and version
 * counter, not the output itself: no reference cycle), else as given. A create_graph
 * backward then sees graph-connected Tensors, and an in-place change is detected. */
static int
resolve_saved(PyObject *node, PyObject *saved, PyObject *const *inputs, Py_ssize_t n,
              PyObject *const *outs, Py_ssize_t nout)
{
    PyObject *seq = PySequence_Fast(saved, "saved values must be a sequence");
    if (seq == NULL)
        return -1;
    Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
    PyObject *resolved = PyList_New(m);
    if (resolved == NULL) {
        Py_DECREF(seq);
        return -1;
    }
    for (Py_ssize_t j = 0; j < m; j++) {
        PyObject *s = PySequence_Fast_GET_ITEM(seq, j);
        PyObject *item = NULL;
        for (Py_ssize_t i = 0; i < n && item == NULL; i++) {
            PyObject *a = inputs[i];
            if (PyObject_TypeCheck(a, Tensor_T) && SLOT(a, off_data) == s) {
                PyObject *v = version_of(a);
                if (v == NULL)
                    goto fail;
                item = PyTuple_Pack(2, a, v);
                Py_DECREF(v);
                if (item == NULL)
                    goto fail;
            }
        }
        for (Py_ssize_t k = 0; k < nout && item == NULL; k++) {
            PyObject *o = outs[k];
            if (PyObject_TypeCheck(o, Tensor_T) && SLOT(o, off_data) == s) {
                PyObject *index = PyLong_FromSsize_t(k);
                PyObject *v = index ? version_of(o) : NULL;
                if (v != NULL)
                    item = PyObject_CallFunctionObjArgs(h_saved_output, s, index,
                                                        slot_get(o, off_version), v, NULL);
                Py_XDECREF(index);
                Py_XDECREF(v);
                if (item == NULL)
                    goto fail;
            }
        }
        if (item == NULL) {
            item = s;
            Py_INCREF(item);
        }
        PyList_SET_ITEM(resolved, j, item);
    }
    Py_DECREF(seq);
    int r = node_set(node, off_saved, s_saved, resolved);
    Py_DECREF(resolved);
    return r;
fail:
    Py_DECREF(seq);
    Py_DECREF(resolved);
    return -1;
}

/* resolve_saved(node, inputs, outputs): resolve_saved for a multi-output node. */
static PyObject *
tape_resolve_saved(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (not_ready())
        return NULL;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "resolve_saved(node, inputs, outputs)");
        return NULL;
    }
    PyObject *saved = node_get(args[0], off_saved, s_saved);
    if (saved == NULL)
        return NULL;
    PyObject *ins = PySequence_Fast(args[1], "inputs");
    PyObject *outs = ins ? PySequence_Fast(args[2], "outputs") : NULL;
    int r = -1;
    if (outs != NULL)
        r = saved == Py_None ? 0 : resolve_saved(
            args[0], saved, PySequence_Fast_ITEMS(ins), PySequence_Fast_GET_SIZE(ins),
            PySequence_Fast_ITEMS(outs), PySequence_Fast_GET_SIZE(outs));
    Py_DECREF(saved);
    Py_XDECREF(ins);
    Py_XDECREF(outs);
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
tuple_of(PyObject *const *items, Py_ssize_t n)
{
    PyObject *t = PyTuple_New(n);
    if (t == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_INCREF(items[i]);
        PyTuple_SET_ITEM(t, i, items[i]);
    }
    return t;
}

/* An op's forward or a node's backward raised MemoryError: the Python handler (set by
 * set_oom_handlers; autograd/node.py and engine.py) gets handler(error, node, items, extra),
 * frees cached memory and runs the op once more, or raises the library's OutOfMemoryError.
 * Only this failure path calls it; the success path is unchanged. */
static PyObject *
after_oom(PyObject *handler, PyObject *node, PyObject *const *items, Py_ssize_t k,
          PyObject *extra)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL)
        PyException_SetTraceback(value, tb);
    PyObject *r = NULL, *args = tuple_of(items, k);
    if (args != NULL)
        r = PyObject_CallFunctionObjArgs(handler, value, node, args, extra, NULL);
    Py_XDECREF(args);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return r;
}

static int
grad_enabled(void)
{
    PyObject *e = PyObject_GetAttr(grad_state, s_enabled);
    if (e == NULL)
        return -1;
    int r = truthy(e);
    Py_DECREF(e);
    return r;
}

#define SMALL 16

static PyObject *enter_device(PyObject *arr);
static int restore_device(PyObject *prev);

/* 1 if `a` is a CuPy array, 0 if not, -1 on error. Python (backend.is_device_array) is
 * asked only until the first one is seen; then its type is known and a type test answers. */
static int
is_device_array(PyObject *a)
{
    if (Py_TYPE(a) == device_array_T)
        return 1;
    if (device_array_T != NULL || Py_TYPE(a) == ndarray_T || PyObject_TypeCheck(a, Tensor_T) ||
        PyObject_TypeCheck(a, generic_T) || PyFloat_Check(a) || PyLong_Check(a))
        return 0;
    PyObject *r = PyObject_CallOneArg(h_is_device_array, a);
    if (r == NULL)
        return -1;
    int yes = truthy(r);
    Py_DECREF(r);
    if (yes == 1) {
        Py_INCREF(Py_TYPE(a));
        device_array_T = Py_TYPE(a);
    }
    return yes;
}

/* 1 if a raw array among the non-Tensor inputs lives on another device than the Tensors'
 * arrays (a NumPy array with CUDA tensors, a CuPy array with CPU ones): constants that are
 * arrays must be on the tensors' device, as PyTorch requires. Python numbers pass cheaply. */
static int
raw_arrays_elsewhere(PyObject *first, PyObject *const *inputs, Py_ssize_t n)
{
    int cuda = Py_TYPE(first) != ndarray_T;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *a = inputs[i];
        if (PyObject_TypeCheck(a, Tensor_T) || a == Py_None || PyFloat_CheckExact(a) ||
            PyLong_CheckExact(a) || PyBool_Check(a) || PyTuple_Check(a) || PyUnicode_Check(a) ||
            PyObject_TypeCheck(a, generic_T))
            continue;
        if (Py_TYPE(a) == ndarray_T) {
            if (cuda)
                return 1;
            continue;
        }
        if (!cuda) {
            int dev = is_device_array(a);
            if (dev != 0)
                return dev;  /* (1, or -1 on error) */
        }
    }
    return 0;
}

static PyObject *tape_saved_tensors(PyObject *mod, PyObject *node);

/* The edge along which the gradient of `a` (a Tensor that requires grad) flows: (grad_fn,
 * output_nr), or (its AccumulateGrad, 0) for a leaf. */
static PyObject *
edge_of(PyObject *a)
{
    PyObject *fn = slot_get(a, off_grad_fn);
    if (fn != Py_None)
        return PyTuple_Pack(2, fn, slot_get(a, off_output_nr));
    PyObject *acc = slot_get(a, off_accumulator);
    if (acc == Py_None)
        acc = PyObject_CallMethodNoArgs(a, s_get_accumulator);
    else
        Py_INCREF(acc);
    if (acc == NULL)
        return NULL;
    PyObject *edge = PyTuple_Pack(2, acc, zero);
    Py_DECREF(acc);
    return edge;
}

/* ---------------------------------------------------------------- host arithmetic
 *
 * + - * / and the whole-array sum and mean of host arrays, the commonest ops of all, are
 * recorded and replayed here without their Python forward and backward: on a few elements
 * those calls cost more than the arithmetic. A node class says which op it is by `_tape_op`
 * in its own dict (ops/arithmetic.py: Add, Sub, Mul, Div, and Pow for the exponent 2;
 * ops/reduction.py: Sum, Mean), and
 * its forward and backward there state what this computes, operation for operation
 * (tests/test_host_arith.py compares the two paths bit for bit). The array work is the
 * execution layer's (backend/_host_arith.c), which splits large arrays across the host
 * threads. The arithmetic takes two operands: Tensors whose arrays are NumPy float32 or
 * float64 arrays of one dtype, not views, or such a Tensor and a Python int or float (the
 * Tensor first for - and /); the reductions one such Tensor, over all of it. Anything else,
 * anything declined and any error goes the Python way, which raises the op's own messages. */

enum { BIN_ADD = 1, BIN_SUB, BIN_MUL, BIN_DIV, BIN_NEG, RED_SUM, RED_MEAN, BIN_SQUARE };
#define SAVES_INPUTS(kind) ((kind) == BIN_MUL || (kind) == BIN_DIV || (kind) == BIN_SQUARE)
typedef struct {  /* backend/_host_arith.c's capsule api_c: the array work */
    PyObject *(*arith)(int op, PyObject *a, PyObject *b);   /* a op b, or NotImplemented */
    PyObject *(*reduce_all)(int mean, PyObject *x);          /* 0-d sum/mean, or NotImplemented */
    PyObject *(*fill)(PyObject *shape, PyObject *g, Py_ssize_t n);  /* g (/ n) everywhere */
    PyObject *(*add_into)(PyObject *x, PyObject *g);        /* x += g, x; or NotImplemented */
} host_api;
static host_api host;                       /* (host.arith NULL: the path is off) */
#define host_arith (host.arith)
static PyObject *dt_float32, *dt_float64;  /* the dtypes this path takes */
static PyObject *s_tape_op, *s_shapes, *s_axes, *s_keepdim, *s_in_shape, *s_n;
static PyObject *h_sum_to;                  /* ops.arithmetic.sum_to */
static char fallback_marker;
#define FALLBACK ((PyObject *)&fallback_marker)

/* the node class's `_tape_op` (one of BIN_*, RED_*), 0 if it has none */
static int
host_op_kind(PyTypeObject *cls)
{
    if (host_arith == NULL || cls->tp_dict == NULL)
        return 0;
    PyObject *k = PyDict_GetItemWithError(cls->tp_dict, s_tape_op);  /* (borrowed) */
    if (k == NULL) {
        PyErr_Clear();
        return 0;
    }
    long v = PyLong_AsLong(k);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return (int)v;
}

/* For a Tensor operand: its array (borrowed) where this path takes it, with its dtype
 * (borrowed: dt_float32 or dt_float64) in *dtype; NULL where it does not (no error set). */
static PyObject *
host_operand(PyObject *t, PyObject **dtype)
{
    PyObject *d = SLOT(t, off_data);
    if (d == NULL || Py_TYPE(d) != ndarray_T || slot_get(t, off_base) != Py_None)
        return NULL;
    PyObject *dt = PyObject_GetAttr(d, s_dtype);
    if (dt == NULL) {
        PyErr_Clear();
        return NULL;
    }
    Py_DECREF(dt);  /* (the two dtypes are held by setup: compared by identity) */
    if (dt != dt_float32 && dt != dt_float64)
        return NULL;
    *dtype = dt;
    return d;
}

/* The array work's result `r` (stolen) in a backward: r, NULL on error, FALLBACK where it
 * was declined (NotImplemented). */
static PyObject *
grad_result(PyObject *r)
{
    if (r == Py_NotImplemented) {
        Py_DECREF(r);
        return FALLBACK;
    }
    return r;
}

/* The same in a forward, where an error too is FALLBACK (cleared: the Python path raises it
 * with the op's own message) */
static PyObject *
forward_result(PyObject *r)
{
    if (r == NULL) {
        PyErr_Clear();
        return FALLBACK;
    }
    return grad_result(r);
}

static PyObject *
arith_or_fallback(int op, PyObject *x, PyObject *y)
{
    return forward_result(host_arith(op, x, y));
}

/* 1 if anomaly mode records a stack per node (Node._record_trace: its Python path does),
 * 0 if not, -1 on error */
static int
tracing(void)
{
    PyObject *trace = PyObject_GetAttr(Node_cls, s_record_trace);
    if (trace == NULL)
        return -1;
    int on = truthy(trace);
    Py_DECREF(trace);
    return on;
}

/* 1 if `b` is the exponent 2 (a Python int or float), for Pow's `a ** 2` */
static int
is_two(PyObject *b)
{
    int overflow = 0;
    return (PyFloat_CheckExact(b) && PyFloat_AS_DOUBLE(b) == 2.0) ||
           (PyLong_CheckExact(b) && PyLong_AsLongAndOverflow(b, &overflow) == 2 && !overflow);
}

/* The output Tensor of a node this path recorded: its edges, needs and sequence number set */
static PyObject *
recorded(PyObject *node, PyObject *nexts, PyObject *needs, PyObject *seq, PyObject *out)
{
    slot_set(node, off_next_functions, nexts);
    slot_set(node, off_needs_input_grad, needs);
    slot_set(node, off_sequence_nr, seq);
    return new_tensor(out, node, 1);
}

/* What Add and Sub keep for backward: their inputs' shapes, () for a number. */
static PyObject *
shape_of(PyObject *arr)
{
    return arr == NULL ? PyTuple_New(0) : PyObject_GetAttr(arr, s_shape);
}

/* apply(cls, a, b) for a `_tape_op` class: the new Tensor, NULL on error, or FALLBACK
 * where this path does not take the operands (nothing done). */
static PyObject *
binary_apply(PyTypeObject *cls, int kind, PyObject *a, PyObject *b)
{
    int ta = PyObject_TypeCheck(a, Tensor_T), tb = PyObject_TypeCheck(b, Tensor_T);
    if (!ta && (kind == BIN_SUB || kind == BIN_DIV || kind == BIN_SQUARE))
        return FALLBACK;  /* (rsub, a number over a tensor, number ** tensor) */
    if (kind == BIN_SQUARE && !is_two(b))  /* (Pow: the exponent 2 only) */
        return FALLBACK;
    if ((!ta && !PyFloat_CheckExact(a) && !PyLong_CheckExact(a)) ||
        (!tb && !PyFloat_CheckExact(b) && !PyLong_CheckExact(b)) || (!ta && !tb))
        return FALLBACK;
    int traced = tracing();
    if (traced)
        return traced < 0 ? NULL : FALLBACK;
    PyObject *dta = NULL, *dtb = NULL;
    PyObject *xa = ta ? host_operand(a, &dta) : a;
    PyObject *xb = (xa != NULL && tb) ? host_operand(b, &dtb) : b;
    if (xa == NULL || xb == NULL || (ta && tb && dta != dtb))
        return FALLBACK;

    /* (a number first: + and * commute exactly, and the array work takes the array first;
     * a ** 2 is a * a, as Pow.forward computes it) */
    PyObject *out = kind == BIN_SQUARE ? arith_or_fallback(BIN_MUL, xa, xa)
                    : ta ? arith_or_fallback(kind, xa, xb) : arith_or_fallback(kind, xb, xa);
    if (out == FALLBACK)
        return FALLBACK;
    int rga = ta ? truthy(slot_get(a, off_requires_grad)) : 0;
    int rgb = tb ? truthy(slot_get(b, off_requires_grad)) : 0;
    int enabled = (rga > 0 || rgb > 0) ? grad_enabled() : 0;
    if (rga < 0 || rgb < 0 || enabled < 0) {
        Py_DECREF(out);
        return NULL;
    }
    if (!enabled) {
        PyObject *t = new_tensor(out, Py_None, 0);
        Py_DECREF(out);
        return t;
    }

    PyObject *node = new_node(cls), *result = NULL, *kept = NULL, *seq = NULL;
    PyObject *ea = NULL, *eb = NULL, *nexts = NULL, *needs = NULL;
    if (node == NULL)
        goto done;
    ea = rga ? edge_of(a) : (Py_INCREF(no_edge), no_edge);
    eb = (ea != NULL && rgb) ? edge_of(b) : (Py_XINCREF(no_edge), no_edge);
    if (ea == NULL || eb == NULL)
        goto done;
    nexts = PyTuple_Pack(2, ea, eb);
    needs = PyTuple_Pack(2, rga ? Py_True : Py_False, rgb ? Py_True : Py_False);
    seq = nexts && needs ? PyIter_Next(sequence) : NULL;
    if (seq == NULL)
        goto done;
    if (SAVES_INPUTS(kind)) {  /* forward saved (a, b): each tied to its input */
        PyObject *va = ta ? version_of(a) : NULL, *vb = tb ? version_of(b) : NULL;
        if ((!ta || va) && (!tb || vb)) {
            PyObject *ia = ta ? PyTuple_Pack(2, a, va) : (Py_INCREF(a), a);
            PyObject *ib = tb ? PyTuple_Pack(2, b, vb) : (Py_INCREF(b), b);
            if (ia && ib)
                kept = PyList_New(2);
            if (kept) {
                PyList_SET_ITEM(kept, 0, ia);
                PyList_SET_ITEM(kept, 1, ib);
            }
            else {
                Py_XDECREF(ia);
                Py_XDECREF(ib);
            }
        }
        Py_XDECREF(va);
        Py_XDECREF(vb);
        if (kept == NULL)
            goto done;
        slot_set(node, off_saved, kept);
    }
    else {
        PyObject *sa = shape_of(ta ? xa : NULL), *sb = sa ? shape_of(tb ? xb : NULL) : NULL;
        if (sa && sb)
            kept = PyTuple_Pack(2, sa, sb);
        Py_XDECREF(sa);
        Py_XDECREF(sb);
        if (kept == NULL || PyObject_SetAttr(node, s_shapes, kept) < 0)
            goto done;
    }
    result = recorded(node, nexts, needs, seq, out);
done:
    Py_DECREF(out);
    Py_XDECREF(node);
    Py_XDECREF(ea);
    Py_XDECREF(eb);
    Py_XDECREF(nexts);
    Py_XDECREF(needs);
    Py_XDECREF(seq);
    Py_XDECREF(kept);
    return result;
}

/* 1 if the keyword arguments are Sum's and Mean's axes=None, keepdim=False */
static int
whole_array(PyObject *const *values, PyObject *kwnames)
{
    if (kwnames == NULL || PyTuple_GET_SIZE(kwnames) != 2 || values[0] != Py_None ||
        values[1] != Py_False)
        return 0;
    PyObject *k0 = PyTuple_GET_ITEM(kwnames, 0), *k1 = PyTuple_GET_ITEM(kwnames, 1);
    return (k0 == s_axes || PyUnicode_Compare(k0, s_axes) == 0) &&
           (k1 == s_keepdim || PyUnicode_Compare(k1, s_keepdim) == 0);
}

/* apply(cls, x, axes=None, keepdim=False) for Sum and Mean (`_tape_op` RED_SUM, RED_MEAN):
 * the whole-array reduction, recorded with what their backward reads (in_shape, axes, and
 * Mean's n); FALLBACK where this path does not take it. */
static PyObject *
reduce_apply(PyTypeObject *cls, int kind, PyObject *x)
{
    if (!PyObject_TypeCheck(x, Tensor_T))
        return FALLBACK;
    int traced = tracing();
    if (traced)
        return traced < 0 ? NULL : FALLBACK;
    PyObject *dt = NULL, *xa = host_operand(x, &dt);
    if (xa == NULL)
        return FALLBACK;
    PyObject *out = forward_result(host.reduce_all(kind == RED_MEAN, xa));
    if (out == FALLBACK)
        return FALLBACK;
    int rg = truthy(slot_get(x, off_requires_grad));
    int enabled = rg > 0 ? grad_enabled() : 0;
    if (rg < 0 || enabled < 0) {
        Py_DECREF(out);
        return NULL;
    }
    if (!enabled) {
        PyObject *t = new_tensor(out, Py_None, 0);
        Py_DECREF(out);
        return t;
    }
    PyObject *node = new_node(cls), *result = NULL, *edge = NULL, *nexts = NULL, *needs = NULL,
             *seq = NULL, *shape = NULL, *count = NULL;
    if (node == NULL || (edge = edge_of(x)) == NULL || (nexts = PyTuple_Pack(1, edge)) == NULL ||
        (needs = PyTuple_Pack(1, Py_True)) == NULL || (seq = PyIter_Next(sequence)) == NULL ||
        (shape = PyObject_GetAttr(xa, s_shape)) == NULL)
        goto done;
    if (PyObject_SetAttr(node, s_in_shape, shape) < 0 || PyObject_SetAttr(node, s_axes, Py_None) < 0)
        goto done;
    if (kind == RED_MEAN) {
        Py_ssize_t n = 1;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(shape); i++)
            n *= PyLong_AsSsize_t(PyTuple_GET_ITEM(shape, i));
        if ((count = PyLong_FromSsize_t(n)) == NULL || PyObject_SetAttr(node, s_n, count) < 0)
            goto done;
    }
    result = recorded(node, nexts, needs, seq, out);
done:
    Py_DECREF(out);
    Py_XDECREF(node);
    Py_XDECREF(edge);
    Py_XDECREF(nexts);
    Py_XDECREF(needs);
    Py_XDECREF(seq);
    Py_XDECREF(shape);
    Py_XDECREF(count);
    return result;
}

/* A Sum or Mean node's first-order backward: the gradient spread over the input's shape
 * (Sum.backward, Mean.backward: _expand_grad's whole-array case), or FALLBACK. */
static PyObject *
reduce_backward(PyObject *node, int kind, PyObject *g)
{
    PyObject *axes = PyObject_GetAttr(node, s_axes);
    if (axes == NULL)
        return NULL;
    Py_DECREF(axes);
    if (axes != Py_None)
        return FALLBACK;
    PyObject *shape = PyObject_GetAttr(node, s_in_shape);
    if (shape == NULL)
        return NULL;
    Py_ssize_t n = 1;
    if (kind == RED_MEAN) {
        PyObject *count = PyObject_GetAttr(node, s_n);
        n = count ? PyLong_AsSsize_t(count) : -1;
        Py_XDECREF(count);
        if (n == -1 && PyErr_Occurred()) {
            Py_DECREF(shape);
            return NULL;
        }
    }
    PyObject *r = grad_result(host.fill(shape, g, n));
    Py_DECREF(shape);
    return r;
}

/* `g` summed to `shape` (ops.arithmetic.sum_to) where its own shape differs; steals g */
static PyObject *
summed_to(PyObject *g, PyObject *gshape, PyObject *shape)
{
    int eq = PyObject_RichCompareBool(gshape, shape, Py_EQ);
    if (eq != 0) {
        if (eq < 0)
            Py_CLEAR(g);
        return g;
    }
    PyObject *r = PyObject_CallFunctionObjArgs(h_sum_to, g, shape, NULL);
    Py_DECREF(g);
    return r;
}

static PyObject *
grad_arith(int op, PyObject *x, PyObject *y)
{
    return grad_result(host_arith(op, x, y));
}

/* A `_tape_op` node's first-order backward of the host gradient `g`: the tuple of its
 * two input gradients, NULL on error, or FALLBACK (the node's Python backward runs). */
static PyObject *
binary_backward(PyObject *node, int kind, PyObject *g)
{
    if (Py_TYPE(g) != ndarray_T)
        return FALLBACK;
    PyObject *needs = node_get(node, off_needs_input_grad, s_needs_input_grad);
    if (needs == NULL)
        return NULL;
    if (!PyTuple_CheckExact(needs) || PyTuple_GET_SIZE(needs) != 2) {
        Py_DECREF(needs);
        return FALLBACK;
    }
    int na = truthy(PyTuple_GET_ITEM(needs, 0)), nb = truthy(PyTuple_GET_ITEM(needs, 1));
    Py_DECREF(needs);
    if (na < 0 || nb < 0)
        return NULL;
    PyObject *kept = NULL, *a = NULL, *b = NULL, *sa = NULL, *sb = NULL;
    if (SAVES_INPUTS(kind)) {
        kept = tape_saved_tensors(NULL, node);  /* [a, b], version-checked */
        if (kept == NULL)
            return NULL;
        if (!PyList_CheckExact(kept) || PyList_GET_SIZE(kept) != 2) {
            Py_DECREF(kept);
            return FALLBACK;
        }
        a = PyList_GET_ITEM(kept, 0);
        b = PyList_GET_ITEM(kept, 1);
        if ((kind == BIN_SQUARE && !is_two(b)) ||  /* (a Pow node of another exponent) */
            (na && Py_TYPE(a) != ndarray_T) || (nb && Py_TYPE(b) != ndarray_T) ||
            (Py_TYPE(a) != ndarray_T && !PyFloat_CheckExact(a) && !PyLong_CheckExact(a)) ||
            (Py_TYPE(b) != ndarray_T && !PyFloat_CheckExact(b) && !PyLong_CheckExact(b))) {
            Py_DECREF(kept);
            return FALLBACK;
        }
    }
    else {
        kept = PyObject_GetAttr(node, s_shapes);
        if (kept == NULL)
            return NULL;
        if (!PyTuple_CheckExact(kept) || PyTuple_GET_SIZE(kept) != 2) {
            Py_DECREF(kept);
            return FALLBACK;
        }
        sa = PyTuple_GET_ITEM(kept, 0);
        sb = PyTuple_GET_ITEM(kept, 1);
    }
    PyObject *gshape = PyObject_GetAttr(g, s_shape), *ga = NULL, *gb = NULL, *result = NULL;
    if (gshape == NULL)
        goto done;
    /* the formulas of Add/Sub/Mul/Div.backward (ops/arithmetic.py), in their order; a step
     * gives NULL (an error) or FALLBACK (declined: the Python backward runs instead) */
    PyObject *ng = NULL, *q = NULL, *qq = NULL;
    int stop = 0;
#define STEP(var, expr)                                   \
    do {                                                  \
        if (!stop) {                                      \
            var = (expr);                                 \
            stop = var == NULL || var == FALLBACK;        \
        }                                                 \
    } while (0)
    switch (kind) {
    case BIN_ADD:
        if (na)
            STEP(ga, (Py_INCREF(g), g));
        if (nb)
            STEP(gb, (Py_INCREF(g), g));
        break;
    case BIN_SUB:
        if (na)
            STEP(ga, (Py_INCREF(g), g));
        if (nb)
            STEP(gb, grad_arith(BIN_NEG, g, Py_None));
        break;
    case BIN_MUL:  /* (g * b, g * a) */
        if (na)
            STEP(ga, grad_arith(BIN_MUL, g, b));
        if (nb)
            STEP(gb, grad_arith(BIN_MUL, g, a));
        break;
    case BIN_SQUARE:  /* g * (a + a): _pow_base_grad's b == 2 (2 * a == a + a exactly) */
        if (na) {
            STEP(q, grad_arith(BIN_ADD, a, a));
            STEP(ga, grad_arith(BIN_MUL, q, g));
        }
        break;
    default:  /* (g / b, -g * (a / b / b)) */
        if (na)
            STEP(ga, grad_arith(BIN_DIV, g, b));
        if (nb) {
            STEP(ng, grad_arith(BIN_NEG, g, Py_None));
            STEP(q, grad_arith(BIN_DIV, a, b));
            STEP(qq, grad_arith(BIN_DIV, q, b));
            STEP(gb, grad_arith(BIN_MUL, ng, qq));
        }
    }
#undef STEP
    int declined = ga == FALLBACK || gb == FALLBACK || ng == FALLBACK || q == FALLBACK ||
                   qq == FALLBACK;
#define DROP(var)                          \
    do {                                   \
        if (var == FALLBACK)               \
            var = NULL;                    \
        Py_CLEAR(var);                     \
    } while (0)
    DROP(ng);
    DROP(q);
    DROP(qq);
    if (stop) {
        DROP(ga);
        DROP(gb);
        if (declined)  /* (large: the Python backward, from the start) */
            result = FALLBACK;
        goto done;
    }
#undef DROP
    /* each summed to its input's shape */
    if (na) {
        PyObject *s = SAVES_INPUTS(kind) ? PyObject_GetAttr(a, s_shape) : (Py_INCREF(sa), sa);
        if (s == NULL)
            goto done;
        ga = summed_to(ga, gshape, s);
        Py_DECREF(s);
        if (ga == NULL)
            goto done;
    }
    if (nb) {
        PyObject *s = SAVES_INPUTS(kind) ? PyObject_GetAttr(b, s_shape) : (Py_INCREF(sb), sb);
        if (s == NULL)
            goto done;
        gb = summed_to(gb, gshape, s);
        Py_DECREF(s);
        if (gb == NULL)
            goto done;
    }
    result = PyTuple_Pack(2, ga ? ga : Py_None, gb ? gb : Py_None);
done:
    Py_XDECREF(gshape);
    Py_XDECREF(ga);
    Py_XDECREF(gb);
    Py_XDECREF(kept);
    return result;
}

/* apply(cls, *inputs, **params), Node.apply: runs forward on the inputs' arrays and,
 * in grad mode with an input that requires grad, records a node (the recording rules of autograd/node.py). */
static PyObject *
tape_apply(PyObject *mod, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames)
{
    if (not_ready())
        return NULL;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs < 1 || !PyType_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "apply: expected a Node subclass");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)args[0];
    PyObject *const *inputs = args + 1;
    Py_ssize_t n = nargs - 1;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    int kind = host_op_kind(cls);
    if ((kind <= BIN_DIV || kind == BIN_SQUARE) && kind && n == 2 && nkw == 0) {
        PyObject *r = binary_apply(cls, kind, inputs[0], inputs[1]);
        if (r != FALLBACK)
            return r;
    }
    else if ((kind == RED_SUM || kind == RED_MEAN) && n == 1 && whole_array(args + nargs, kwnames)) {
        PyObject *r = reduce_apply(cls, kind, inputs[0]);
        if (r != FALLBACK)
            return r;
    }

    PyObject *small[SMALL];
    PyObject **call = small;  /* [node, arrays..., keyword values...] */
    if (1 + n + nkw > SMALL) {
        call = PyMem_Malloc(sizeof(PyObject *) * (1 + n + nkw));
        if (call == NULL)
            return PyErr_NoMemory();
    }
    PyObject *node = NULL, *nexts = NULL, *needs = NULL, *out = NULL, *result = NULL;
    Py_ssize_t held = 0;  /* call[1..held] hold references */
    int record = 0;
    PyObject *first = NULL;

    node = new_node(cls);
    if (node == NULL)
        goto done;
    nexts = PyTuple_New(n);
    needs = PyTuple_New(n);
    if (nexts == NULL || needs == NULL)
        goto done;
    call[0] = node;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *a = inputs[i];
        PyObject *edge = no_edge, *need = Py_False;
        Py_INCREF(edge);
        if (PyObject_TypeCheck(a, Tensor_T)) {
            PyObject *d = SLOT(a, off_data);
            if (d == NULL) {
                PyErr_SetString(PyExc_AttributeError, "a Tensor without data");
                Py_DECREF(edge);
                goto done;
            }
            PyObject *base = slot_get(a, off_base);
            if (base != Py_None) {  /* a view: stale if its base was changed in place since */
                PyObject *base_fn = PyObject_GetAttr(a, s_base_fn);
                if (base_fn == NULL) {
                    PyErr_Clear();
                    base_fn = Py_None;
                    Py_INCREF(base_fn);
                }
                int stale = slot_get(base, off_grad_fn) != base_fn;
                Py_DECREF(base_fn);
                if (stale) {
                    Py_XDECREF(PyObject_CallFunctionObjArgs(h_stale_view, (PyObject *)cls, a, NULL));
                    Py_DECREF(edge);
                    goto done;
                }
            }
            if (first == NULL) {
                first = d;
            }
            else {
                int mismatch = Py_TYPE(d) != Py_TYPE(first);
                if (!mismatch && Py_TYPE(d) != ndarray_T) {
                    PyObject *d1 = PyObject_GetAttr(d, s_device);
                    PyObject *d0 = d1 ? PyObject_GetAttr(first, s_device) : NULL;
                    mismatch = d0 ? PyObject_RichCompareBool(d1, d0, Py_NE) : -1;
                    Py_XDECREF(d1);
                    Py_XDECREF(d0);
                    if (mismatch < 0) {
                        Py_DECREF(edge);
                        goto done;
                    }
                }
                if (mismatch) {
                    PyObject *ins = tuple_of(inputs, n);
                    if (ins != NULL) {
                        Py_XDECREF(PyObject_CallFunctionObjArgs(h_device_mismatch, (PyObject *)cls, ins, NULL));
                        Py_DECREF(ins);
                    }
                    Py_DECREF(edge);
                    goto done;
                }
            }
            Py_INCREF(d);
            call[1 + i] = d;
            held = i + 1;
            int rg = truthy(slot_get(a, off_requires_grad));
            if (rg < 0) {
                Py_DECREF(edge);
                goto done;
            }
            if (rg) {
                record = 1;
                Py_DECREF(edge);
                if ((edge = edge_of(a)) == NULL)
                    goto done;
                need = Py_True;
            }
        }
        else {
            Py_INCREF(a);
            call[1 + i] = a;
            held = i + 1;
        }
        PyTuple_SET_ITEM(nexts, i, edge);
        Py_INCREF(need);
        PyTuple_SET_ITEM(needs, i, need);
    }
    for (Py_ssize_t k = 0; k < nkw; k++)
        call[1 + n + k] = args[nargs + k];

    if (first != NULL && raw_arrays_elsewhere(first, inputs, n)) {
        PyObject *ins = tuple_of(inputs, n);
        if (ins != NULL) {
            Py_XDECREF(PyObject_CallFunctionObjArgs(h_device_mismatch, (PyObject *)cls, ins, NULL));
            Py_DECREF(ins);
        }
        goto done;
    }
    if (first != NULL && Py_TYPE(first) != ndarray_T) {  /* a CUDA op: on its tensors' device */
        PyObject *prev = enter_device(first);
        if (prev == NULL)
            goto done;
        out = PyObject_VectorcallMethod(s_forward, call, 1 + n, kwnames);
        if (restore_device(prev) < 0)
            Py_CLEAR(out);
    }
    else {
        out = PyObject_VectorcallMethod(s_forward, call, 1 + n, kwnames);
    }
    if (out == NULL && h_forward_oom != NULL && PyErr_ExceptionMatches(PyExc_MemoryError))
        out = after_oom(h_forward_oom, node, call + 1, n + nkw, kwnames ? kwnames : Py_None);
    if (out == NULL || first == NULL) {  /* no Tensor input: raw arrays out, nothing recorded */
        result = out;
        out = NULL;
        goto done;
    }
    int enabled = record ? grad_enabled() : 0;
    if (enabled < 0)
        goto done;
    if (PyTuple_CheckExact(out)) {
        PyObject *ins = tuple_of(inputs, n);
        if (ins != NULL) {
            result = PyObject_CallMethodObjArgs(node, s_wrap_outputs, out, ins, nexts, needs,
                                                (record && enabled) ? Py_True : Py_False, NULL);
            Py_DECREF(ins);
        }
        goto done;
    }
    if (Py_TYPE(out) != ndarray_T) {  /* a NumPy scalar from a 0-d op (or a CuPy array) */
        PyObject *raw = out;
        out = PyObject_CallOneArg(PyObject_TypeCheck(raw, generic_T) ? np_asarray : h_as_array, raw);
        if (out == NULL) {
            Py_DECREF(raw);
            goto done;
        }
        if (out != raw) {  /* saved the scalar? save the array instead */
            PyObject *saved = node_get(node, off_saved, s_saved);
            if (saved == NULL) {
                Py_DECREF(raw);
                goto done;
            }
            if (saved != Py_None) {
                PyObject *r = PyObject_CallFunctionObjArgs(h_replace, saved, raw, out, NULL);
                int err = r == NULL || node_set(node, off_saved, s_saved, r) < 0;
                Py_XDECREF(r);
                if (err) {
                    Py_DECREF(saved);
                    Py_DECREF(raw);
                    goto done;
                }
            }
            Py_DECREF(saved);
        }
        Py_DECREF(raw);
    }
    int floating = (record && enabled) ? is_float(out) : 0;
    if (floating < 0)
        goto done;
    if (!floating) {
        result = new_tensor(out, Py_None, 0);
        goto done;
    }
    PyObject *seq = PyIter_Next(sequence);
    if (seq == NULL)
        goto done;
    int err = node_set(node, off_next_functions, s_next_functions, nexts) < 0 ||
              node_set(node, off_needs_input_grad, s_needs_input_grad, needs) < 0 ||
              node_set(node, off_sequence_nr, s_sequence_nr, seq) < 0;
    Py_DECREF(seq);
    if (err)
        goto done;
    PyObject *trace = PyObject_GetAttr(Node_cls, s_record_trace);
    if (trace == NULL)
        goto done;
    int on = truthy(trace);
    Py_DECREF(trace);
    if (on < 0)
        goto done;
    if (on) {
        PyObject *r = PyObject_CallMethodNoArgs(node, s_record_stack);
        if (r == NULL)
            goto done;
        Py_DECREF(r);
    }
    PyObject *t = new_tensor(out, node, 1);
    if (t == NULL)
        goto done;
    PyObject *saved = node_get(node, off_saved, s_saved);
    if (saved == NULL || (saved != Py_None && resolve_saved(node, saved, inputs, n, &t, 1) < 0)) {
        Py_XDECREF(saved);
        Py_DECREF(t);
        goto done;
    }
    Py_DECREF(saved);
    result = t;
done:
    for (Py_ssize_t i = 1; i <= held; i++)
        Py_DECREF(call[i]);
    if (call != small)
        PyMem_Free(call);
    Py_XDECREF(out);
    Py_XDECREF(nexts);
    Py_XDECREF(needs);
    Py_XDECREF(node);
    return result;
}

/* A node's saved value changed in place since forward: PyTorch's error. */
static void
raise_modified(PyObject *node, PyObject *saved, PyObject *expected)
{
    PyObject *msg = PyObject_CallFunctionObjArgs(h_modified_message, node, saved, expected, NULL);
    if (msg != NULL) {
        PyErr_SetObject(PyExc_RuntimeError, msg);
        Py_DECREF(msg);
    }
}

/* 1 if the version now differs from the one saved, 0 if not, -1 on error */
static int
changed(PyObject *now, PyObject *expected)
{
    return now == expected ? 0 : PyObject_RichCompareBool(now, expected, Py_NE);
}

/* saved_tensors(node), the Function.saved_tensors property: what forward saved, as raw
 * arrays in a first-order backward and as graph-connected Tensors (for inputs and
 * outputs) under create_graph; checked against in-place changes since. */
static PyObject *
tape_saved_tensors(PyObject *mod, PyObject *node)
{
    if (not_ready())
        return NULL;
    PyObject *freed = node_get(node, off_freed, s_freed);
    if (freed == NULL)
        return NULL;
    int is_freed = truthy(freed);
    Py_DECREF(freed);
    if (is_freed) {
        if (is_freed > 0)
            PyErr_SetObject(PyExc_RuntimeError, second_backward);
        return NULL;
    }
    PyObject *saved = node_get(node, off_saved, s_saved);
    if (saved == NULL)
        return NULL;
    if (saved == Py_None) {  /* forward saved nothing */
        Py_DECREF(saved);
        return PyList_New(0);
    }
    PyObject *seq = PySequence_Fast(saved, "saved values must be a sequence");
    Py_DECREF(saved);
    if (seq == NULL)
        return NULL;
    int graph = grad_enabled();  /* on in a create_graph backward */
    Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
    PyObject *out = graph < 0 ? NULL : PyList_New(m);
    if (out == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    for (Py_ssize_t j = 0; j < m; j++) {
        PyObject *s = PySequence_Fast_GET_ITEM(seq, j), *item = NULL;
        if (PyTuple_CheckExact(s) && PyTuple_GET_SIZE(s) == 2) {  /* (input, its version) */
            PyObject *t = PyTuple_GET_ITEM(s, 0), *expected = PyTuple_GET_ITEM(s, 1);
            PyObject *now = version_of(t);
            int c = now == NULL ? -1 : changed(now, expected);
            Py_XDECREF(now);
            if (c) {
                if (c > 0)
                    raise_modified(node, t, expected);
                goto fail;
            }
            item = graph ? t : slot_get(t, off_data);
            Py_INCREF(item);
        }
        else if ((PyObject *)Py_TYPE(s) == h_saved_output) {  /* an output */
            PyObject *array = PyObject_GetAttr(s, s_array);
            PyObject *counter = array ? PyObject_GetAttr(s, s_version) : NULL;
            PyObject *expected = counter ? PyObject_GetAttr(s, s_expected) : NULL;
            PyObject *now = expected ? PySequence_GetItem(counter, 0) : NULL;
            int c = now == NULL ? -1 : changed(now, expected);
            if (c > 0)
                raise_modified(node, s, expected);
            Py_XDECREF(counter);
            Py_XDECREF(expected);
            Py_XDECREF(now);
            if (c) {
                Py_XDECREF(array);
                goto fail;
            }
            if (graph) {
                PyObject *index = PyObject_GetAttr(s, s_index);
                item = index ? new_tensor(array, node, 1) : NULL;
                if (item != NULL)
                    slot_set(item, off_output_nr, index);
                Py_XDECREF(index);
                Py_DECREF(array);
                if (item == NULL)
                    goto fail;
            }
            else {
                item = array;
            }
        }
        else if (graph && PyObject_HasAttr(s, s_dtype) && PyObject_HasAttr(s, s_shape)) {
            PyObject *arr = PyObject_CallOneArg(h_as_array, s);  /* a constant array */
            item = arr ? new_tensor(arr, Py_None, 0) : NULL;
            Py_XDECREF(arr);
            if (item == NULL)
                goto fail;
        }
        else {
            item = s;
            Py_INCREF(item);
        }
        PyList_SET_ITEM(out, j, item);
    }
    Py_DECREF(seq);
    return out;
fail:
    Py_DECREF(seq);
    Py_DECREF(out);
    return NULL;
}

/* ---------------------------------------------------------------- replaying (the engine) */

typedef struct {
    long long key;  /* the node's sequence number */
    PyObject *node; /* a reference */
} entry;

typedef struct {
    entry *items;
    Py_ssize_t n, cap;
} heap;

static int
heap_push(heap *h, PyObject *node)
{
    PyObject *s = node_get(node, off_sequence_nr, s_sequence_nr);
    if (s == NULL)
        return -1;
    long long key = PyLong_AsLongLong(s);
    Py_DECREF(s);
    if (key == -1 && PyErr_Occurred())
        return -1;
    if (h->n == h->cap) {
        Py_ssize_t cap = h->cap ? 2 * h->cap : 64;
        entry *items = PyMem_Realloc(h->items, sizeof(entry) * cap);
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        h->items = items;
        h->cap = cap;
    }
    Py_ssize_t i = h->n++;
    while (i > 0) {  /* sift up: the newest (largest sequence number) on top */
        Py_ssize_t parent = (i - 1) / 2;
        if (h->items[parent].key >= key)
            break;
        h->items[i] = h->items[parent];
        i = parent;
    }
    Py_INCREF(node);
    h->items[i].key = key;
    h->items[i].node = node;
    return 0;
}

static PyObject *
heap_pop(heap *h)  /* a new reference */
{
    PyObject *top = h->items[0].node;
    entry last = h->items[--h->n];
    Py_ssize_t i = 0;
    for (;;) {
        Py_ssize_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->items[c + 1].key > h->items[c].key)
            c++;
        if (h->items[c].key <= last.key)
            break;
        h->items[i] = h->items[c];
        i = c;
    }
    if (h->n > 0)
        h->items[i] = last;
    return top;
}

static void
heap_clear(heap *h)
{
    for (Py_ssize_t i = 0; i < h->n; i++)
        Py_DECREF(h->items[i].node);
    PyMem_Free(h->items);
}

/* 1 if the array held in a table (one reference) is seen by nobody else, so a gradient can
 * be summed into it in place: a NumPy or CuPy array, not a view, with no other reference.
 * `refs`: the references the caller knows of. */
static int
sole_owner(PyObject *a, Py_ssize_t refs)
{
    if (Py_TYPE(a) != ndarray_T) {
        int dev = is_device_array(a);
        if (dev <= 0)
            return dev;
    }
    if (Py_REFCNT(a) != refs)
        return 0;
    PyObject *base = PyObject_GetAttr(a, s_base);
    if (base == NULL)
        return -1;
    int no_base = base == Py_None;
    Py_DECREF(base);
    return no_base;
}

/* a += g: for host arrays the execution layer's (backend/_host_arith.c: NumPy's sums, a
 * large array split across the host threads), else the in-place operator's. A new
 * reference to the result. */
static PyObject *
in_place_add(PyObject *a, PyObject *g)
{
    if (host.add_into != NULL && Py_TYPE(a) == ndarray_T) {
        PyObject *r = host.add_into(a, g);
        if (r != Py_NotImplemented)
            return r;
        Py_DECREF(r);
    }
    return PyNumber_InPlaceAdd(a, g);
}

/* prev + g, where a table's entry (one reference) holds prev: summed into prev itself
 * when nobody else sees it (see sole_owner), else a new array; a CUDA sum runs on prev's
 * device (the loop's current device is the outputs'). A new reference. */
static PyObject *
summed(PyObject *prev, PyObject *g)
{
    int sole = sole_owner(prev, 1);
    if (sole < 0)
        return NULL;
    PyObject *dev = NULL;
    if (Py_TYPE(prev) != ndarray_T) {
        int cuda = sole ? 1 : is_device_array(prev);
        if (cuda < 0)
            return NULL;
        if (cuda && (dev = enter_device(prev)) == NULL)
            return NULL;
    }
    PyObject *r = sole ? in_place_add(prev, g) : PyNumber_Add(prev, g);
    if (restore_device(dev) < 0)
        Py_CLEAR(r);
    return r;
}

/* table[key] += g (see summed) */
static int
add_into_dict(PyObject *table, PyObject *key, PyObject *g)
{
    PyObject *prev = PyDict_GetItemWithError(table, key);
    if (prev == NULL)
        return PyErr_Occurred() ? -1 : PyDict_SetItem(table, key, g);
    PyObject *sum = summed(prev, g);
    if (sum == NULL)
        return -1;
    int r = PyDict_SetItem(table, key, sum);
    Py_DECREF(sum);
    return r;
}

static Py_ssize_t
n_outputs(PyObject *node)
{
    PyObject *v = node_get(node, off_n_outputs, s_n_outputs);
    if (v == NULL)
        return -1;
    Py_ssize_t n = PyLong_AsSsize_t(v);
    Py_DECREF(v);
    return n;
}

static int
capture(PyObject *captures, PyObject *results, PyObject *node, Py_ssize_t nr, PyObject *g,
        int *found)
{
    PyObject *nr_obj = PyLong_FromSsize_t(nr);
    if (nr_obj == NULL)
        return -1;
    PyObject *key = PyTuple_Pack(2, node, nr_obj);
    Py_DECREF(nr_obj);
    if (key == NULL)
        return -1;
    PyObject *ks = PyDict_GetItemWithError(captures, key);
    Py_DECREF(key);
    if (found)
        *found = ks != NULL;
    if (ks == NULL)
        return PyErr_Occurred() ? -1 : 0;
    PyObject *seq = PySequence_Fast(ks, "captures");
    if (seq == NULL)
        return -1;
    for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(seq); j++) {
        Py_ssize_t k = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(seq, j));
        if (k == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return -1;
        }
        Py_INCREF(g);
        if (PyList_SetItem(results, k, g) < 0) {
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

/* What the loop does with the leaves' gradients (engine.py, "A leaf's gradient"). */
typedef struct {
    PyObject *grads;     /* {AccumulateGrad: the sum of its gradients so far} */
    PyObject *deps;      /* None, or {AccumulateGrad: edges still to send to it}: a leaf
                          * whose count reaches 0 is applied as soon as the node that sent
                          * the last edge has let go of its gradients (after_node) */
    PyObject *ready;     /* with deps: the leaves whose count has reached 0, to apply */
    PyObject *after_each_node;  /* None, or called with no arguments after each node */
    PyObject *captures, *results;
    int accumulate, create_graph;
} leaves;

static int apply_leaf(leaves *lv, PyObject *acc, PyObject *g);

/* An edge into leaf `acc` has been sent (g: its gradient, or None). With dependency counts,
 * the leaf whose last edge this was joins lv->ready. */
static int
leaf_edge_sent(leaves *lv, PyObject *acc, PyObject *g)
{
    if (g != Py_None && add_into_dict(lv->grads, acc, g) < 0)
        return -1;
    if (lv->deps == Py_None)
        return 0;
    PyObject *n = PyDict_GetItemWithError(lv->deps, acc);
    if (n == NULL)
        return PyErr_Occurred() ? -1 : 0;
    Py_ssize_t left = PyLong_AsSsize_t(n) - 1;
    if (left == -2 && PyErr_Occurred())
        return -1;
    if (left > 0) {
        PyObject *v = PyLong_FromSsize_t(left);
        int r = v == NULL ? -1 : PyDict_SetItem(lv->deps, acc, v);
        Py_XDECREF(v);
        return r;
    }
    if (PyDict_DelItem(lv->deps, acc) < 0)
        return -1;
    return PyList_Append(lv->ready, acc);
}

/* After a node (with dependency counts): the leaves in lv->ready applied (each with all its
 * gradients, summed), then after_each_node called (it runs their post-accumulate hooks, and lets
 * communication that overlaps the backward make progress). Run once the node has dropped
 * its gradients, so that a gradient only the table holds is adopted as .grad, no copy. */
static int
after_node(leaves *lv)
{
    Py_ssize_t n = PyList_GET_SIZE(lv->ready);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *acc = PyList_GET_ITEM(lv->ready, i);
        PyObject *sum = PyDict_GetItemWithError(lv->grads, acc);
        if (sum == NULL) {
            if (PyErr_Occurred())
                return -1;
            continue;  /* every edge sent None: no gradient */
        }
        Py_INCREF(sum);
        if (PyDict_DelItem(lv->grads, acc) < 0) {
            Py_DECREF(sum);
            return -1;
        }
        if (apply_leaf(lv, acc, sum) < 0)  /* (steals sum) */
            return -1;
    }
    if (PyList_SetSlice(lv->ready, 0, n, NULL) < 0)
        return -1;
    if (lv->after_each_node == Py_None)
        return 0;
    PyObject *r = PyObject_CallNoArgs(lv->after_each_node);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* One node's gradients flow to the nodes it came from. */
static int
send_grads(PyObject *node, PyObject *in_grads, PyObject *buffers, leaves *lv,
           PyObject *needed, heap *h)
{
    PyObject *nexts = node_get(node, off_next_functions, s_next_functions);
    if (nexts == NULL)
        return -1;
    PyObject *nseq = PySequence_Fast(nexts, "next_functions");
    Py_DECREF(nexts);
    if (nseq == NULL)
        return -1;
    Py_ssize_t m = PySequence_Fast_GET_SIZE(nseq);
    if (PyTuple_GET_SIZE(in_grads) < m)
        m = PyTuple_GET_SIZE(in_grads);
    int rc = -1;
    for (Py_ssize_t i = 0; i < m; i++) {
        PyObject *g = PyTuple_GET_ITEM(in_grads, i);
        PyObject *edge = PySequence_Fast_GET_ITEM(nseq, i);
        if (g == Py_None && lv->deps == Py_None)
            continue;
        if (!PyTuple_Check(edge) || PyTuple_GET_SIZE(edge) != 2) {
            PyErr_SetString(PyExc_TypeError, "next_functions entries are (node, output_nr)");
            goto out;
        }
        PyObject *fn = PyTuple_GET_ITEM(edge, 0);
        if (fn == Py_None)
            continue;
        if (Py_TYPE(fn) == Accumulate_T) {  /* leaves are sinks: summed here, applied when done */
            if (leaf_edge_sent(lv, fn, g) < 0)
                goto out;
            continue;
        }
        if (g == Py_None)
            continue;
        Py_ssize_t nr = PyLong_AsSsize_t(PyTuple_GET_ITEM(edge, 1));
        if (nr == -1 && PyErr_Occurred())
            goto out;
        PyObject *buf = PyDict_GetItemWithError(buffers, fn);
        if (buf == NULL) {
            if (PyErr_Occurred())
                goto out;
            if (needed != Py_None) {
                int c = PySet_Contains(needed, fn);
                if (c < 0)
                    goto out;
                if (!c)
                    continue;
            }
            Py_ssize_t k = n_outputs(fn);
            if (k < 0 && PyErr_Occurred())
                goto out;
            if (nr < 0 || nr >= k) {
                PyErr_Format(PyExc_IndexError, "output %zd of a node with %zd outputs", nr, k);
                goto out;
            }
            buf = PyList_New(k);
            if (buf == NULL)
                goto out;
            for (Py_ssize_t j = 0; j < k; j++) {
                PyObject *v = j == nr ? g : Py_None;
                Py_INCREF(v);
                PyList_SET_ITEM(buf, j, v);
            }
            int err = PyDict_SetItem(buffers, fn, buf) < 0 || heap_push(h, fn) < 0;
            Py_DECREF(buf);
            if (err)
                goto out;
            continue;
        }
        if (!PyList_Check(buf) || nr < 0 || nr >= PyList_GET_SIZE(buf)) {
            PyErr_SetString(PyExc_IndexError, "gradient buffer index out of range");
            goto out;
        }
        PyObject *prev = PyList_GET_ITEM(buf, nr);
        if (prev == Py_None) {
            Py_INCREF(g);
            PyList_SetItem(buf, nr, g);
            continue;
        }
        PyObject *sum = summed(prev, g);
        if (sum == NULL)
            goto out;
        PyList_SetItem(buf, nr, sum);  /* (steals; prev itself when summed in place) */
    }
    rc = 0;
out:
    Py_DECREF(nseq);
    return rc;
}

/* Work on a CUDA array runs on the array's device: enter_device(arr) makes it current and
 * returns the device to restore afterwards (None when it already was current); see
 * backend.enter_device_of. NumPy arrays never get here (one type test on the CPU path). */
static PyObject *
enter_device(PyObject *arr)
{
    if (arr == NULL || Py_TYPE(arr) == ndarray_T) {
        Py_INCREF(Py_None);
        return Py_None;
    }
    return PyObject_CallOneArg(h_enter_device, arr);
}

/* Restores the device enter_device left (steals `prev`); keeps a pending exception. */
static int
restore_device(PyObject *prev)
{
    if (prev == NULL || prev == Py_None) {
        Py_XDECREF(prev);
        return 0;
    }
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *r = PyObject_CallOneArg(h_restore_device, prev);
    Py_DECREF(prev);
    if (et != NULL) {
        Py_XDECREF(r);
        PyErr_Clear();
        PyErr_Restore(et, ev, tb);
        return -1;
    }
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

static PyObject *call_backward_here(PyObject *node, PyObject *grads, int create_graph);

/* node.backward(*grads), on the device of its first CUDA gradient */
static PyObject *
call_backward(PyObject *node, PyObject *grads, int create_graph)
{
    PyObject *arr = NULL;
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(grads); j++) {
        PyObject *g = PyList_GET_ITEM(grads, j);
        if (g != Py_None) {
            arr = PyObject_TypeCheck(g, Tensor_T) ? SLOT(g, off_data) : g;
            break;
        }
    }
    if (arr == NULL || Py_TYPE(arr) == ndarray_T || PyObject_TypeCheck(arr, generic_T) ||
        PyFloat_Check(arr))  /* (NumPy scalars and numbers: host values) */
        return call_backward_here(node, grads, create_graph);
    PyObject *prev = enter_device(arr);
    if (prev == NULL)
        return NULL;
    PyObject *r = call_backward_here(node, grads, create_graph);
    if (restore_device(prev) < 0)
        Py_CLEAR(r);
    return r;
}

static PyObject *
call_backward_here(PyObject *node, PyObject *grads, int create_graph)
{
    Py_ssize_t k = n_outputs(node);
    if (k < 0 && PyErr_Occurred())
        return NULL;
    if (k == 1 && PyList_GET_SIZE(grads) == 1) {
        PyObject *g = PyList_GET_ITEM(grads, 0);
        int kind = create_graph ? 0 : host_op_kind(Py_TYPE(node));
        if (kind) {
            PyObject *r = (kind <= BIN_DIV || kind == BIN_SQUARE) ? binary_backward(node, kind, g)
                                          : reduce_backward(node, kind, g);
            if (r != FALLBACK)
                return r;
        }
        return PyObject_CallMethodOneArg(node, s_backward, g);
    }
    PyObject *full = PyObject_CallFunctionObjArgs(h_materialize, node, grads, NULL);
    if (full == NULL)
        return NULL;
    PyObject *seq = PySequence_Fast(full, "gradients");
    Py_DECREF(full);
    if (seq == NULL)
        return NULL;
    Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
    PyObject **call = PyMem_Malloc(sizeof(PyObject *) * (m + 1));
    if (call == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    call[0] = node;
    for (Py_ssize_t j = 0; j < m; j++)
        call[1 + j] = PySequence_Fast_GET_ITEM(seq, j);
    PyObject *r = PyObject_VectorcallMethod(s_backward, call, 1 + m, NULL);
    PyMem_Free(call);
    Py_DECREF(seq);
    return r;
}

/* 1 if the attribute `name` of a and b is equal, 0 if not, -1 on error */
static int
same_attr(PyObject *a, PyObject *b, PyObject *name)
{
    PyObject *x = PyObject_GetAttr(a, name);
    if (x == NULL)
        return -1;
    PyObject *y = PyObject_GetAttr(b, name);
    if (y == NULL) {
        Py_DECREF(x);
        return -1;
    }
    int r = x == y ? 1 : PyObject_RichCompareBool(x, y, Py_EQ);
    Py_DECREF(x);
    Py_DECREF(y);
    return r;
}

/* A leaf's first-order gradient `g` (the caller's reference) into t.grad, in the two
 * common cases: the first gradient, adopted when nothing else can see it and it has the
 * leaf's dtype and shape; or added in place into an existing .grad that does not require
 * grad. 1 if done, 0 if Tensor._accumulate must do it, -1 on error. */
static int
accumulate_fast(PyObject *t, PyObject *g)
{
    PyObject *grad = slot_get(t, off_grad);
    if (grad == Py_None) {
        int owned = sole_owner(g, 1);
        if (owned <= 0)
            return owned;
        PyObject *d = slot_get(t, off_data);
        int same = same_attr(g, d, s_dtype);
        if (same == 1)
            same = same_attr(g, d, s_shape);
        if (same <= 0)
            return same;
        PyObject *w = new_tensor(g, Py_None, 0);
        if (w == NULL)
            return -1;
        slot_set(t, off_grad, w);
        Py_DECREF(w);
        return 1;
    }
    if (!PyObject_TypeCheck(grad, Tensor_T))
        return 0;
    int rg = truthy(slot_get(grad, off_requires_grad));
    if (rg != 0)
        return rg < 0 ? -1 : 0;
    Py_INCREF(grad);
    PyObject *data = slot_get(grad, off_data);
    PyObject *dev = enter_device(data);  /* (a CUDA .grad is added into on its device) */
    if (dev == NULL) {
        Py_DECREF(grad);
        return -1;
    }
    PyObject *sum = in_place_add(data, g);
    if (restore_device(dev) < 0)
        Py_CLEAR(sum);
    int rc = -1;
    if (sum != NULL) {
        slot_set(grad, off_data, sum);
        Py_DECREF(sum);
        rc = bump_version(grad) < 0 ? -1 : 1;
    }
    Py_DECREF(grad);
    return rc;
}

/* One leaf's summed gradient `g` (stolen): its hooks, captures, then into .grad. */
static int
apply_leaf(leaves *lv, PyObject *acc, PyObject *g)
{
    PyObject *hooks = PyObject_GetAttr(acc, s_pre_hooks);
    if (hooks == NULL) {
        Py_DECREF(g);
        return -1;
    }
    if (hooks != Py_None) {
        Py_DECREF(hooks);
        PyObject *lst = PyList_New(1);
        if (lst == NULL) {
            Py_DECREF(g);
            return -1;
        }
        PyList_SET_ITEM(lst, 0, g);  /* steals */
        PyObject *r = PyObject_CallFunctionObjArgs(h_run_hooks, acc, lst,
                                                   lv->create_graph ? Py_True : Py_False, NULL);
        Py_DECREF(lst);
        if (r == NULL)
            return -1;
        g = PySequence_GetItem(r, 0);
        Py_DECREF(r);
        if (g == NULL)
            return -1;
    }
    else {
        Py_DECREF(hooks);
    }
    if (lv->captures != Py_None) {
        int found;
        if (capture(lv->captures, lv->results, acc, 0, g, &found) < 0) {
            Py_DECREF(g);
            return -1;
        }
        if (!found) {
            Py_DECREF(g);
            return 0;
        }
    }
    if (!lv->accumulate) {
        Py_DECREF(g);
        return 0;
    }
    PyObject *ref = PyObject_GetAttr(acc, s_ref);
    PyObject *t = ref ? PyObject_CallNoArgs(ref) : NULL;
    Py_XDECREF(ref);
    if (t == NULL) {
        Py_DECREF(g);
        return -1;
    }
    if (t == Py_None) {  /* a leaf nobody holds any more: its gradient goes nowhere */
        Py_DECREF(t);
        Py_DECREF(g);
        return 0;
    }
    int done = lv->create_graph ? 0 : accumulate_fast(t, g);
    PyObject *r = NULL;
    if (done == 0)
        r = PyObject_CallMethodObjArgs(t, s_accumulate, g,
                                       lv->create_graph ? Py_True : Py_False, NULL);
    else if (done == 1)
        r = Py_NewRef(Py_None);
    Py_DECREF(t);
    Py_DECREF(g);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* The leaves not applied during the loop, at its end. */
static int
apply_leaf_grads(leaves *lv)
{
    PyObject *accs = PyDict_Keys(lv->grads);
    if (accs == NULL)
        return -1;
    int rc = -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(accs); i++) {
        PyObject *acc = PyList_GET_ITEM(accs, i);
        PyObject *g = PyDict_GetItemWithError(lv->grads, acc);
        if (g == NULL)
            goto out;
        Py_INCREF(g);
        if (PyDict_DelItem(lv->grads, acc) < 0) {
            Py_DECREF(g);
            goto out;
        }
        if (apply_leaf(lv, acc, g) < 0)
            goto out;
    }
    rc = 0;
out:
    Py_DECREF(accs);
    return rc;
}

static PyObject *run_loop(PyObject *const *args);  /* the 12 arguments, checked */

/* backward_loop(roots, buffers, leaf_grads, captures, needed, results, retain_graph,
 *               create_graph, accumulate, anomaly, leaf_deps, after_each_node)
 * Runs the nodes in `roots` and all they lead to, newest first (see engine.py), with grad
 * mode set to create_graph (backward's own ops are recorded only then) and restored after. */
static PyObject *
tape_backward_loop(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (not_ready())
        return NULL;
    if (nargs != 12) {
        PyErr_SetString(PyExc_TypeError, "backward_loop takes 12 arguments");
        return NULL;
    }
    int create_graph = truthy(args[7]);
    if (create_graph < 0)
        return NULL;
    PyObject *prev = PyObject_GetAttr(grad_state, s_enabled);
    if (prev == NULL)
        return NULL;
    if (PyObject_SetAttr(grad_state, s_enabled, create_graph ? Py_True : Py_False) < 0) {
        Py_DECREF(prev);
        return NULL;
    }
    PyObject *r = run_loop(args);
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);  /* restoring grad mode must not lose the error */
    int err = PyObject_SetAttr(grad_state, s_enabled, prev);
    Py_DECREF(prev);
    if (err < 0) {
        Py_XDECREF(r);
        r = NULL;
        if (type != NULL) {  /* the loop's own error is the one to report */
            PyErr_Clear();
            PyErr_Restore(type, value, tb);
        }
        return NULL;
    }
    PyErr_Restore(type, value, tb);
    return r;
}

static PyObject *
run_loop(PyObject *const *args)
{
    PyObject *roots = args[0], *buffers = args[1], *leaf_grads = args[2], *captures = args[3],
             *needed = args[4], *results = args[5];
    int retain_graph = truthy(args[6]), create_graph = truthy(args[7]),
        accumulate = truthy(args[8]), anomaly = truthy(args[9]);
    if (retain_graph < 0 || create_graph < 0 || accumulate < 0 || anomaly < 0)
        return NULL;
    leaves lv = {leaf_grads, args[10], NULL, args[11], captures, results, accumulate, create_graph};
    if (!PyDict_Check(buffers) || !PyDict_Check(leaf_grads) ||
        (lv.deps != Py_None && !PyDict_Check(lv.deps)) ||
        (captures != Py_None && !PyDict_Check(captures)) ||
        (results != Py_None && !PyList_Check(results))) {
        PyErr_SetString(PyExc_TypeError, "backward_loop: bad argument types");
        return NULL;
    }
    if (lv.deps != Py_None && (lv.ready = PyList_New(0)) == NULL)
        return NULL;
    heap h = {NULL, 0, 0};
    PyObject *rseq = PySequence_Fast(roots, "roots");
    if (rseq == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(rseq); i++) {
        if (heap_push(&h, PySequence_Fast_GET_ITEM(rseq, i)) < 0) {
            Py_DECREF(rseq);
            heap_clear(&h);
            return NULL;
        }
    }
    Py_DECREF(rseq);

    while (h.n > 0) {
        PyObject *node = heap_pop(&h);
        PyObject *grads = PyDict_GetItemWithError(buffers, node);
        if (grads == NULL) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_KeyError, "a node without gradients on the heap");
            Py_DECREF(node);
            goto fail;
        }
        Py_INCREF(grads);
        if (PyDict_DelItem(buffers, node) < 0)
            goto fail_node;
        PyObject *hooks = node_get(node, off_pre_hooks, s_pre_hooks);
        if (hooks == NULL)
            goto fail_node;
        if (hooks != Py_None) {
            PyObject *r = PyObject_CallFunctionObjArgs(h_run_hooks, node, grads,
                                                       create_graph ? Py_True : Py_False, NULL);
            Py_DECREF(hooks);
            if (r == NULL)
                goto fail_node;
            Py_SETREF(grads, r);
            if (!PyList_Check(grads)) {
                PyErr_SetString(PyExc_TypeError, "hooks must give a list of gradients");
                goto fail_node;
            }
        }
        else {
            Py_DECREF(hooks);
        }
        if (captures != Py_None) {  /* autograd.grad, or backward(inputs=...) */
            for (Py_ssize_t nr = 0; nr < PyList_GET_SIZE(grads); nr++)
                if (capture(captures, results, node, nr, PyList_GET_ITEM(grads, nr), NULL) < 0)
                    goto fail_node;
            int c = PySet_Contains(needed, node);
            if (c < 0)
                goto fail_node;
            if (!c) {
                Py_DECREF(grads);
                Py_DECREF(node);
                continue;
            }
        }
        PyObject *in_grads = call_backward(node, grads, create_graph);
        if (in_grads == NULL && h_backward_oom != NULL && PyErr_ExceptionMatches(PyExc_MemoryError))
            in_grads = after_oom(h_backward_oom, node, PySequence_Fast_ITEMS(grads),
                                 PyList_GET_SIZE(grads), create_graph ? Py_True : Py_False);
        Py_DECREF(grads);
        grads = NULL;
        if (in_grads == NULL)
            goto fail_node;
        if (!retain_graph) {
            if (node_set(node, off_saved, s_saved, Py_None) < 0 ||
                node_set(node, off_freed, s_freed, Py_True) < 0) {
                Py_DECREF(in_grads);
                goto fail_node;
            }
        }
        if (!PyTuple_Check(in_grads)) {
            PyObject *t = PyTuple_Pack(1, in_grads);
            Py_DECREF(in_grads);
            if (t == NULL)
                goto fail_node;
            in_grads = t;
        }
        if (anomaly) {
            PyObject *r = PyObject_CallFunctionObjArgs(h_check_anomaly, node, in_grads, NULL);
            if (r == NULL) {
                Py_DECREF(in_grads);
                goto fail_node;
            }
            Py_DECREF(r);
        }
        int err = send_grads(node, in_grads, buffers, &lv, needed, &h);
        Py_DECREF(in_grads);
        Py_DECREF(node);
        if (err < 0 || (lv.ready != NULL && after_node(&lv) < 0))
            goto fail;
        continue;
    fail_node:
        Py_XDECREF(grads);
        Py_DECREF(node);
        goto fail;
    }
    PyMem_Free(h.items);
    Py_XDECREF(lv.ready);
    if (apply_leaf_grads(&lv) < 0)
        return NULL;
    Py_RETURN_NONE;
fail:
    heap_clear(&h);
    Py_XDECREF(lv.ready);
    return NULL;
}

/* backward_scalar(t, retain_graph, anomaly): the common loss.backward(), from a 0-d tensor
 * with a grad_fn, seeded with 1 (on a CUDA tensor's device, which is current while the loop
 * runs, as run_backward does). True if it ran; False (nothing done) for anything else,
 * which engine.run_backward sets up in Python. */
static PyObject *
tape_backward_scalar(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (not_ready())
        return NULL;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "backward_scalar(t, retain_graph, anomaly)");
        return NULL;
    }
    PyObject *t = args[0];
    if (!PyObject_TypeCheck(t, Tensor_T))
        Py_RETURN_FALSE;
    PyObject *d = slot_get(t, off_data), *fn = slot_get(t, off_grad_fn);
    if (fn == Py_None || slot_get(t, off_requires_grad) != Py_True)
        Py_RETURN_FALSE;
    int host = Py_TYPE(d) == ndarray_T;
    if (!host) {
        int cuda = is_device_array(d);
        if (cuda <= 0)
            return cuda < 0 ? NULL : Py_NewRef(Py_False);
    }
    PyObject *nd = PyObject_GetAttr(d, s_ndim);
    if (nd == NULL)
        return NULL;
    long ndim = PyLong_AsLong(nd);
    Py_DECREF(nd);
    if (ndim == -1 && PyErr_Occurred())
        return NULL;
    if (ndim != 0)
        Py_RETURN_FALSE;
    Py_ssize_t k = n_outputs(fn);
    Py_ssize_t nr = PyLong_AsSsize_t(slot_get(t, off_output_nr));
    if ((k < 0 || nr < 0) && PyErr_Occurred())
        return NULL;
    if (nr >= k) {
        PyErr_SetString(PyExc_IndexError, "a tensor's output_nr is out of its node's range");
        return NULL;
    }
    PyObject *seed;
    if (host) {
        PyObject *dtype = PyObject_GetAttr(d, s_dtype);
        seed = dtype ? PyObject_CallFunctionObjArgs(np_asarray, one, dtype, NULL) : NULL;
        Py_XDECREF(dtype);
    }
    else {
        seed = PyObject_CallOneArg(h_seed_like, d);
    }
    if (seed == NULL)
        return NULL;
    PyObject *buf = PyList_New(k), *roots = NULL, *buffers = NULL, *leaf_grads = NULL, *r = NULL;
    if (buf == NULL) {
        Py_DECREF(seed);
        return NULL;
    }
    for (Py_ssize_t j = 0; j < k; j++) {
        PyObject *v = j == nr ? seed : Py_None;
        Py_INCREF(v);
        PyList_SET_ITEM(buf, j, v);
    }
    Py_DECREF(seed);  /* the buffer holds it alone: a leaf may adopt it */
    roots = PyList_New(1);
    buffers = PyDict_New();
    leaf_grads = PyDict_New();
    if (roots == NULL || buffers == NULL || leaf_grads == NULL || PyDict_SetItem(buffers, fn, buf) < 0)
        goto done;
    Py_INCREF(fn);
    PyList_SET_ITEM(roots, 0, fn);
    Py_CLEAR(buf);
    PyObject *call[12] = {roots, buffers, leaf_grads, Py_None, Py_None, Py_None,
                          args[1], Py_False, Py_True, args[2], Py_None, Py_None};
    PyObject *dev = enter_device(d);
    if (dev == NULL)
        goto done;
    r = tape_backward_loop(mod, call, 12);
    if (restore_device(dev) < 0)
        Py_CLEAR(r);
    if (r != NULL) {
        Py_DECREF(r);
        r = Py_NewRef(Py_True);
    }
done:
    Py_XDECREF(buf);
    Py_XDECREF(roots);
    Py_XDECREF(buffers);
    Py_XDECREF(leaf_grads);
    return r;
}

/* ---------------------------------------------------------------- setup */

static int
intern(PyObject **s, const char *text)
{
    *s = PyUnicode_InternFromString(text);
    return *s ? 0 : -1;
}

static int
keep(PyObject **slot, PyObject *kw, const char *name)
{
    PyObject *v = PyDict_GetItemString(kw, name);
    if (v == NULL) {
        PyErr_Format(PyExc_TypeError, "_tape.setup: missing %s", name);
        return -1;
    }
    Py_INCREF(v);
    Py_XSETREF(*slot, v);
    return 0;
}

/* setup(**objects): the classes, state and helpers the loops need (see tensor.py). */
static PyObject *
tape_setup(PyObject *mod, PyObject *args, PyObject *kw)
{
    if (kw == NULL || PyTuple_GET_SIZE(args) != 0) {
        PyErr_SetString(PyExc_TypeError, "setup takes keyword arguments only");
        return NULL;
    }
    PyObject *tensor = NULL, *acc = NULL, *ndarray = NULL, *generic = NULL;
    if (keep(&tensor, kw, "Tensor") < 0 || keep(&acc, kw, "AccumulateGrad") < 0 ||
        keep(&ndarray, kw, "ndarray") < 0 || keep(&generic, kw, "generic") < 0 ||
        keep(&np_asarray, kw, "asarray") < 0 || keep(&Node_cls, kw, "Node") < 0 ||
        keep(&grad_state, kw, "grad_state") < 0 || keep(&sequence, kw, "sequence") < 0 ||
        keep(&no_edge, kw, "no_edge") < 0 ||
        keep(&h_device_mismatch, kw, "raise_device_mismatch") < 0 ||
        keep(&h_stale_view, kw, "raise_stale_view") < 0 || keep(&h_as_array, kw, "as_array") < 0 ||
        keep(&h_replace, kw, "replace") < 0 || keep(&h_saved_output, kw, "SavedOutput") < 0 ||
        keep(&h_run_hooks, kw, "run_hooks") < 0 ||
        keep(&h_materialize, kw, "materialize") < 0 ||
        keep(&h_check_anomaly, kw, "check_anomaly") < 0 ||
        keep(&h_modified_message, kw, "modified_message") < 0 ||
        keep(&h_enter_device, kw, "enter_device") < 0 ||
        keep(&h_restore_device, kw, "restore_device") < 0 ||
        keep(&h_is_device_array, kw, "is_device_array") < 0 ||
        keep(&h_seed_like, kw, "seed_like") < 0 ||
        keep(&second_backward, kw, "second_backward") < 0)
        goto fail;
    if (!PyType_Check(tensor) || !PyType_Check(acc) || !PyType_Check(ndarray) ||
        !PyType_Check(generic)) {
        PyErr_SetString(PyExc_TypeError, "_tape.setup: Tensor, AccumulateGrad, ndarray are classes");
        goto fail;
    }
    if (slot_offset(tensor, "_data", &off_data) < 0 ||
        slot_offset(tensor, "_requires_grad", &off_requires_grad) < 0 ||
        slot_offset(tensor, "_grad_fn", &off_grad_fn) < 0 ||
        slot_offset(tensor, "_output_nr", &off_output_nr) < 0 ||
        slot_offset(tensor, "_grad", &off_grad) < 0 ||
        slot_offset(tensor, "_version", &off_version) < 0 ||
        slot_offset(tensor, "_hooks", &off_hooks) < 0 ||
        slot_offset(tensor, "_accumulator", &off_accumulator) < 0 ||
        slot_offset(tensor, "_retains_grad", &off_retains_grad) < 0 ||
        slot_offset(tensor, "_base", &off_base) < 0 ||
        slot_offset(Node_cls, "next_functions", &off_next_functions) < 0 ||
        slot_offset(Node_cls, "needs_input_grad", &off_needs_input_grad) < 0 ||
        slot_offset(Node_cls, "sequence_nr", &off_sequence_nr) < 0 ||
        slot_offset(Node_cls, "_saved", &off_saved) < 0 ||
        slot_offset(Node_cls, "_freed", &off_freed) < 0 ||
        slot_offset(Node_cls, "_pre_hooks", &off_pre_hooks) < 0 ||
        slot_offset(Node_cls, "_n_outputs", &off_n_outputs) < 0)
        goto fail;
    if (!PyType_Check(Node_cls)) {
        PyErr_SetString(PyExc_TypeError, "_tape.setup: Node is a class");
        goto fail;
    }
    Node_T = (PyTypeObject *)Node_cls;
    Py_XSETREF(Tensor_T, (PyTypeObject *)tensor);
    Py_XSETREF(Accumulate_T, (PyTypeObject *)acc);
    Py_XSETREF(ndarray_T, (PyTypeObject *)ndarray);
    Py_XSETREF(generic_T, (PyTypeObject *)generic);
    if (zero == NULL && (zero = PyLong_FromLong(0)) == NULL)
        return NULL;
    if (one == NULL && (one = PyLong_FromLong(1)) == NULL)
        return NULL;
    if (float_dtypes == NULL && (float_dtypes = PySet_New(NULL)) == NULL)
        return NULL;
    ready = 1;
    Py_RETURN_NONE;
fail:
    Py_XDECREF(tensor);
    Py_XDECREF(acc);
    Py_XDECREF(ndarray);
    Py_XDECREF(generic);
    return NULL;
}

/* set_host_arithmetic(sum_to, arith, float32, float64): turns on the host arithmetic path
 * (ops/arithmetic.py calls it once): the function that sums a gradient to a shape, the
 * execution layer's array work (backend._host_arith.api_c, a capsule), the two dtypes. */
static PyObject *
tape_set_host_arithmetic(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "set_host_arithmetic(sum_to, arith, float32, float64)");
        return NULL;
    }
    host_api *api = PyCapsule_GetPointer(args[1], "autograd_gpu.backend._host_arith.api_c");
    if (api == NULL)
        return NULL;
    if (intern(&s_tape_op, "_tape_op") < 0 || intern(&s_shapes, "shapes") < 0 ||
        intern(&s_axes, "axes") < 0 || intern(&s_keepdim, "keepdim") < 0 ||
        intern(&s_in_shape, "in_shape") < 0 || intern(&s_n, "n") < 0)
        return NULL;
    Py_INCREF(args[0]);
    Py_XSETREF(h_sum_to, args[0]);
    Py_INCREF(args[2]);
    Py_XSETREF(dt_float32, args[2]);
    Py_INCREF(args[3]);
    Py_XSETREF(dt_float64, args[3]);
    host = *api;
    Py_RETURN_NONE;
}

/* set_oom_handlers(forward, backward): the MemoryError handlers (see after_oom). */
static PyObject *
tape_set_oom_handlers(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyCallable_Check(args[0]) || !PyCallable_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "set_oom_handlers(forward, backward) takes two callables");
        return NULL;
    }
    Py_INCREF(args[0]);
    Py_XSETREF(h_forward_oom, args[0]);
    Py_INCREF(args[1]);
    Py_XSETREF(h_backward_oom, args[1]);
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- ops on their inputs' device */

/* OnDevice(fn, home=None): calls fn with the device of its first CUDA tensor argument
 * current (one level into lists and tuples; keyword values too), the caller's restored
 * after; with a CPU tensor first, or none, fn is called directly. A method when set on a class; its
 * __wrapped__ is fn, and other attributes (__doc__, __name__, __signature__...) are fn's.
 * See ops/_device.py for where it is used. */
typedef struct {
    PyObject_HEAD
    PyObject *fn;
    PyObject *home;  /* what __reduce__ gives: (resolver, args) naming where the package
                      * holds this wrapper (ops/_device.py), or NULL: fn's qualified name */
    vectorcallfunc vectorcall;
} OnDevice;

static PyObject *
first_cuda_array(PyObject *const *values, Py_ssize_t n)  /* borrowed, or NULL */
{
    if (!ready)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = values[i];
        if (PyObject_TypeCheck(v, Tensor_T)) {
            PyObject *d = SLOT(v, off_data);
            return Py_TYPE(d) == ndarray_T ? NULL : d;
        }
        if (PyList_Check(v) || PyTuple_Check(v)) {
            Py_ssize_t m = PySequence_Fast_GET_SIZE(v);
            PyObject **items = PySequence_Fast_ITEMS(v);
            for (Py_ssize_t j = 0; j < m; j++) {
                if (PyObject_TypeCheck(items[j], Tensor_T)) {
                    PyObject *d = SLOT(items[j], off_data);
                    return Py_TYPE(d) == ndarray_T ? NULL : d;
                }
            }
        }
    }
    return NULL;
}

static PyObject *
ondevice_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *fn = ((OnDevice *)self)->fn;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf) + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject *arr = first_cuda_array(args, n);
    if (arr == NULL)
        return PyObject_Vectorcall(fn, args, nargsf, kwnames);
    Py_INCREF(arr);
    PyObject *prev = enter_device(arr);
    Py_DECREF(arr);
    if (prev == NULL)
        return NULL;
    PyObject *r = PyObject_Vectorcall(fn, args, nargsf, kwnames);
    if (restore_device(prev) < 0)
        Py_CLEAR(r);
    return r;
}

static PyObject *
ondevice_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    PyObject *fn, *home = NULL;
    if (kw != NULL && PyDict_GET_SIZE(kw)) {
        PyErr_SetString(PyExc_TypeError, "OnDevice(fn, home=None) takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O|O:OnDevice", &fn, &home))
        return NULL;
    if (!PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "OnDevice(fn): fn must be callable");
        return NULL;
    }
    OnDevice *g = (OnDevice *)type->tp_alloc(type, 0);
    if (g == NULL)
        return NULL;
    g->fn = Py_NewRef(fn);
    g->home = home == NULL || home == Py_None ? NULL : Py_NewRef(home);
    g->vectorcall = ondevice_vectorcall;
    return (PyObject *)g;
}

static int
ondevice_traverse(OnDevice *g, visitproc visit, void *arg)
{
    Py_VISIT(g->fn);
    Py_VISIT(g->home);
    return 0;
}

static int
ondevice_clear(OnDevice *g)
{
    Py_CLEAR(g->fn);
    Py_CLEAR(g->home);
    return 0;
}

static void
ondevice_dealloc(OnDevice *g)
{
    PyObject_GC_UnTrack(g);
    ondevice_clear(g);
    Py_TYPE(g)->tp_free((PyObject *)g);
}

static PyObject *
ondevice_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

static PyObject *
ondevice_getattro(OnDevice *g, PyObject *name)
{
    PyObject *r = PyObject_GenericGetAttr((PyObject *)g, name);
    if (r != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError))
        return r;
    PyErr_Clear();
    return PyObject_GetAttr(g->fn, name);
}

static PyObject *
ondevice_doc(OnDevice *g, void *closure)
{
    return PyObject_GetAttrString(g->fn, "__doc__");
}

static PyObject *
ondevice_module(OnDevice *g, void *closure)
{
    return PyObject_GetAttrString(g->fn, "__module__");
}

/* Pickled (and deep-copied) by reference, as a function is: `home`, or fn's qualified name. */
static PyObject *
ondevice_reduce(OnDevice *g, PyObject *unused)
{
    if (g->home != NULL)
        return Py_NewRef(g->home);
    return PyObject_GetAttrString(g->fn, "__qualname__");
}

static PyMethodDef ondevice_methods[] = {
    {"__reduce__", (PyCFunction)ondevice_reduce, METH_NOARGS, NULL},
    {NULL},
};

static PyObject *
ondevice_repr(OnDevice *g)
{
    return PyUnicode_FromFormat("<on its inputs' device: %R>", g->fn);
}

static PyMemberDef ondevice_members[] = {
    {"__wrapped__", T_OBJECT, offsetof(OnDevice, fn), READONLY, "the wrapped function"},
    {NULL},
};

static PyGetSetDef ondevice_getset[] = {
    {"__doc__", (getter)ondevice_doc, NULL, NULL, NULL},
    {"__module__", (getter)ondevice_module, NULL, NULL, NULL},
    {NULL},
};

static PyTypeObject OnDevice_T = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "autograd_gpu.autograd._tape.OnDevice",
    .tp_basicsize = sizeof(OnDevice),
    .tp_dealloc = (destructor)ondevice_dealloc,
    .tp_vectorcall_offset = offsetof(OnDevice, vectorcall),
    .tp_repr = (reprfunc)ondevice_repr,
    .tp_call = PyVectorcall_Call,
    .tp_getattro = (getattrofunc)ondevice_getattro,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
                Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = "OnDevice(fn, home=None): fn run with its first CUDA tensor argument's device current.",
    .tp_traverse = (traverseproc)ondevice_traverse,
    .tp_clear = (inquiry)ondevice_clear,
    .tp_methods = ondevice_methods,
    .tp_members = ondevice_members,
    .tp_getset = ondevice_getset,
    .tp_descr_get = ondevice_get,
    .tp_new = ondevice_new,
};

static PyMethodDef methods[] = {
    {"set_host_arithmetic", (PyCFunction)(void (*)(void))tape_set_host_arithmetic, METH_FASTCALL,
     "set_host_arithmetic(sum_to, arith, float32, float64): + - * / of host arrays recorded in C."},
    {"set_oom_handlers", (PyCFunction)(void (*)(void))tape_set_oom_handlers, METH_FASTCALL,
     "set_oom_handlers(forward, backward): what an op's MemoryError is handed to."},
    {"setup", (PyCFunction)(void (*)(void))tape_setup, METH_VARARGS | METH_KEYWORDS,
     "setup(**objects): hands over the classes, state and helpers the loops use."},
    {"apply", (PyCFunction)(void (*)(void))tape_apply, METH_FASTCALL | METH_KEYWORDS,
     "apply(cls, *inputs, **params): Node.apply (see autograd/node.py)."},
    {"wrap", (PyCFunction)(void (*)(void))tape_wrap, METH_FASTCALL,
     "wrap(data, grad_fn=None, requires_grad=False): a Tensor around an array, no copy."},
    {"init", (PyCFunction)(void (*)(void))tape_init, METH_FASTCALL,
     "init(t, data, grad_fn=None, requires_grad=False): sets a new Tensor's fields."},
    {"saved_tensors", (PyCFunction)tape_saved_tensors, METH_O,
     "saved_tensors(node): the Node.saved_tensors property (see autograd/node.py)."},
    {"backward_scalar", (PyCFunction)(void (*)(void))tape_backward_scalar, METH_FASTCALL,
     "backward_scalar(t, retain_graph, anomaly): the common loss.backward() (see engine.py)."},
    {"resolve_saved", (PyCFunction)(void (*)(void))tape_resolve_saved, METH_FASTCALL,
     "resolve_saved(node, inputs, outputs): ties node._saved to the inputs and outputs."},
    {"backward_loop", (PyCFunction)(void (*)(void))tape_backward_loop, METH_FASTCALL,
     "backward_loop(...): the engine's loop over nodes and leaves (see autograd/engine.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_tape",
    "The tape's hot loops (recording and replaying) in C; see autograd/node.py and engine.py.",
    -1, methods,
};

PyMODINIT_FUNC
PyInit__tape(void)
{
    if (intern(&s_forward, "forward") < 0 || intern(&s_backward, "backward") < 0 ||
        intern(&s_enabled, "enabled") < 0 || intern(&s_dtype, "dtype") < 0 ||
        intern(&s_kind, "kind") < 0 || intern(&s_next_functions, "next_functions") < 0 ||
        intern(&s_needs_input_grad, "needs_input_grad") < 0 ||
        intern(&s_sequence_nr, "sequence_nr") < 0 || intern(&s_saved, "_saved") < 0 ||
        intern(&s_freed, "_freed") < 0 || intern(&s_record_trace, "_record_trace") < 0 ||
        intern(&s_record_stack, "_record_stack") < 0 ||
        intern(&s_wrap_outputs, "_wrap_outputs") < 0 ||
        intern(&s_get_accumulator, "_get_accumulator") < 0 ||
        intern(&s_base_fn, "_base_fn") < 0 || intern(&s_base, "base") < 0 ||
        intern(&s_pre_hooks, "_pre_hooks") < 0 || intern(&s_n_outputs, "_n_outputs") < 0 ||
        intern(&s_device, "device") < 0 || intern(&s_accumulate, "_accumulate") < 0 ||
        intern(&s_ref, "_ref") < 0 || intern(&s_shape, "shape") < 0 ||
        intern(&s_array, "array") < 0 || intern(&s_version, "version") < 0 ||
        intern(&s_expected, "expected") < 0 || intern(&s_index, "index") < 0 ||
        intern(&s_ndim, "ndim") < 0)
        return NULL;
    if (PyType_Ready(&OnDevice_T) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (m != NULL && PyModule_AddObjectRef(m, "OnDevice", (PyObject *)&OnDevice_T) < 0)
        Py_CLEAR(m);
    return m;
}
