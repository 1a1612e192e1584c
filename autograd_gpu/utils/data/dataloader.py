"""The DataLoader, as ``torch.utils.data.DataLoader``: a dataset, an order over it (a
sampler, or a stream for an IterableDataset), automatic batching and collation.

Loading runs in the main process. With ``num_workers > 0`` the loader plays the workers'
parts in turn and returns what PyTorch's worker processes return in order: batch i of a
map-style dataset is read as worker ``i % num_workers`` (get_worker_info() says so), and an
IterableDataset is read once per worker (each with its own shallow copy of the dataset,
given to worker_init_fn), batches taken from the workers in turn as PyTorch does. Datasets
that draw random numbers draw from the main process's streams, not per-worker seeded ones.
``pin_memory``, ``prefetch_factor``, ``timeout``, ``multiprocessing_context`` and
``in_order`` are accepted and checked; there is no pinned memory (batches stay where
their samples are: a dataset of GPU tensors gives GPU batches).
"""
import copy
import math
import warnings

from . import _collate
from ._worker import WorkerInfo, _serving
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]

default_collate = _collate.default_collate
default_convert = _collate.default_convert


class _InfiniteConstantSampler(Sampler):
    """The "indices" of an IterableDataset: None, forever (the stream decides the end)."""

    def __iter__(self):
        while True:
            yield None


# attributes that fix the iteration order, frozen once the loader is built (as PyTorch)
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader:
    """Iterates over `dataset` in batches of `batch_size` (None: one sample at a time, no
    collation), in order or shuffled (``shuffle=True``: a new permutation each pass, from
    `generator` or the global CPU stream), or in the order of `sampler` / `batch_sampler`;
    `collate_fn` merges a list of samples (default_collate, or default_convert without
    batching).

    Args:
        dataset: a map-style Dataset (``dataset[i]`` and ``len``; a tensor works too) or
            an IterableDataset.
        batch_size: the samples per batch (None: no batching, each sample as it is).
        shuffle: visit the indices in a new random order each pass (map-style only).
        sampler: a Sampler (or iterable) of indices to visit instead (not with shuffle).
        batch_sampler: a Sampler of lists of indices, one list per batch (not with
            batch_size, shuffle, sampler or drop_last).
        num_workers: the number of workers whose parts the loader plays (all in the main
            process); each batch is read as one of them (``get_worker_info()``).
        collate_fn: merges a list of samples into a batch (None: ``default_collate``, or
            ``default_convert`` without batching).
        pin_memory: accepted (warns without an accelerator); there is no pinned memory.
        drop_last: drop the last batch when it is incomplete.
        timeout: accepted and checked (non-negative); loading never waits.
        worker_init_fn: called with each worker's id (0 .. num_workers - 1) when a pass
            starts (once with persistent_workers), ``get_worker_info()`` telling that
            worker.
        multiprocessing_context: accepted (with num_workers > 0); there are no processes.
        generator: the CPU Generator of the shuffle (None: the global CPU stream).
        prefetch_factor: accepted and checked (with num_workers > 0; default 2).
        persistent_workers: keep the workers (their iterator and datasets' copies) between
            passes (needs num_workers > 0).
        pin_memory_device: accepted; there is no pinned memory.
        in_order: accepted; batches always come in order.

    Examples:
        >>> import autograd_gpu as torch
        >>> from autograd_gpu.utils.data import DataLoader, TensorDataset
        >>> [batch.tolist() for batch in DataLoader(torch.arange(5.0), batch_size=2)]
        [[0.0, 1.0], [2.0, 3.0], [4.0]]
        >>> ds = TensorDataset(torch.arange(10.0).reshape(5, 2), torch.tensor([0, 1, 0, 1, 1]))
        >>> loader = DataLoader(ds, batch_size=2)
        >>> len(loader)
        3
        >>> for xb, yb in loader:
        ...     print(xb.shape, yb.tolist())
        autograd_gpu.Size([2, 2]) [0, 1]
        autograd_gpu.Size([2, 2]) [0, 1]
        autograd_gpu.Size([1, 2]) [1]
        >>> len(DataLoader(ds, batch_size=2, drop_last=True))
        2
        >>> _ = torch.manual_seed(0)
        >>> [b.tolist() for b in DataLoader(torch.arange(6), batch_size=3, shuffle=True)]
        [[4, 1, 3], [2, 5, 0]]
    """

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process "
                             f"loading (num_workers > 0), but got num_workers={num_workers}")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator = None
        self._initialized = True

    def __setattr__(self, name, value):
        if self._initialized and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = _LoaderIter(self)
            else:
                self._iterator._reset()
            return self._iterator
        return _LoaderIter(self)

    def __len__(self):
        if self._iterable:  # the stream's length, batched (as PyTorch estimates it)
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
            return n
        return len(self._index_sampler)


