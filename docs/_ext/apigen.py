"""Writes the API reference pages (docs/api/generated/*.rst) from the library as it is now.

Every public name of each namespace gets an entry: its ``__all__`` when the module has one,
else every attribute not starting with ``_``, less submodules and names imported from other
libraries. A namespace that does not exist yet (others are still adding modules) is skipped,
so the reference always matches the tree it is built from. Sphinx runs this at start-up
(``builder-inited``); ``python docs/_ext/apigen.py`` prints the names it would document.
"""
import importlib
import inspect
import os
import types

# (module, page title, one-line description). Order is the order of the reference's contents.
NAMESPACES = [
    ("autograd_gpu", "autograd_gpu", "The ``torch`` namespace: tensors, creation, math, devices, dtypes."),
    ("autograd_gpu.Tensor", "autograd_gpu.Tensor", "The tensor class: attributes, methods, in-place methods."),
    ("autograd_gpu.nn", "autograd_gpu.nn", "Modules, layers, losses, containers (``torch.nn``)."),
    ("autograd_gpu.nn.functional", "autograd_gpu.nn.functional", "Functional layers and losses (``torch.nn.functional``)."),
    ("autograd_gpu.nn.init", "autograd_gpu.nn.init", "Parameter initialization (``torch.nn.init``)."),
    ("autograd_gpu.nn.utils", "autograd_gpu.nn.utils", "Gradient clipping, parameter vectors (``torch.nn.utils``)."),
    ("autograd_gpu.nn.utils.rnn", "autograd_gpu.nn.utils.rnn", "Packed sequences (``torch.nn.utils.rnn``)."),
    ("autograd_gpu.nn.parallel", "autograd_gpu.nn.parallel", "DistributedDataParallel, DataParallel."),
    ("autograd_gpu.optim", "autograd_gpu.optim", "Optimizers (``torch.optim``)."),
    ("autograd_gpu.optim.lr_scheduler", "autograd_gpu.optim.lr_scheduler", "Learning-rate schedulers."),
    ("autograd_gpu.autograd", "autograd_gpu.autograd", "Gradients, grad mode, custom Functions, gradcheck, anomaly mode."),
    ("autograd_gpu.autograd.functional", "autograd_gpu.autograd.functional", "jacobian, hessian, vjp, jvp, hvp, vhp."),
    ("autograd_gpu.func", "autograd_gpu.func", "Function transforms (``torch.func``)."),
    ("autograd_gpu.utils.data", "autograd_gpu.utils.data", "Datasets, samplers, DataLoader."),
    ("autograd_gpu.distributed", "autograd_gpu.distributed", "Process groups and collectives (``torch.distributed``)."),
    ("autograd_gpu.linalg", "autograd_gpu.linalg", "Linear algebra (``torch.linalg``)."),
    ("autograd_gpu.distributions", "autograd_gpu.distributions", "Probability distributions (``torch.distributions``)."),
    ("autograd_gpu.amp", "autograd_gpu.amp", "Mixed precision: autocast, GradScaler (``torch.amp``)."),
    ("autograd_gpu.cuda", "autograd_gpu.cuda", "CUDA devices, streams, memory, random state (``torch.cuda``)."),
    ("autograd_gpu.random", "autograd_gpu.random", "Random state (``torch.random``)."),
    ("autograd_gpu.accelerator", "autograd_gpu.accelerator", "The current accelerator (``torch.accelerator``)."),
    ("autograd_gpu.viz", "autograd_gpu.viz", "Drawing the backward graph (torchviz's ``make_dot``)."),
    ("autograd_gpu.backends", "autograd_gpu.backends", "Backend switches (``torch.backends``)."),
    ("autograd_gpu.backend", "autograd_gpu.backend", "Devices, dtypes, the host pool and threads (this library's own)."),
    ("autograd_gpu.fused", "autograd_gpu.fused", "The fused CUDA kernels and their NumPy twins (this library's own)."),
]

