"""Rows that stay on disk: a ``.npy`` file or a folder of ``.npy`` shards, read a block at a time.

Blocks are read with plain file reads at offsets taken from the ``.npy`` header, not through a
memory map: every page of a map that is touched counts in the process's resident memory until the
map is closed, so one epoch over a mapped file would grow the process to the size of the file. The
kernel's page cache still serves a second epoch from memory, but that memory is the kernel's to
reclaim.

An epoch (:meth:`RowStream.shuffled_batches`) reads contiguous blocks in a random order through a
``torch.utils.data.DataLoader`` whose workers only read (they start from a fork server: see
``_worker_context``); every random choice is drawn in the main process from the generator it is
given, so the batches do not depend on the number of workers.

The blocks of an epoch are taken in groups of ``GROUP_BLOCKS``. A group of full blocks is striped:
each block's rows are shuffled, and every batch takes ``batch_size / GROUP_BLOCKS`` rows from each
block in turn, so that a contiguous share of a batch comes from a few of the group's blocks. Processes
training together (:meth:`RowStream.shuffled_shares`) then each read only the blocks of their share
of every batch, and the batches are the ones a single process reads. Other groups (the epoch's last,
one with the short last block, or a batch size that GROUP_BLOCKS does not divide) are read whole by
every process, their rows shuffled together.
"""

import math
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import torch
from numpy.typing import ArrayLike

from ._files import _unreadable

# A .npy file larger than this is streamed rather than loaded (``aekit train``, memmaps given to fit).
STREAM_BYTES = 2**30
# A block of an epoch is this many batches' worth of rows, or fewer when they would exceed
# _BLOCK_BYTES: a few blocks are in memory at once (the shuffle buffer and the workers' reads).
_BLOCK_BATCHES = 64
_BLOCK_BYTES = 8 * 2**20
# blocks of an epoch taken together: a striped group, or a buffer whose rows are shuffled together;
# processes training together read their own share of a striped group when their number divides it
GROUP_BLOCKS = 8
# sequential passes (scaler fit, code range) read this much at a time
_PASS_BYTES = 32 * 2**20
# a held-out set (validation, init sample) is this many contiguous pieces at seeded places
_HELD_PIECES = 16

_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class _Shard:
    """One ``.npy`` file: where its rows start and how they are stored."""

    def __init__(self, path):
        self.path = path
        try:
            with open(path, "rb") as f:
                version = np.lib.format.read_magic(f)
                if version not in _HEADER_READERS:
                    raise ValueError(f"format version {version} cannot be streamed")
                shape, fortran_order, self.dtype = _HEADER_READERS[version](f)
                self.offset = f.tell()
        except (ValueError, OSError, EOFError) as e:
            raise _unreadable(path, e) from None
        if self.dtype.kind not in "biuf":
            raise ValueError(f"{path}: data must be numeric, got dtype {self.dtype}")
        if len(shape) not in (2, 3, 4):
            raise ValueError(f"{path}: wrong dimensions: expected a 2-D array (samples, features) or an "
                             f"image stack (N, H, W) or (N, C, H, W), got shape {shape}")
        if fortran_order and math.prod(shape[1:]) > 1:
            raise ValueError(f"{path}: stored in Fortran order, so a row is not contiguous on disk; "
                             "save it with np.save(path, np.ascontiguousarray(X))")
        self.n_rows, self.n_features = shape[0], math.prod(shape[1:])
        if self.n_rows == 0 or self.n_features == 0:
            raise ValueError(f"{path}: empty data: {self.n_rows} rows and {self.n_features} features")
        self.image_shape = None if len(shape) == 2 else (tuple(shape[1:]) if len(shape) == 4 else (1, *shape[1:]))
        self.row_bytes = self.n_features * self.dtype.itemsize
        expected, found = self.offset + self.n_rows * self.row_bytes, Path(path).stat().st_size
        if found < expected:
            raise ValueError(f"{path}: truncated .npy file: expected {expected} bytes for shape {shape}, "
                             f"found {found}")

    def read_into(self, out, start):
        """Rows [start, start + len(out)) of this file into ``out`` (float32), cast from its dtype."""
        raw = np.fromfile(self.path, dtype=self.dtype, count=out.size, offset=self.offset + start * self.row_bytes)
        out[...] = raw.reshape(out.shape)