class _Worker:
    """One worker's part: its WorkerInfo (None for the main process), its dataset, and for
    an IterableDataset its stream and whether that has ended."""

    __slots__ = ("info", "dataset", "stream", "ended")

    def __init__(self, info, dataset):
        self.info, self.dataset = info, dataset
        self.stream, self.ended = None, False


class _LoaderIter:
    """One pass over a DataLoader (what ``iter(loader)`` returns; with persistent workers
    the same object serves every pass)."""

    def __init__(self, loader):
        from ... import backend, cuda
        from ...creation import _gen_for

        self._loader = loader
        if loader.pin_memory and not cuda.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=3)
        n = loader.num_workers
        if n == 0:
            self._workers = [_Worker(None, loader.dataset)]
        else:
            # the workers' seeds: a base seed drawn per loader iterator, as PyTorch's
            base_seed = int(_gen_for(backend.CPU, loader.generator)._integers(0, 2**63 - 1, ()))
            self._workers = []
            for i in range(n):
                # each worker reads its own copy of the dataset (shallow: worker_init_fn
                # may set a copy's attributes without touching the others')
                info = WorkerInfo(id=i, num_workers=n, seed=base_seed + i,
                                  dataset=copy.copy(loader.dataset))
                self._workers.append(_Worker(info, info.dataset))
        self._reset(first=True)

    def _reset(self, first=False):
        loader = self._loader
        self._sampler_iter = iter(loader._index_sampler)
        self._turn = 0
        for w in self._workers:
            with _serving(w.info):
                if first and w.info is not None and loader.worker_init_fn is not None:
                    loader.worker_init_fn(w.info.id)
                w.ended = False
                w.stream = iter(w.dataset) if loader._iterable else None

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader._index_sampler)

    def __next__(self):
        workers = self._workers
        if not self._loader._iterable:  # batch i is read by worker i % num_workers
            w = workers[self._turn]
            self._turn = (self._turn + 1) % len(workers)
            with _serving(w.info):
                return self._fetch(w)
        # a stream per worker, taken in turn; an ended one is passed over
        while not all(w.ended for w in workers):
            w = workers[self._turn]
            self._turn = (self._turn + 1) % len(workers)
            if w.ended:
                continue
            try:
                with _serving(w.info):
                    return self._fetch(w)
            except StopIteration:
                w.ended = True
        raise StopIteration

    def _fetch(self, w):
        """Worker w's next batch (or sample, without batching); StopIteration at the end
        of the sampler or of w's stream."""
        loader = self._loader
        index = next(self._sampler_iter)
        if loader._iterable:
            if w.ended:
                raise StopIteration
            if not loader._auto_collation:
                return loader.collate_fn(next(w.stream))
            batch = []
            for _ in index:
                try:
                    batch.append(next(w.stream))
                except StopIteration:
                    w.ended = True
                    break
            if not batch or loader.drop_last and len(batch) < len(index):
                raise StopIteration
            return loader.collate_fn(batch)
        if not loader._auto_collation:
            return loader.collate_fn(w.dataset[index])
        getitems = getattr(w.dataset, "__getitems__", None)
        return loader.collate_fn(getitems(index) if getitems else [w.dataset[i] for i in index])
