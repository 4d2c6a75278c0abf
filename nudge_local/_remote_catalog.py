"""Remote models in models.toml: a model entry may name a server instead of a file.

    [models.llama2-70b-lab]
    role = "base"
    url = "https://vllm.lab.example:8000/v1"
    model = "meta-llama/Llama-2-70b-hf"      # optional: the server's only model otherwise
    api_key_env = "LAB_VLLM_KEY"               # optional: the key is read from this variable

    [pairs.lab-70b]
    base = "llama2-70b-lab"
    nudging = "smollm2-1.7b-instruct"          # a local GGUF entry (or another remote one)

The key itself never goes in the file: ``api_key`` is refused with a sentence saying so. An
instruct (nudging) entry may name a Hub ``repo`` whose ``tokenizer_config.json`` holds its
chat template, for servers that do not publish one (llama-server does, in ``/props``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from ._errors import CatalogError, ChatTemplateError, SettingError

if TYPE_CHECKING:  # catalog imports this module: no import of it at run time
    from .catalog import ModelEntry
    from .remote import RemoteModel
from ._remote_http import check_url

#: Keys a remote entry may have besides ``role`` and ``description`` (and ``repo``/``revision``
#: for a chat template on the Hub).
REMOTE_KEYS = {"url", "model", "api_key_env"}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: What a remote entry cannot have (it has no file).
_FILE_KEYS = ("file", "path", "pypi", "pypi_file", "pypi_version", "pypi_parts", "size", "sha256")


def check_remote_entry(where: str, table: Mapping[str, Any]) -> None:
    """Refuse, in one sentence, a malformed remote entry (``where`` names it in messages)."""
    if "api_key" in table:
        raise CatalogError(f"{where} holds an API key; keys never go in models.toml - put it in an environment "
                           "variable and name that variable with api_key_env.")
    if "url" not in table:
        return
    try:
        check_url(table["url"], "model server")
    except SettingError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    model = table.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise CatalogError(f"{where}: model must be the served model's name (text).")
    env = table.get("api_key_env")
    if env is not None and (not isinstance(env, str) or not _ENV_NAME.match(env)):
        raise CatalogError(f"{where}: api_key_env must name an environment variable (letters, digits, _).")
    clash = [k for k in _FILE_KEYS if k in table]
    if clash:
        raise CatalogError(f"{where} names a server (url) and a file ({', '.join(clash)}); give one or the other.")


def remote_url(entry: ModelEntry) -> str | None:
    """The server URL of a catalog entry, None for a model file."""
    return entry.url or None


def remote_model(entry: ModelEntry) -> RemoteModel:
    """The :class:`~nudge_local.remote.RemoteModel` of a remote catalog entry."""
    from .remote import RemoteModel

    env = entry.api_key_env
    key = None
    if env:
        key = os.environ.get(env)
        if not key:
            raise SettingError(f"Model {entry.name!r} reads its API key from the environment variable {env}, "
                               "which is not set.")
    role: Literal["base", "nudging"] = "base" if entry.role == "base" else "nudging"
    template_repo = entry.repo if role == "nudging" else None
    assert entry.url is not None
    return RemoteModel(entry.url, entry.model, key, role=role,
                       template_repo=template_repo, template_revision=entry.revision)


def hub_chat_template(repo: str, revision: str | None = None) -> str:
    """The chat template in a Hub repo's ``tokenizer_config.json`` (the ``default`` one when it
    holds several), fetched with huggingface-hub (``HF_ENDPOINT`` is honoured)."""
    import httpx
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    from ._hub_fetch import endpoint_url

    try:
        path = hf_hub_download(repo, "tokenizer_config.json", revision=revision, endpoint=endpoint_url())
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (HfHubHTTPError, LocalEntryNotFoundError, httpx.HTTPError, OSError, ValueError) as exc:
        raise ChatTemplateError(f"Cannot fetch the chat template of {repo} from the Hub "
                                f"({type(exc).__name__}); pass one with --chat-template FILE.") from None
    template = config.get("chat_template") if isinstance(config, dict) else None
    if isinstance(template, list):  # [{"name": "default", "template": "..."}, ...]
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default") or next(iter(named.values()), None)
    if not isinstance(template, str) or not template.strip():
        raise ChatTemplateError(f"The Hub repo {repo} has no chat template in tokenizer_config.json; pass one "
                                "with --chat-template FILE.")
    return template
