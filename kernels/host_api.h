// The host threads of backend/_host_arith.c, as the host builds of the kernels
// (host_optim.cpp, host_grad.cpp) take them: the capsule _host_arith.api_c holds a struct
// whose first fields are these (_host_arith.c fills it; autograd/_tape.c reads its first four).
//
// parallel(fn, ctx, n, align, parts) runs fn(ctx, lo, hi) on `parts` ranges covering [0, n)
// at once, each a multiple of `align` elements long, the first on the calling thread, the
// others without the GIL (fn must not touch Python); it returns the union of the parts'
// floating-point exception flags. elementwise(fn, ctx, n, itemsize) is parallel over n
// elements in the parts they are worth at the present thread count, each of whole cache
// lines, with the GIL released where the work is worth it (the GIL held on entry).
// plain(a, &type): whether `a` is a C-contiguous, aligned, native float32 or float64 NumPy
// array (its NPY_* type in *type). plain_number(s, type, &v): whether `s` is a Python float
// or small int that converts to that type as the double *v does (NumPy 2's rule).
#pragma once
#ifndef AG_HOST_API_H
#define AG_HOST_API_H
#include <Python.h>

namespace ag_host {

typedef void (*PartFn)(void*, Py_ssize_t, Py_ssize_t);

struct HostApi {
    void* arith;
    void* reduce_all;
    void* fill;
    void* add_into;
    int (*parallel)(PartFn fn, void* ctx, Py_ssize_t n, Py_ssize_t align, int parts);
    int (*elementwise)(PartFn fn, void* ctx, Py_ssize_t n, int itemsize);
    int (*plain)(PyObject* a, int* type);
    int (*plain_number)(PyObject* s, int type, double* v);
};

// The struct, or nullptr with a Python error set. Imported by name, not PyCapsule_Import:
// the package may still be initializing when a host build is imported.
inline const HostApi* import_host_api() {
    PyObject* arith = PyImport_ImportModule("autograd_gpu.backend._host_arith");
    PyObject* cap = arith ? PyObject_GetAttrString(arith, "api_c") : nullptr;
    Py_XDECREF(arith);
    const HostApi* api =
        cap ? (const HostApi*)PyCapsule_GetPointer(cap, "autograd_gpu.backend._host_arith.api_c")
            : nullptr;
    Py_XDECREF(cap);  // (the module keeps the capsule and what it points to)
    return api;
}

}  // namespace ag_host

#endif  // AG_HOST_API_H