# Section titles for the top-level namespace, by the module a name is defined in.
SECTIONS = [
    ("autograd_gpu.tensor", "Tensor"),
    ("autograd_gpu.creation", "Creation and random sampling"),
    ("autograd_gpu.ops.construct", "Creation and random sampling"),
    ("autograd_gpu._legacy", "Legacy tensor types"),
    ("autograd_gpu.ops.arithmetic", "Pointwise math"),
    ("autograd_gpu.ops.elementwise", "Pointwise math"),
    ("autograd_gpu.ops.special", "Pointwise math"),
    ("autograd_gpu.ops.reduction", "Reductions"),
    ("autograd_gpu.ops.shape", "Shapes, joining, slicing"),
    ("autograd_gpu.ops.indexing", "Indexing, gather, scatter"),
    ("autograd_gpu.ops.sorting", "Sorting, searching, scans"),
    ("autograd_gpu.ops.scan", "Sorting, searching, scans"),
    ("autograd_gpu.ops.linalg", "Linear algebra"),
    ("autograd_gpu.ops.decompositions", "Linear algebra"),
    ("autograd_gpu.autograd", "Gradient mode"),
    ("autograd_gpu.serialization", "Saving and loading"),
    ("autograd_gpu.backend", "Devices, dtypes, threads"),
]

# Classes whose undocumented public members are listed too (the ones users call methods of).
CORE_CLASSES = {
    "autograd_gpu.nn.Module", "autograd_gpu.optim.Optimizer", "autograd_gpu.utils.data.DataLoader",
    "autograd_gpu.autograd.Function", "autograd_gpu.Generator", "autograd_gpu.device",
    "autograd_gpu.dtype", "autograd_gpu.optim.lr_scheduler.LRScheduler",
}


