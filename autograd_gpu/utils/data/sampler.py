"""Samplers: the order in which a DataLoader visits a map-style dataset's indices, and
batches of them, as ``torch.utils.data``. Random ones draw from this library's Generator
(deterministic under manual_seed; not PyTorch's numbers)."""
import itertools

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]


class Sampler:
    """Base class: subclasses define __iter__ (indices, or lists of them for a batch
    sampler) and usually __len__.

    Args:
        data_source: accepted and ignored (as PyTorch's base class).
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError

    def __class_getitem__(cls, item):
        return cls


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1.

    Args:
        data_source: the dataset (only its length is read).
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _epoch_generator(generator):
    """`generator`, or a fresh CPU Generator seeded from the global CPU stream: each pass
    over a sampler draws a new order, and manual_seed fixes the sequence of orders."""
    from ...creation import Generator, randint

    if generator is not None:
        return generator
    seed = int(randint(0, 2**62, (1,), device="cpu").item())
    return Generator("cpu").manual_seed(seed)


class RandomSampler(Sampler):
    """A random permutation of the indices (repeated when num_samples exceeds the length)
    or, with replacement, `num_samples` indices drawn uniformly.

    Args:
        data_source: the dataset (only its length is read).
        replacement: draw with replacement.
        num_samples: the number of indices per pass (None: len(data_source)).
        generator: the CPU Generator (None: a new one seeded from the global CPU stream
            each pass).
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        from ...creation import randint, randperm

        n = len(self.data_source)
        gen = _epoch_generator(self.generator)
        if self.replacement:
            yield from randint(0, n, (self.num_samples,), generator=gen, device="cpu").tolist()
            return
        for _ in range(self.num_samples // n):
            yield from randperm(n, generator=gen, device="cpu").tolist()
        yield from randperm(n, generator=gen, device="cpu").tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order.

    Args:
        indices: the indices.
        generator: the CPU Generator (None: a new one seeded from the global CPU stream
            each pass).
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        from ...creation import randperm

        gen = _epoch_generator(self.generator)
        for i in randperm(len(self.indices), generator=gen, device="cpu").tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices of ``range(len(weights))`` drawn with probabilities
    proportional to `weights` (with replacement by default; without, each index once).

    Args:
        weights: one non-negative weight per index (need not sum to 1).
        num_samples: the number of indices per pass.
        replacement: draw with replacement.
        generator: the CPU Generator (None: a new one seeded from the global CPU stream
            each pass).
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        from ...creation import as_tensor
        from ... import backend

        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights = as_tensor(weights, dtype=backend.float64, device="cpu")
        if weights.ndim != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights.shape)}")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        from ...creation import multinomial

        yield from multinomial(self.weights, self.num_samples, self.replacement,
                               generator=self.generator).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of `batch_size` consecutive indices from `sampler`; the last one shorter, or
    dropped with drop_last.

    Args:
        sampler: a Sampler or iterable of indices.
        batch_size: the indices per list.
        drop_last: drop the last list when it is shorter.
    """

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
