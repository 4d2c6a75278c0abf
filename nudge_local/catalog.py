"""The model catalog: which GGUF files exist, which pairs go together, where the files live.

The packaged ``models.toml`` ships with nudge-local; a ``models.toml`` in the user config dir
adds entries or replaces packaged ones of the same name (whole entries, not single fields, so a
replaced model never mixes one file's name with another file's size and sha256).

Files live in the user cache dir (``<cache>/models/<owner>--<repo>/<file>``); demo models come
from PyPI packages when those are installed (see ``_pypi_models``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import platformdirs

from ._errors import CatalogError, ModelNotInstalledError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

APP_NAME = "nudge-local"
Role = Literal["base", "instruct"]
_MODEL_KEYS = {
    "role", "repo", "file", "size", "license", "sha256", "quantization", "pypi", "pypi_file",
    "revision", "path", "description",
}
_PAIR_KEYS = {"base", "nudging", "gamma", "description"}


@dataclass(frozen=True)
class ModelEntry:
    name: str
    role: Role
    repo: str | None
    file: str | None
    size: int
    license: str
    sha256: str | None = None
    quantization: str = ""
    pypi: str | None = None
    pypi_file: str | None = None
    #: Hub revision (branch, tag or commit) the catalog's size and sha256 belong to.
    revision: str | None = None
    #: A local file the user points at directly (user models.toml only, typically).
    path: str | None = None
    description: str = ""


@dataclass(frozen=True)
class PairEntry:
    name: str
    base: str
    nudging: str
    gamma: float
    description: str


@dataclass
class Catalog:
    models: dict[str, ModelEntry]
    pairs: dict[str, PairEntry]
    #: The files read, packaged first.
    sources: list[str]

    def model(self, name: str) -> ModelEntry:
        try:
            return self.models[name]
        except KeyError:
            raise CatalogError(
                f"Unknown model {name!r}; known models: {', '.join(sorted(self.models))}."
            ) from None

    def pair(self, name: str) -> PairEntry:
        try:
            return self.pairs[name]
        except KeyError:
            raise CatalogError(
                f"Unknown pair {name!r}; known pairs: {', '.join(sorted(self.pairs))}."
            ) from None

    def pair_models(self, name: str) -> tuple[ModelEntry, ModelEntry]:
        pair = self.pair(name)
        return self.model(pair.base), self.model(pair.nudging)

    def lookup(self, name: str) -> PairEntry | ModelEntry:
        """A pair or a model by name (pairs win if a name is both)."""
        if name in self.pairs:
            return self.pairs[name]
        if name in self.models:
            return self.models[name]
        raise CatalogError(
            f"{name!r} is neither a pair ({', '.join(sorted(self.pairs))}) "
            f"nor a model ({', '.join(sorted(self.models))}) in the catalog."
        )


# ---------------------------------------------------------------- directories

def user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def user_catalog_path() -> Path:
    return user_config_dir() / "models.toml"


def models_dir() -> Path:
    """Where downloaded and assembled model files live."""
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "models"


def hub_path(entry: ModelEntry) -> Path:
    """Where a Hub download of ``entry`` lands (the engine loads exactly this path)."""
    if not entry.repo or not entry.file:
        raise CatalogError(f"Model {entry.name!r} has no Hugging Face repo and file.")
    return models_dir() / entry.repo.replace("/", "--") / entry.file


def partial_path(entry: ModelEntry) -> Path:
    """The resumable, unverified download; never loaded by the engine."""
    final = hub_path(entry)
    return final.with_name(final.name + ".part")


# ---------------------------------------------------------------- loading

def load_catalog() -> Catalog:
    packaged = resources.files("nudge_local").joinpath("models.toml")
    models: dict[str, ModelEntry] = {}
    pairs: dict[str, PairEntry] = {}
    sources: list[str] = []
    pair_origin: dict[str, str] = {}
    layers = [(str(packaged), packaged.read_bytes())]
    user = user_catalog_path()
    if user.is_file():
        layers.append((str(user), user.read_bytes()))
    for label, raw in layers:
        data = _parse(label, raw)
        sources.append(label)
        for name, table in _tables(label, data, "models").items():
            models[name] = _model(label, name, table)
        for name, table in _tables(label, data, "pairs").items():
            pairs[name] = _pair(label, name, table)
            pair_origin[name] = label
    for pair in pairs.values():
        for role in ("base", "nudging"):
            ref = getattr(pair, role)
            if ref not in models:
                raise CatalogError(
                    f"{pair_origin[pair.name]}: pair {pair.name!r} names {role} model {ref!r}, "
                    "which no [models] entry defines."
                )
    return Catalog(models=models, pairs=pairs, sources=sources)


def _parse(label: str, raw: bytes) -> dict:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CatalogError(f"{label} is not valid TOML: {e}.") from None


def _tables(label: str, data: dict, section: str) -> dict[str, dict]:
    tables = data.get(section, {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise CatalogError(f"{label}: [{section}] must hold one table per name, e.g. [{section}.NAME].")
    unknown = set(data) - {"models", "pairs"}
    if unknown:
        raise CatalogError(f"{label}: unknown top-level section(s) {', '.join(sorted(unknown))}.")
    return tables


def _no_dotted_name(where: str, name: str, t: dict, section: str) -> None:
    nested = [k for k, v in t.items() if isinstance(v, dict)]
    if nested:
        # [models.qwen2.5-7b] parses as models -> "qwen2" -> "5-7b": say how to write it.
        raise CatalogError(
            f"{where}: a name with a dot must be quoted, e.g. [{section}.\"{name}.{nested[0]}\"]."
        )


def _model(label: str, name: str, t: dict) -> ModelEntry:
    where = f"{label}: [models.{name}]"
    _no_dotted_name(where, name, t, "models")
    unknown = set(t) - _MODEL_KEYS
    if unknown:
        raise CatalogError(f"{where} has unknown key(s) {', '.join(sorted(unknown))}.")
    role = t.get("role")
    if role not in ("base", "instruct"):
        raise CatalogError(f"{where} needs role = \"base\" or \"instruct\", not {role!r}.")
    has_hub = bool(t.get("repo")) and bool(t.get("file"))
    if not (has_hub or t.get("path") or t.get("pypi")):
        raise CatalogError(f"{where} needs repo and file, a pypi package, or a local path.")
    if t.get("pypi") and not t.get("pypi_file"):
        raise CatalogError(f"{where} names a pypi package but no pypi_file.")
    size = t.get("size", 0 if t.get("path") else None)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise CatalogError(f"{where} needs size = <bytes> as a whole number.")
    sha = t.get("sha256")
    if sha is not None and (not isinstance(sha, str) or len(sha) != 64
                            or any(c not in "0123456789abcdef" for c in sha)):
        raise CatalogError(f"{where}: sha256 must be 64 lowercase hex digits.")
    for key in ("repo", "file", "license", "quantization", "pypi", "pypi_file", "revision",
                "path", "description"):
        if key in t and not isinstance(t[key], str):
            raise CatalogError(f"{where}: {key} must be a string.")
    return ModelEntry(
        name=name, role=role, repo=t.get("repo"), file=t.get("file"), size=size,
        license=t.get("license", "unknown"), sha256=sha, quantization=t.get("quantization", ""),
        pypi=t.get("pypi"), pypi_file=t.get("pypi_file"), revision=t.get("revision"),
        path=t.get("path"), description=t.get("description", ""),
    )


def _pair(label: str, name: str, t: dict) -> PairEntry:
    where = f"{label}: [pairs.{name}]"
    _no_dotted_name(where, name, t, "pairs")
    unknown = set(t) - _PAIR_KEYS
    if unknown:
        raise CatalogError(f"{where} has unknown key(s) {', '.join(sorted(unknown))}.")
    for key in ("base", "nudging"):
        if not isinstance(t.get(key), str):
            raise CatalogError(f"{where} needs {key} = \"<model name>\".")
    gamma = t.get("gamma", 0.4)
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0.0 <= gamma <= 1.0:
        raise CatalogError(f"{where}: gamma must be a number between 0 and 1.")
    return PairEntry(name=name, base=t["base"], nudging=t["nudging"], gamma=float(gamma),
                     description=str(t.get("description", "")))


# ---------------------------------------------------------------- where the files are

@dataclass(frozen=True)
class ModelStatus:
    name: str
    state: Literal["present", "missing", "partial"]
    #: The loadable file, when one exists now (a PyPI model not yet assembled has none yet).
    path: Path | None
    size_on_disk: int
    #: "pypi", "hub" or "path"; None when missing.
    source: str | None
    detail: str = ""


def locate_model(entry: ModelEntry) -> Path:
    """The local .gguf file for ``entry``; assembles a chunked PyPI model on first use."""
    from . import _pypi_models

    if entry.path:
        p = Path(entry.path).expanduser()
        if p.is_file():
            return p
        raise ModelNotInstalledError(
            f"Model {entry.name!r} points at {p}, which does not exist; fix its path in "
            f"{user_catalog_path()}."
        )
    if entry.pypi:
        found = _pypi_models.locate(entry)
        if found is not None:
            return found
    if entry.repo and entry.file:
        p = hub_path(entry)
        if p.is_file():
            return p
    raise ModelNotInstalledError(_install_hint(entry))


def model_status(entry: ModelEntry) -> ModelStatus:
    """Present / missing / partial, without downloading or assembling anything."""
    from . import _pypi_models

    if entry.path:
        p = Path(entry.path).expanduser()
        if p.is_file():
            return ModelStatus(entry.name, "present", p, p.stat().st_size, "path")
        return ModelStatus(entry.name, "missing", None, 0, None, f"{p} does not exist")
    if entry.pypi:
        st = _pypi_models.status(entry)
        if st is not None:
            path, size, detail = st
            return ModelStatus(entry.name, "present", path, size, "pypi", detail)
    if entry.repo and entry.file:
        p = hub_path(entry)
        if p.is_file():
            return ModelStatus(entry.name, "present", p, p.stat().st_size, "hub")
        part = partial_path(entry)
        if part.is_file():
            size = part.stat().st_size
            return ModelStatus(entry.name, "partial", None, size, "hub",
                               f"download interrupted at {size} of {entry.size} bytes")
    return ModelStatus(entry.name, "missing", None, 0, None, _install_hint(entry))


def _install_hint(entry: ModelEntry) -> str:
    from ._pypi_models import DEMO_PACKAGES

    if entry.pypi and not (entry.repo and entry.file):
        extra = "nudge-local[demo]" if entry.pypi in DEMO_PACKAGES else entry.pypi
        return f"Model {entry.name!r} is not installed; install it with: pip install '{extra}'."
    if entry.pypi in DEMO_PACKAGES:
        return (f"Model {entry.name!r} is not installed; install it with: "
                f"pip install 'nudge-local[demo]' (or: nudge-local download {entry.name}).")
    return f"Model {entry.name!r} is not downloaded; get it with: nudge-local download {entry.name}."
