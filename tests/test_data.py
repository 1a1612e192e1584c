"""utils.data against torch.utils.data: collation structures and dtypes, batching, lengths,
samplers, dataset combinators and errors compared with PyTorch where the order is not random;
shuffling checked for being a permutation, reproducible under manual_seed and generator=."""
import collections
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.utils import data
from conftest import to_numpy

Point = collections.namedtuple("Point", "x y")


def describe(obj):
    """A library-neutral picture of a batch: containers by kind, tensors by dtype, shape, values."""
    if hasattr(obj, "shape") and hasattr(obj, "dtype") and not isinstance(obj, np.ndarray):
        return ("tensor", str(obj.dtype).split(".")[-1], tuple(obj.shape), obj.tolist())
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__,) + tuple(describe(v) for v in obj)
    if isinstance(obj, dict):
        return {k: describe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [describe(v) for v in obj])
    if isinstance(obj, np.ndarray):
        return ("ndarray", str(obj.dtype), obj.tolist())
    return (type(obj).__name__, obj)


def samples(lib):
    """Batches (lists of samples) of every kind default_collate knows."""
    return [
        [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
        [lib.tensor(1), lib.tensor(2)],
        [1.5, 2.5], [1, 2], [True, False],
        [np.array([1, 2], np.int32), np.array([3, 4], np.int32)],
        [np.float32(1.5), np.float32(2.5)], [np.int16(1), np.int16(3)], [np.bool_(True), np.bool_(False)],
        ["a", "b"], [b"x", b"y"],
        [(1, 2.0, "s"), (3, 4.0, "t")],
        [[1, 2], [3, 4]],
        [Point(1, 2.0), Point(3, 4.0)],
        [{"a": 1, "b": [1.0, np.float64(2)]}, {"a": 2, "b": [3.0, np.float64(4)]}],
        [{"img": lib.zeros(2, 3), "label": 0, "meta": {"id": "p"}},
         {"img": lib.ones(2, 3), "label": 1, "meta": {"id": "q"}}],
    ]


def test_default_collate_matches_pytorch(torch):
    from torch.utils.data import default_collate as torch_collate

    for ours, theirs in zip(samples(ag), samples(torch)):
        assert describe(data.default_collate(ours)) == describe(torch_collate(theirs))


def test_default_convert_matches_pytorch(torch):
    from torch.utils.data import default_convert as torch_convert

    cases = [np.array([1.0, 2.0]), np.float32(3.0), 1.5, 7, "s", (np.array([1]), 2),
             [np.array([1]), "x"], Point(np.array([1, 2]), 3), {"k": np.arange(3)},
             np.array(["a", "b"])]
    for case in cases:
        assert describe(data.default_convert(case)) == describe(torch_convert(case))


def test_collate_errors_match_pytorch(torch):
    from torch.utils.data import default_collate as torch_collate

    for bad in ([object(), object()], [np.array(["a"]), np.array(["b"])], [[1, 2], [3]]):
        with pytest.raises(Exception) as theirs:
            torch_collate(bad)
        with pytest.raises(type(theirs.value)) as ours:
            data.default_collate(bad)
        assert str(ours.value).split(";")[0] == str(theirs.value).split(";")[0]
        if "found" in str(theirs.value):
            assert str(ours.value).split("found")[1].split(".")[-1] == (
                str(theirs.value).split("found")[1].split(".")[-1])


def test_custom_collate_fn_map(torch):
    def collate_str(batch, *, collate_fn_map=None):
        return "+".join(batch)

    fn_map = {**data.default_collate_fn_map, str: collate_str}
    out = data._collate.collate([("a", 1), ("b", 2)], collate_fn_map=fn_map)
    assert out[0] == "a+b" and out[1].tolist() == [1, 2]


# ---------------------------------------------------------------- the loader, in order


class Squares:
    """A map-style dataset that is not a Dataset subclass (only __getitem__ and __len__)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return {"x": float(i), "y": np.array([i, i * i]), "name": f"s{i}"}

    def __len__(self):
        return self.n


def loaders(lib_data, **kw):
    return lib_data.DataLoader(Squares(10), **kw)


@pytest.mark.parametrize("kw", [
    {}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": 4},
    {"batch_size": None}, {"batch_size": 20}, {"batch_size": 20, "drop_last": True},
    {"sampler": [9, 1, 4, 4]}, {"sampler": [9, 1, 4], "batch_size": 2},
    {"batch_sampler": [[0, 1, 2], [7], [3, 3]]},
    {"batch_size": 2, "collate_fn": lambda b: [s["x"] for s in b]},
    {"batch_size": 3, "num_workers": 2}, {"batch_size": 3, "num_workers": 2, "prefetch_factor": 4},
    {"batch_size": 3, "num_workers": 1, "persistent_workers": True},
])
def test_batches_lengths_and_second_pass_match_pytorch(torch, kw):
    import torch.utils.data as tdata

    ours, theirs = loaders(data, **kw), loaders(tdata, **kw)
    assert len(ours) == len(theirs)
    expected = [describe(b) for b in theirs]
    assert [describe(b) for b in ours] == expected
    assert [describe(b) for b in ours] == expected  # iterating again gives the same
    it = iter(ours)
    assert len(it) == len(theirs)


def test_tensor_dataset_and_getitems(torch):
    import torch.utils.data as tdata

    x = np.arange(12.0).reshape(6, 2)
    y = np.arange(6)
    ours = data.DataLoader(data.TensorDataset(ag.tensor(x), ag.tensor(y)), batch_size=4)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=4)
    assert [describe(b) for b in ours] == [describe(b) for b in theirs]
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        data.TensorDataset(ag.zeros(3), ag.zeros(4))

    class Batched(data.Dataset):
        calls = []

        def __getitem__(self, i):
            raise AssertionError("the loader should fetch whole batches")

        def __getitems__(self, idx):
            self.calls.append(list(idx))
            return [float(i) for i in idx]

        def __len__(self):
            return 5

    out = [b.tolist() for b in data.DataLoader(Batched(), batch_size=2)]
    assert out == [[0.0, 1.0], [2.0, 3.0], [4.0]] and Batched.calls == [[0, 1], [2, 3], [4]]


def test_batches_of_device_tensors_stay_on_the_device(device):
    ds = data.TensorDataset(ag.arange(10.0, device=device), ag.arange(10, device=device))
    for xb, yb in data.DataLoader(ds, batch_size=4, shuffle=True):
        assert xb.device.type == yb.device.type == ag.device(device).type
        assert (xb.to(ag.int64) == yb).all().item()


def test_gradients_flow_through_collation():
    w = ag.ones(3, requires_grad=True)
    batch = data.default_collate([w * 2, w * 3])
    batch.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0, 5.0]


# ---------------------------------------------------------------- shuffling


def test_shuffle_is_a_new_permutation_each_pass_and_reproducible():
    ds = list(range(50))
    ag.manual_seed(0)
    loader = data.DataLoader(ds, batch_size=7, shuffle=True)
    first = [v for b in loader for v in b.tolist()]
    second = [v for b in loader for v in b.tolist()]
    assert sorted(first) == ds and sorted(second) == ds and first != second and first != ds
    ag.manual_seed(0)
    assert [v for b in loader for v in b.tolist()] == first
    # generator=: its own stream, the global one untouched
    g = ag.Generator().manual_seed(3)
    ag.manual_seed(1)
    before = ag.rand(2).tolist()
    ag.manual_seed(1)
    a = [v for b in data.DataLoader(ds, batch_size=5, shuffle=True, generator=g) for v in b.tolist()]
    g.manual_seed(3)
    b_ = [v for b in data.DataLoader(ds, batch_size=5, shuffle=True, generator=g) for v in b.tolist()]
    assert a == b_ and sorted(a) == ds
    assert ag.rand(2).tolist() == before


def test_random_samplers():
    ag.manual_seed(4)
    ds = range(10)
    s = data.RandomSampler(ds)
    assert len(s) == 10 and sorted(s) == list(ds)
    s = data.RandomSampler(ds, num_samples=25)
    drawn = list(s)
    assert len(s) == 25 and len(drawn) == 25
    assert sorted(drawn[:10]) == list(ds) and sorted(drawn[10:20]) == list(ds)  # whole permutations
    s = data.RandomSampler(ds, replacement=True, num_samples=2000)
    counts = np.bincount(list(s), minlength=10)
    assert counts.min() > 150 and len(s) == 2000  # every index, about 200 times
    g1, g2 = ag.Generator().manual_seed(7), ag.Generator().manual_seed(7)
    assert list(data.RandomSampler(ds, generator=g1)) == list(data.RandomSampler(ds, generator=g2))
    sub = data.SubsetRandomSampler([3, 5, 8, 13])
    assert sorted(sub) == [3, 5, 8, 13] and len(sub) == 4
    w = data.WeightedRandomSampler([0.0, 1.0, 3.0], 4000)
    c = np.bincount(list(w), minlength=3)
    assert len(w) == 4000 and c[0] == 0 and 0.70 < c[2] / 4000 < 0.80
    w = data.WeightedRandomSampler([1.0, 1.0, 1.0, 0.0], 3, replacement=False)
    assert sorted(w) == [0, 1, 2]


def test_sampler_errors_match_pytorch(torch):
    import torch.utils.data as tdata

    cases = [
        lambda d: d.RandomSampler(range(3), replacement=1),
        lambda d: d.RandomSampler(range(3), num_samples=0),
        lambda d: d.RandomSampler([]),
        lambda d: d.WeightedRandomSampler([1.0], 0),
        lambda d: d.WeightedRandomSampler([1.0], 2, replacement=None),
        lambda d: d.WeightedRandomSampler([[1.0]], 2),
        lambda d: d.BatchSampler(range(3), 0, False),
        lambda d: d.BatchSampler(range(3), True, False),
        lambda d: d.BatchSampler(range(3), 2, None),
    ]
    for case in cases:
        with pytest.raises(Exception) as theirs:
            case(tdata)
        with pytest.raises(type(theirs.value)) as ours:
            case(data)
        assert str(ours.value) == str(theirs.value)


def test_batch_sampler_matches_pytorch(torch):
    import torch.utils.data as tdata

    for n, bs, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (0, 2, False)]:
        ours = data.BatchSampler(data.SequentialSampler(range(n)), bs, drop)
        theirs = tdata.BatchSampler(tdata.SequentialSampler(range(n)), bs, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


# ---------------------------------------------------------------- datasets


def test_concat_subset_chain_stack_match_pytorch(torch):
    import torch.utils.data as tdata

    a, b, c = list(range(3)), list(range(10, 15)), []
    ours, theirs = data.ConcatDataset([a, c, b]), tdata.ConcatDataset([a, c, b])
    assert len(ours) == len(theirs) == 8 and ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-8, 8)] == [theirs[i] for i in range(-8, 8)]
    for bad in (8, -9):
        with pytest.raises((IndexError, ValueError)) as te:
            theirs[bad]
        with pytest.raises(type(te.value)) as oe:
            ours[bad]
        assert str(oe.value) == str(te.value)
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        data.ConcatDataset([])
    assert isinstance(data.TensorDataset(ag.zeros(2)) + data.TensorDataset(ag.ones(3)), data.ConcatDataset)

    sub = data.Subset(list("abcdef"), [5, 0, 2])
    assert [sub[i] for i in range(3)] == ["f", "a", "c"] and len(sub) == 3
    assert sub.__getitems__([2, 0]) == ["c", "f"]

    class Stream(data.IterableDataset):
        def __init__(self, lo, hi):
            self.lo, self.hi = lo, hi

        def __iter__(self):
            return iter(range(self.lo, self.hi))

        def __len__(self):
            return self.hi - self.lo

    chain = Stream(0, 3) + Stream(5, 7)
    assert isinstance(chain, data.ChainDataset) and list(chain) == [0, 1, 2, 5, 6] and len(chain) == 5
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(data.ChainDataset([[1, 2]]))
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        data.ConcatDataset([Stream(0, 2)])

    st = data.StackDataset(a, list("xyz"))
    assert st[1] == (1, "y") and len(st) == 3
    assert data.StackDataset(n=a, s=list("xyz"))[2] == {"n": 2, "s": "z"}
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        data.StackDataset(a, b)


def test_random_split():
    ds = list(range(30))
    g = ag.Generator().manual_seed(42)
    parts = data.random_split(ds, [10, 15, 5], generator=g)
    assert [len(p) for p in parts] == [10, 15, 5]
    assert sorted(v for p in parts for v in p) == ds
    g.manual_seed(42)
    assert [list(p) for p in data.random_split(ds, [10, 15, 5], generator=g)] == [list(p) for p in parts]
    # fractions: floor(f * n), the remainder handed out round-robin (as PyTorch)
    assert [len(p) for p in data.random_split(range(10), [0.33, 0.33, 0.34])] == [4, 3, 3]
    assert [len(p) for p in data.random_split(range(11), [0.5, 0.5])] == [6, 5]
    ag.manual_seed(0)
    a = [list(p) for p in data.random_split(ds, [0.5, 0.5])]
    ag.manual_seed(0)
    assert [list(p) for p in data.random_split(ds, [0.5, 0.5])] == a
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        data.random_split(ds, [10, 10])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        data.random_split(ds, [0.6, -0.1, 0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        data.random_split(range(2), [0.9, 0.1])


# ---------------------------------------------------------------- iterable datasets, workers


class Range(data.IterableDataset):
    """range(lo, hi), split across workers when `shard` is set (as in PyTorch's docs)."""

    def __init__(self, lo, hi, shard=True):
        self.lo, self.hi, self.shard = lo, hi, shard

    def __iter__(self):
        info = data.get_worker_info() if self.shard else None
        lo, hi = self.lo, self.hi
        if info is not None:
            per = -(-(hi - lo) // info.num_workers)
            lo = lo + info.id * per
            hi = min(lo + per, self.hi)
        return iter(range(lo, hi))

    def __len__(self):
        return self.hi - self.lo


def torch_range(torch_data):
    """Range, on PyTorch's IterableDataset (its loader must see its own class)."""

    class TorchRange(torch_data.IterableDataset):
        __init__, __len__ = Range.__init__, Range.__len__

        def __iter__(self):
            info = torch_data.get_worker_info() if self.shard else None
            lo, hi = self.lo, self.hi
            if info is not None:
                per = -(-(hi - lo) // info.num_workers)
                lo = lo + info.id * per
                hi = min(lo + per, self.hi)
            return iter(range(lo, hi))

    return TorchRange


def _split_in_init(get_info):
    def init(worker_id):
        info = get_info()
        ds = info.dataset
        per = -(-(ds.hi - ds.lo) // info.num_workers)
        ds.lo = ds.lo + worker_id * per
        ds.hi = min(ds.lo + per, ds.hi)
    return init


def test_iterable_dataset_batches_match_pytorch(torch):
    import torch.utils.data as tdata

    for kw in ({}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
        ours = data.DataLoader(Range(3, 13), **kw)
        theirs = tdata.DataLoader(torch_range(tdata)(3, 13), **kw)
        assert [describe(b) for b in ours] == [describe(b) for b in theirs]
        assert len(ours) == len(theirs)


@pytest.mark.parametrize("kw", [
    {"num_workers": 2},                                       # sharded in __iter__
    {"num_workers": 2, "batch_size": 2},
    {"num_workers": 2, "batch_size": 2, "shard": False},      # every worker reads everything
    {"num_workers": 2, "shard": False, "init": True},         # sharded by worker_init_fn
    {"num_workers": 2, "hi": 10},                             # shards of 4 and 3: one ends first
    {"num_workers": 2, "hi": 12, "batch_size": 2, "drop_last": True},
])
def test_workers_give_what_pytorch_workers_give(torch, kw):
    import torch.utils.data as tdata

    kw = dict(kw)
    shard, init, hi = kw.pop("shard", True), kw.pop("init", False), kw.pop("hi", 9)
    ours = data.DataLoader(Range(3, hi, shard), **kw,
                           worker_init_fn=_split_in_init(data.get_worker_info) if init else None)
    theirs = tdata.DataLoader(torch_range(tdata)(3, hi, shard), **kw, multiprocessing_context="fork",
                              worker_init_fn=_split_in_init(tdata.get_worker_info) if init else None)
    expected = [describe(b) for b in theirs]
    assert [describe(b) for b in ours] == expected
    assert [describe(b) for b in ours] == expected  # a second pass: workers set up afresh


def test_worker_info_and_init_fn():
    assert data.get_worker_info() is None
    seen, inits = [], []

    class WhoReads(data.Dataset):
        def __getitem__(self, i):
            info = data.get_worker_info()
            seen.append((i, info.id, info.num_workers))
            return i

        def __len__(self):
            return 6

    def init(worker_id):
        info = data.get_worker_info()
        inits.append((worker_id, info.id, info.seed))
        with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo objects"):
            info.id = 5

    ag.manual_seed(0)
    loader = data.DataLoader(WhoReads(), batch_size=2, num_workers=2, worker_init_fn=init)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]
    # batch i is read by worker i % num_workers, as PyTorch dispatches them
    assert [(i, w) for i, w, _ in seen] == [(0, 0), (1, 0), (2, 1), (3, 1), (4, 0), (5, 0)]
    assert [i for i, _, _ in inits] == [0, 1] and inits[1][2] == inits[0][2] + 1
    assert data.get_worker_info() is None  # back in the main process
    # persistent workers are set up once
    inits.clear()
    loader = data.DataLoader(WhoReads(), num_workers=2, worker_init_fn=init, persistent_workers=True)
    list(loader), list(loader)
    assert [i for i, _, _ in inits] == [0, 1]


def test_pin_memory_warns_as_pytorch_without_a_gpu():
    if ag.cuda.is_available():
        pytest.skip("the warning is for machines without a GPU")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = [b.tolist() for b in data.DataLoader([1, 2, 3], batch_size=2, pin_memory=True)]
    assert out == [[1, 2], [3]]
    assert any("'pin_memory' argument is set as true but no accelerator is found" in str(x.message)
               for x in w)


def test_loader_errors_match_pytorch(torch):
    import torch.utils.data as tdata

    ds = list(range(5))
    cases = [
        dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
        dict(num_workers=1, prefetch_factor=-1), dict(persistent_workers=True),
        dict(sampler=[0, 1], shuffle=True),
        dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], shuffle=True),
        dict(batch_sampler=[[0]], sampler=[0]), dict(batch_sampler=[[0]], drop_last=True),
        dict(batch_size=None, drop_last=True),
    ]
    for kw in cases:
        with pytest.raises(ValueError) as theirs:
            tdata.DataLoader(ds, **kw)
        with pytest.raises(ValueError) as ours:
            data.DataLoader(ds, **kw)
        assert str(ours.value) == str(theirs.value)
    for kw in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError) as theirs:
            tdata.DataLoader(torch_range(tdata)(0, 3), **kw)
        with pytest.raises(ValueError) as ours:
            data.DataLoader(Range(0, 3), **kw)
        assert str(ours.value).split(", but got")[0] == str(theirs.value).split(", but got")[0]
    loader, tloader = data.DataLoader(ds), tdata.DataLoader(ds)
    for attr in ("batch_size", "sampler", "dataset", "drop_last"):
        with pytest.raises(ValueError) as theirs:
            setattr(tloader, attr, None)
        with pytest.raises(ValueError) as ours:
            setattr(loader, attr, None)
        assert str(ours.value) == str(theirs.value)
    loader.num_workers = 0  # other attributes may change
