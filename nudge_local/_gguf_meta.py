"""Read a GGUF file's header key/values without loading the model (for memory estimates).

GGUF v2/v3 layout: magic ``GGUF``, uint32 version, uint64 tensor count, uint64 key/value count,
then key/values: a string key (uint64 length + UTF-8), a uint32 type, a typed value. Arrays are
(uint32 element type, uint64 count, elements). Little-endian throughout.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from ._errors import ModelFileError

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
#: Long arrays (the tokenizer's vocabulary) are skipped, only their length is kept.
_KEEP_ARRAY_MAX = 1024


def read_metadata(path: str | Path) -> dict[str, Any]:
    """All header key/values; arrays longer than 1024 elements are replaced by their length."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return _read(f, path)
    except (struct.error, UnicodeDecodeError, EOFError) as e:
        raise ModelFileError(f"{path} has a truncated or malformed GGUF header ({e}).") from None


def _read(f: BinaryIO, path: Path) -> dict[str, Any]:
    if f.read(4) != b"GGUF":
        raise ModelFileError(f"{path} is not a GGUF file (wrong magic bytes).")
    (version,) = struct.unpack("<I", f.read(4))
    if version < 2:
        raise ModelFileError(f"{path} is GGUF version {version}; only versions 2 and 3 are read.")
    _tensors, n_kv = struct.unpack("<QQ", f.read(16))
    meta: dict[str, Any] = {}
    for _ in range(n_kv):
        key = _string(f)
        (typ,) = struct.unpack("<I", f.read(4))
        meta[key] = _value(f, typ)
    return meta


def _string(f: BinaryIO) -> str:
    (n,) = struct.unpack("<Q", _exact(f, 8))
    return _exact(f, n).decode("utf-8")


def _exact(f: BinaryIO, n: int) -> bytes:
    b = f.read(n)
    if len(b) != n:
        raise EOFError("unexpected end of file")
    return b


def _value(f: BinaryIO, typ: int) -> Any:
    if typ in _SCALARS:
        fmt = _SCALARS[typ]
        return struct.unpack(fmt, _exact(f, struct.calcsize(fmt)))[0]
    if typ == _STRING:
        return _string(f)
    if typ == _ARRAY:
        elem, count = struct.unpack("<IQ", _exact(f, 12))
        if count > _KEEP_ARRAY_MAX:
            _skip_array(f, elem, count)
            return count
        return [_value(f, elem) for _ in range(count)]
    raise struct.error(f"unknown value type {typ}")


def _skip_array(f: BinaryIO, elem: int, count: int) -> None:
    if elem in _SCALARS:
        f.seek(struct.calcsize(_SCALARS[elem]) * count, 1)
    elif elem == _STRING:
        for _ in range(count):
            (n,) = struct.unpack("<Q", _exact(f, 8))
            f.seek(n, 1)
    else:
        for _ in range(count):
            _value(f, elem)


def kv_cache_bytes(meta: Mapping[str, Any], n_ctx: int, bytes_per_value: int = 2) -> int:
    """K and V cache size at ``n_ctx`` tokens (f16 by default), from the model's shape."""
    arch = meta.get("general.architecture")
    if not arch:
        raise ModelFileError("GGUF header has no general.architecture.")

    def get(key: str, default: Any = None) -> Any:
        return meta.get(f"{arch}.{key}", default)

    n_layer = get("block_count")
    n_embd = get("embedding_length")
    n_head = get("attention.head_count")
    if not (n_layer and n_embd and n_head):
        raise ModelFileError(f"GGUF header lacks the {arch} shape (block_count, embedding_length, "
                             "attention.head_count).")
    n_head = max(n_head) if isinstance(n_head, list) else n_head
    n_head_kv = get("attention.head_count_kv", n_head)
    # Some models list one value per layer; sum them so mixed layers are counted exactly.
    kv_heads = (sum(n_head_kv) if isinstance(n_head_kv, list) else n_head_kv * n_layer)
    k_dim = get("attention.key_length", n_embd // n_head)
    v_dim = get("attention.value_length", n_embd // n_head)
    return int(n_ctx * kv_heads * (k_dim + v_dim) * bytes_per_value)
