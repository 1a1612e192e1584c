"""DistributedSampler: each rank's share of a dataset's indices, as torch.utils.data's."""
import math

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Rank `rank` of `num_replicas` visits indices ``rank, rank + num_replicas, ...`` of a
    (shuffled, when `shuffle`) order of the dataset. The shards are disjoint; without
    `drop_last` the order is padded by repeating its start so every rank gets
    ``ceil(len / num_replicas)`` indices, with it the tail is dropped so every rank gets
    ``floor``. The shuffle is a permutation drawn from a generator seeded with
    ``seed + epoch`` (call ``set_epoch`` each epoch), the same on every rank; its numbers are
    this library's (PCG64), not PyTorch's.

    Args:
        dataset: the map-style dataset (only its length is read).
        num_replicas: the number of ranks (None: the default group's world size).
        rank: this rank (None: ``distributed.get_rank()``).
        shuffle: shuffle the order (the same permutation on every rank).
        seed: the seed of the shuffle, plus the epoch.
        drop_last: drop the tail so the shards are equal without padding.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, "
                             f"{num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            from ...creation import Generator, randperm

            g = Generator("cpu").manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g, device="cpu").tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"{len(indices)} indices for a total size of {self.total_size}")
        indices = indices[self.rank:self.total_size:self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"{len(indices)} indices for {self.num_samples} samples")
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Sets the epoch the shuffle is seeded with (seed + epoch).

        Args:
            epoch: the epoch number.
        """
        self.epoch = epoch
