"""What the public layer shows about a loaded model, from the model seams only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from ._backend import Backend
from ._memory import kv_cache_bytes
from ._text_model import TextModel
from ._types import ModelInfo

Model = Backend | TextModel

# GGUF general.file_type values (llama.cpp's llama_ftype) of the common quantizations.
_FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
               11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
               17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}

_INSTRUCT_MARKERS = ("instruct", "-it", "_it", "chat", "-sft", "-dpo", "rlhf")


def is_text_model(model: object) -> bool:
    return isinstance(model, TextModel) and not isinstance(model, Backend)


def metadata_of(model: Model) -> Mapping[str, str]:
    if isinstance(model, Backend):
        return model.metadata
    return model.description.metadata


def model_info(model: Model, name: str, role: Literal["base", "nudging"]) -> ModelInfo:
    meta = metadata_of(model)
    if isinstance(model, Backend):
        path, settings, n_ctx = model.path, model.settings, model.n_ctx
        engine, url, n_vocab = model.engine, None, model.n_vocab
    else:
        d = model.description
        path, settings, n_ctx, engine, url, n_vocab = d.path, None, d.n_ctx, d.engine, d.url, 0
    size = os.path.getsize(path) if path and os.path.isfile(path) else 0
    return ModelInfo(
        name=name, role=role, engine=engine, path=path, file_bytes=size, n_ctx=n_ctx, n_vocab=n_vocab,
        n_threads=settings.n_threads if settings else None,
        n_gpu_layers=settings.n_gpu_layers if settings else None,
        url=url,
        kv_cache_bytes=kv_cache_bytes(meta, n_ctx) if meta and n_ctx else None,
        architecture=meta.get("general.architecture", ""),
        quantization=quantization(meta),
    )


def quantization(meta: Mapping[str, str]) -> str:
    try:
        return _FILE_TYPES.get(int(meta.get("general.file_type", "")), "")
    except ValueError:
        return ""


def special_texts(model: Model) -> dict[str, str]:
    """How the model spells its BOS/EOS tokens (chat templates write them as text)."""
    if not isinstance(model, Backend):
        return dict(model.special_texts)
    texts = {}
    bos, eos = model.bos_id, model.eos_id
    if bos is not None:
        texts["bos_token"] = model.token_text(bos)
    if eos is not None:
        texts["eos_token"] = model.token_text(eos)
    return texts


def looks_instruct(model: Model, name: str) -> bool:
    """Whether the model given as *base* looks instruction-tuned (names and GGUF metadata)."""
    meta = metadata_of(model)
    fields = [name, meta.get("general.name", ""), meta.get("general.finetune", ""),
              meta.get("general.basename", "")]
    text = " ".join(fields).lower()
    if meta.get("general.finetune", "").lower() in ("it", "instruct", "chat"):
        return True
    return any(marker in text for marker in _INSTRUCT_MARKERS)