def _shards(path):
    if not path.is_dir():
        return [_Shard(path)]
    entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
    if not entries:
        raise ValueError(f"{path}: empty folder: no .npy shards")
    for entry in entries:
        if not (entry.is_file() and entry.suffix.lower() == ".npy"):
            raise ValueError(f"{entry}: not a .npy file; a folder of shards holds only .npy files")
    shards = [_Shard(entry) for entry in entries]
    first = shards[0]
    for shard in shards[1:]:
        if (shard.n_features, shard.dtype, shard.image_shape) != (first.n_features, first.dtype, first.image_shape):
            raise ValueError(f"{shard.path}: rows of {shard.n_features} {shard.dtype} values (image shape "
                             f"{shard.image_shape}), but {first.path.name} has rows of {first.n_features} "
                             f"{first.dtype} values (image shape {first.image_shape}); every shard needs the same")
    return shards


def _pieces(starts, start, stop):
    """``(index, offset, length)`` of the consecutive pieces that rows [start, stop) fall in, where
    piece i holds rows [starts[i], starts[i + 1])."""
    index = int(np.searchsorted(starts, start, side="right")) - 1
    while start < stop:
        end = min(stop, int(starts[index + 1]))
        yield index, start - int(starts[index]), end - start
        start, index = end, index + 1