def _import(name):
    """The module or class called ``name``, or None where it does not exist (yet)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        head, _, tail = name.rpartition(".")
        try:
            return getattr(importlib.import_module(head), tail)
        except (ImportError, AttributeError):
            return None


def _defined_here(obj):
    if not (inspect.isclass(obj) or inspect.isroutine(obj)):
        return True
    module = getattr(obj, "__module__", None)
    return module is None or module.startswith("autograd_gpu")


def public_names(modname):
    """The public names of a module: (name, object) pairs, sorted by name."""
    mod = _import(modname)
    if mod is None:
        return []
    if inspect.isclass(mod):
        return class_members(mod)
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in vars(mod) if not n.startswith("_")]
    out = []
    for name in dict.fromkeys(names):
        if not hasattr(mod, name):
            continue
        obj = getattr(mod, name)
        if isinstance(obj, types.ModuleType) or not _defined_here(obj):
            continue
        out.append((name, obj))
    return sorted(out, key=lambda item: item[0].lower())


def class_members(cls):
    out = []
    for name in dir(cls):
        if name.startswith("_"):
            continue
        out.append((name, inspect.getattr_static(cls, name)))
    return out


def kind(obj):
    if inspect.isclass(obj):
        return "class"
    if inspect.isroutine(obj):
        return "function"
    return "data"


def _heading(text, char):
    return [text, char * len(text), ""]


def _entry(directive, target, options=()):
    lines = [f".. {directive}:: {target}"]
    lines += [f"   :{opt}:" for opt in options]
    return lines + [""]


def _class_options(qualname):
    if qualname in CORE_CLASSES:
        return ("members", "undoc-members", "show-inheritance")
    return ("members", "show-inheritance")


def _summary(names):
    if not names:
        return []
    return [".. autosummary::", "   :nosignatures:", ""] + [f"   {n}" for n in names] + [""]


def module_page(modname, title, description):
    items = public_names(modname)
    if not items:
        return None
    lines = [f".. This page is generated by docs/_ext/apigen.py at build time: do not edit.", ""]
    lines += _heading(title, "=")
    lines += [description, ""]
    lines += [f".. automodule:: {modname}", "   :no-members:", "", f".. currentmodule:: {modname}", ""]
    if modname == "autograd_gpu":
        lines += ["The tensor class and its methods have their own page: :doc:`autograd_gpu.Tensor`.", ""]
        groups = {}
        for name, obj in items:
            if name == "Tensor":
                continue
            module = getattr(obj, "__module__", "") if kind(obj) != "data" else ""
            title_ = next((t for prefix, t in SECTIONS if module and module.startswith(prefix)),
                          "Constants and dtypes" if kind(obj) == "data" else "Other")
            groups.setdefault(title_, []).append((name, obj))
        order = list(dict.fromkeys([t for _, t in SECTIONS] + ["Other", "Constants and dtypes"]))
        for section in order:
            if section in groups:
                lines += _section(modname, section, groups[section])
    else:
        by_kind = {"class": [], "function": [], "data": []}
        for name, obj in items:
            by_kind[kind(obj)].append((name, obj))
        for k, section in (("class", "Classes"), ("function", "Functions"), ("data", "Constants")):
            if by_kind[k]:
                lines += _section(modname, section, by_kind[k])
    return "\n".join(lines) + "\n"


_SEEN_CLASSES = set()  # a class re-exported elsewhere is described in full once


def _section(modname, section, items):
    lines = _heading(section, "-")
    lines += _summary([n for n, _ in items])
    for name, obj in items:
        k = kind(obj)
        if k == "class" and id(obj) in _SEEN_CLASSES:
            lines += _entry("autoclass", name, ("no-index",))
        elif k == "class":
            _SEEN_CLASSES.add(id(obj))
            lines += _entry("autoclass", name, _class_options(f"{modname}.{name}"))
        elif k == "function":
            lines += _entry("autofunction", name)
        else:
            lines += _entry("autodata", name, ("annotation:",) if False else ())
    return lines


def tensor_page():
    import autograd_gpu
    members = class_members(autograd_gpu.Tensor)
    props, inplace, methods = [], [], []
    for name, raw in members:
        if not (callable(raw) or isinstance(raw, (staticmethod, classmethod))) or isinstance(raw, property):
            props.append(name)
        elif name.endswith("_") and not name.endswith("__"):
            inplace.append(name)
        else:
            methods.append(name)
    lines = [".. This page is generated by docs/_ext/apigen.py at build time: do not edit.", ""]
    lines += _heading("autograd_gpu.Tensor", "=")
    lines += ["The tensor class. Most methods are also functions of ``autograd_gpu`` "
              "(``x.exp()`` is ``autograd_gpu.exp(x)``); a name ending in ``_`` changes the "
              "tensor in place (see :doc:`/guide/autograd` for the in-place rules).", "",
              ".. currentmodule:: autograd_gpu", "",
              ".. autoclass:: Tensor", "   :no-members:", ""]
    for section, names, directive in (("Attributes", props, "autoattribute"),
                                      ("Methods", methods, "automethod"),
                                      ("In-place methods", inplace, "automethod")):
        if not names:
            continue
        lines += _heading(section, "-")
        lines += _summary([f"Tensor.{n}" for n in names])
        for n in names:
            lines += _entry(directive, f"Tensor.{n}")
    return "\n".join(lines) + "\n"


def documented_names():
    """{namespace: set of names} for every page written (the compatibility table links them)."""
    out = {}
    for modname, _, _ in NAMESPACES:
        out[modname] = {n for n, _ in public_names(modname)}
    return out


def write_pages(outdir):
    os.makedirs(outdir, exist_ok=True)
    _SEEN_CLASSES.clear()
    import autograd_gpu
    _SEEN_CLASSES.add(id(autograd_gpu.Tensor))  # described on its own page
    written = []
    for modname, title, description in NAMESPACES:
        text = tensor_page() if modname == "autograd_gpu.Tensor" else module_page(modname, title, description)
        if text is None:
            continue
        path = os.path.join(outdir, modname + ".rst")
        _write_if_changed(path, text)
        written.append(modname)
    # Drop pages of namespaces that no longer exist.
    for fname in os.listdir(outdir):
        if fname.endswith(".rst") and fname[:-4] not in written:
            os.remove(os.path.join(outdir, fname))
    # docs/api/index.rst includes this toctree, in NAMESPACES order
    toc = [".. toctree::", "   :maxdepth: 1", ""] + [f"   generated/{m}" for m in written]
    _write_if_changed(os.path.join(outdir, "toctree.inc"), "\n".join(toc) + "\n")
    return written


def _write_if_changed(path, text):
    # Unchanged files keep their mtime, so an incremental build re-reads only what changed.
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _skip_nested_classes(app, what, name, obj, skip, options):
    # A class attribute that is a class (ReduceOp.RedOpType) is documented where it is defined.
    if what == "class" and inspect.isclass(obj):
        return True
    return None


def _check_every_name_documented(app, env):
    """Warn (an error under -W) for a public name that has no entry in the built reference."""
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    objects = env.get_domain("py").objects
    documented_ids = set()
    for modname, _, _ in NAMESPACES:
        for name, obj in public_names(modname):
            if f"{modname}.{name}" in objects:
                documented_ids.add(id(obj))
    for modname, _, _ in NAMESPACES:
        for name, obj in public_names(modname):
            full = f"{modname}.{name}"
            # a re-exported class is described in full under its first name only
            if full not in objects and not (kind(obj) == "class" and id(obj) in documented_ids):
                logger.warning(f"public name {full} has no entry in the API reference")


def setup(app):
    app.connect("autodoc-skip-member", _skip_nested_classes)
    app.connect("env-check-consistency", _check_every_name_documented)

    def generate(app):
        write_pages(os.path.join(app.srcdir, "api", "generated"))
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    for mod, names in documented_names().items():
        print(f"{mod}: {len(names)}")
