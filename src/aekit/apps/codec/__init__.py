"""Lossy compression of data rows with a fitted autoencoder.

:func:`compress` encodes the rows, quantises each code dimension uniformly over the range its codes
took on the training data (``code_range_``; values outside are clipped), entropy-codes the symbols
and wraps them in a small container; :func:`decompress` checks the container and decodes.

The parts, each in a module of its own:

- :mod:`~aekit.apps.codec.container`: the file format (header, checksum, model hash), ``compress``
  and ``decompress``;
- :mod:`~aekit.apps.codec.quantiser`: codes to symbols and back (``quantise``, ``dequantise``);
- :mod:`~aekit.apps.codec.entropy`: symbols to bytes and back through ``constriction``'s range
  coder (``entropy_encode``, ``entropy_decode`` for quantised codes; ``encode_with_tables``,
  ``decode_with_tables`` for a model's own entropy model);
- :mod:`~aekit.apps.codec.conditional`: codes under a hyperprior (format 3);
- :mod:`~aekit.apps.codec.legacy`: the pure-Python coder of format version 1, still read;
- :mod:`~aekit.apps.codec.baseline`: the standard image codecs it is measured against
  (``pillow_point``).

Example
-------
>>> from aekit import Autoencoder, codec
>>> from aekit.datasets import load
>>> digits = load("digits", split="train").data
>>> ae = Autoencoder(hidden=(32,), latent=6, epochs=5, random_state=0).fit(digits)
>>> data = codec.compress(ae, digits[:100], bits=6)
>>> codec.read_header(data).n_rows, codec.decompress(ae, data).shape
(100, (100, 64))
"""

# the baseline is for measuring, not part of the codec's API (hence not in __all__)
from .baseline import pillow_point as pillow_point
from .container import (
    FORMAT_VERSION,
    HEADER_SIZE,
    HYPERPRIOR_VERSION,
    MAGIC,
    OWN_MODEL,
    READ_VERSIONS,
    Header,
    compress,
    decompress,
    model_hash,
    read_header,
)
from .entropy import decode_with_tables, encode_with_tables, entropy_decode, entropy_encode
from .quantiser import dequantise, quantise

__all__ = ["FORMAT_VERSION", "HEADER_SIZE", "HYPERPRIOR_VERSION", "MAGIC", "OWN_MODEL", "READ_VERSIONS", "Header",
           "compress", "decode_with_tables", "decompress", "dequantise", "encode_with_tables", "entropy_decode",
           "entropy_encode", "model_hash", "quantise", "read_header"]