class RowStream:
    """The rows of a ``.npy`` file or of a folder of ``.npy`` shards, read from disk on demand.

    Made by :func:`open_rows`. It behaves as a read-only (n_rows, n_features) matrix that is read in
    blocks: ``read(start, stop)`` gives float32 rows, with ``transform`` (a scaler's, say) applied.
    Estimators' ``fit`` accept it as ``X`` and train on it without holding it in memory.

    Attributes
    ----------
    n_rows, n_features : int
    dtype : numpy.dtype
        The dtype on disk; rows are read as float32.
    image_shape : (C, H, W) or None
        Set for files of image stacks (N, H, W) or (N, C, H, W), as :func:`aekit.datasets.load` does.
    num_workers : int
        Worker processes that read the blocks of a training epoch (0 reads in the main process).
    transform : callable or None
        Applied to every block read (float32 rows in, float32 rows out); with workers it travels to
        them pickled, so it must be picklable (a function or bound method, not a lambda).

    Examples
    --------
    >>> rows = open_rows("big.npy")  # doctest: +SKIP
    >>> rows.shape, rows.read(0, 2).dtype  # doctest: +SKIP
    ((680000, 784), dtype('float32'))
    >>> ae = aekit.Autoencoder().fit(rows)  # doctest: +SKIP
    """

    def __init__(self, source, shards, ranges=None, transform=None, num_workers=2):
        self.source = source
        self._shards = shards
        self._shard_starts = np.cumsum([0] + [s.n_rows for s in shards])
        # this stream's rows are these [start, stop) ranges of the shards' rows, in order
        self._ranges = [(0, int(self._shard_starts[-1]))] if ranges is None else list(ranges)
        self._starts = np.cumsum([0] + [stop - start for start, stop in self._ranges])
        self.transform = transform
        self.num_workers = num_workers

    @property
    def n_rows(self) -> int:
        return int(self._starts[-1])

    @property
    def n_features(self) -> int:
        return self._shards[0].n_features

    @property
    def dtype(self) -> np.dtype:
        return self._shards[0].dtype

    @property
    def image_shape(self) -> tuple[int, ...] | None:
        return self._shards[0].image_shape

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_rows, self.n_features

    def __len__(self):
        return self.n_rows

    def __repr__(self):
        return f"RowStream({str(self.source)!r}, n_rows={self.n_rows}, n_features={self.n_features})"

    def _derived(self, ranges=None, transform=None):
        ranges = self._ranges if ranges is None else ranges
        return RowStream(self.source, self._shards, ranges, transform or self.transform, self.num_workers)

    def transformed(self, transform: Callable[[np.ndarray], np.ndarray]) -> "RowStream":
        """The same rows with ``transform`` applied to every block read."""
        return self._derived(transform=transform)

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows [start, stop) (all by default) as a float32 array (stop - start, n_features)."""
        stop = self.n_rows if stop is None else min(stop, self.n_rows)
        out = np.empty((max(stop - start, 0), self.n_features), np.float32)
        filled = 0
        for r, offset, length in _pieces(self._starts, start, stop):
            first = self._ranges[r][0] + offset
            for s, shard_offset, n in _pieces(self._shard_starts, first, first + length):
                self._shards[s].read_into(out[filled:filled + n], shard_offset)
                filled += n
        return out if self.transform is None else self.transform(out)

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, rows)`` for consecutive blocks of about 32 MB of float32 rows: a pass over all rows."""
        block_rows = max(1, _PASS_BYTES // (4 * self.n_features))
        for start in range(0, self.n_rows, block_rows):
            yield start, self.read(start, start + block_rows)

    def split(self, n_rows: int, random_state: int | None) -> tuple["RowStream", "RowStream"]:
        """``(held, rest)``: about ``n_rows`` rows in a few contiguous pieces at seeded places, and the
        others, as two streams. Contiguous pieces read fast; spreading them samples the whole file."""
        n_rows = min(n_rows, self.n_rows)
        size = math.ceil(n_rows / _HELD_PIECES)
        n_pieces = self.n_rows // size
        chosen = np.sort(np.random.RandomState(random_state).choice(n_pieces, min(_HELD_PIECES, n_pieces),
                                                                    replace=False))
        held, left = [], n_rows
        for piece in chosen:
            take = min(size, left)
            held.append((int(piece) * size, int(piece) * size + take))
            left -= take
        held = [(start, stop) for start, stop in held if stop > start]
        edges = [0, *(e for piece in held for e in piece), self.n_rows]
        rest = [(a, b) for a, b in zip(edges[0::2], edges[1::2]) if b > a]
        return self._derived(self._absolute(held)), self._derived(self._absolute(rest))

    def _absolute(self, ranges):
        """Ranges of this stream's rows as ranges of the shards' rows."""
        out = []
        for start, stop in ranges:
            for r, offset, length in _pieces(self._starts, start, stop):
                first = self._ranges[r][0] + offset
                out.append((first, first + length))
        return out

    def shuffled_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """One epoch of float32 batches (tensors) of ``batch_size`` rows (the last may be smaller).

        Blocks of contiguous rows are read in an order drawn from ``generator``, by ``num_workers``
        worker processes, and shuffled in groups (see the module's docstring).
        """
        for rows, _ in self.shuffled_shares(batch_size, generator):
            yield rows

    def shuffled_shares(self, batch_size: int, generator: torch.Generator, rank: int = 0,
                        world: int = 1) -> Iterator[tuple[torch.Tensor, int]]:
        """The epoch of :meth:`shuffled_batches` as ``(share, rows of the batch)`` for process ``rank``
        of ``world``: its contiguous share of each batch (rows ``n * rank // world`` to ``n * (rank +
        1) // world`` of a batch of n), reading only the blocks of striped groups that hold its shares.
        The random draws are the same in every process, whatever its rank."""
        # whole batches per block: buffers and batches then keep one size all epoch, and the allocator
        # reuses their memory instead of fragmenting it (which grows the process steadily)
        batches = max(1, min(_BLOCK_BATCHES, _BLOCK_BYTES // (4 * self.n_features * batch_size)))
        block_rows = batches * batch_size
        n_blocks = math.ceil(self.n_rows / block_rows)
        order = torch.randperm(n_blocks, generator=generator).tolist()
        groups = [order[i:i + GROUP_BLOCKS] for i in range(0, n_blocks, GROUP_BLOCKS)]
        can_stripe = batch_size % GROUP_BLOCKS == 0 and GROUP_BLOCKS % world == 0
        striped = [can_stripe and len(g) == GROUP_BLOCKS and (max(g) + 1) * block_rows <= self.n_rows
                   for g in groups]
        mine = GROUP_BLOCKS // world if can_stripe else 0
        reads = [b for g, s in zip(groups, striped) for b in (g[rank * mine:(rank + 1) * mine] if s else g)]
        # The loader's own generator only seeds its workers, which draw nothing: a fixed one keeps the
        # global torch generator untouched.
        loader = iter(torch.utils.data.DataLoader(
            _Blocks(self, block_rows), batch_size=None, sampler=reads, num_workers=self.num_workers,
            generator=torch.Generator(), multiprocessing_context=_worker_context() if self.num_workers else None))
        pending = torch.empty(0, self.n_features)
        for i, (group, is_striped) in enumerate(zip(groups, striped)):
            if is_striped:
                yield from self._striped_shares(loader, generator, block_rows, batch_size, rank, mine)
                continue
            rows = torch.cat([pending] + [next(loader) for _ in group])
            shuffle = torch.randperm(len(rows), generator=generator)
            # rows short of a full batch wait for the next group, so only the epoch's last batch is short
            full = len(rows) if i == len(groups) - 1 else len(rows) - len(rows) % batch_size
            for start in range(0, full, batch_size):
                yield _share(rows[shuffle[start:min(start + batch_size, full)]], rank, world)
            pending = rows[shuffle[full:]]
        if len(pending):
            yield _share(pending, rank, world)

    @staticmethod
    def _striped_shares(loader, generator, block_rows, batch_size, rank, mine):
        """The batches of a striped group: each takes ``batch_size / GROUP_BLOCKS`` rows of every block's
        shuffled rows, block after block; this process holds blocks ``rank * mine`` to ``(rank + 1) *
        mine`` of the group, the share it yields."""
        shuffles = [torch.randperm(block_rows, generator=generator) for _ in range(GROUP_BLOCKS)]
        blocks = [next(loader)[shuffles[rank * mine + j]] for j in range(mine)]
        piece = batch_size // GROUP_BLOCKS
        for start in range(0, block_rows, piece):
            yield torch.cat([block[start:start + piece] for block in blocks]), batch_size


def _share(batch: torch.Tensor, rank: int, world: int) -> tuple[torch.Tensor, int]:
    n = len(batch)
    return batch[n * rank // world:n * (rank + 1) // world], n


def _worker_context():
    """Where the reading workers come from: a fork server, so that the training process never forks.
    A fork copies the locks that the process's other threads hold at that instant (a process group's
    threads, the previous epoch's loader winding down), and the child can wait on one for ever; the
    server has no other threads. It imports this module (and torch) once; each worker is a fork of it."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None  # Windows: workers are spawned, never forked
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


class _Blocks(torch.utils.data.Dataset):
    """Block i of a stream: what a DataLoader worker reads."""

    def __init__(self, stream, block_rows):
        self.stream = stream
        self.block_rows = block_rows

    def __len__(self):
        return math.ceil(self.stream.n_rows / self.block_rows)

    def __getitem__(self, i):
        return torch.from_numpy(self.stream.read(i * self.block_rows, (i + 1) * self.block_rows))


def open_rows(path: str | os.PathLike, *, num_workers: int = 2) -> RowStream:
    """Open a ``.npy`` file, or a folder of ``.npy`` shards, as a :class:`RowStream`.

    Shards are taken in sorted name order and must agree on the number of features, the dtype and
    the image shape. Only the headers are read here.

    Parameters
    ----------
    path : str or path-like
    num_workers : int
        Processes that read blocks while a model trains (0: the training process reads them).

    Raises
    ------
    ValueError
        A file that is not a plain numeric ``.npy`` array of 2 to 4 dimensions, an empty or
        truncated one, a folder that is empty or holds anything but ``.npy`` files, or shards that
        disagree; the message names the file.

    Examples
    --------
    >>> rows = open_rows("shards/")  # doctest: +SKIP
    >>> rows.n_rows, rows.n_features  # doctest: +SKIP
    (1000000, 784)
    """
    if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 0:
        raise ValueError(f"num_workers must be a non-negative integer, got {num_workers!r}")
    path = Path(path).expanduser()
    if not path.exists():
        raise ValueError(f"{path}: no such file or folder")
    return RowStream(path, _shards(path), num_workers=num_workers)


def as_stream(X: object) -> RowStream | None:
    """``X`` as a RowStream when it should be streamed, else None.

    A RowStream is one; so is a memory map of a whole ``.npy`` file (``np.load(path, mmap_mode="r")``)
    larger than ``STREAM_BYTES``, because touching all of it through the map would bring all of it
    into the process's memory. Smaller maps and slices of maps are read into memory like arrays.
    """
    if isinstance(X, RowStream):
        return X
    if not (isinstance(X, np.memmap) and X.nbytes > STREAM_BYTES and X.flags.c_contiguous
            and str(X.filename).lower().endswith(".npy")):
        return None
    try:
        stream = open_rows(X.filename)
    except ValueError:
        return None
    shard = stream._shards[0]
    whole_file = (shard.offset, shard.n_rows, shard.n_features, shard.dtype) == (
        X.offset, X.shape[0], math.prod(X.shape[1:]), X.dtype)
    return stream if whole_file else None


def row_blocks(X: ArrayLike | RowStream) -> Iterable[tuple[int, ArrayLike]]:
    """``(start, rows)`` blocks of ``X``: a stream (see :func:`as_stream`) in blocks, anything else
    as one block, so that a pass over the rows is written once for both."""
    stream = as_stream(X)
    return [(0, X)] if stream is None else stream.blocks()
