"""Checks of what a models.toml says, before any of it is used or printed.

Every name that becomes part of a path (repo, file, pypi package, version, file name) must
keep the path inside the models folder; every string must be printable text (no control
characters: a name with an escape sequence must never drive the terminal it is printed on).
Each failure is one sentence (a ``CatalogError``) naming the file and the entry.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from ._errors import CatalogError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

_STRING_KEYS = ("repo", "file", "license", "quantization", "pypi", "pypi_file", "pypi_version",
                "revision", "path", "description")
# Hugging Face repo ids: owner/name, letters, digits, "-", "_", "."; no "--" or "..", which
# also keeps "<owner>--<name>" folder names unique.
_REPO_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")
_PYPI_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")  # PEP 508
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}")
# Characters that are unsafe in a file name on some system we support.
_BAD_IN_SEGMENT = set('\\:<>"|?*')


def printable(text: object) -> str:
    """``text`` safe to print on a terminal: control characters and other unprintable ones
    (escape sequences, bidi overrides) shown as ``\\x1b``-style escapes instead of sent raw."""
    s = str(text)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in s)


def parse(label: str, raw: bytes) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
        return data
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CatalogError(f"{label} is not valid TOML: {e}.") from None


def tables(label: str, data: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    found = data.get(section, {})
    if not isinstance(found, dict) or not all(isinstance(t, dict) for t in found.values()):
        raise CatalogError(f"{label}: [{section}] must hold one table per name, e.g. [{section}.NAME].")
    unknown = set(data) - {"models", "pairs"}
    if unknown:
        raise CatalogError(
            f"{label}: unknown top-level section(s) {printable(', '.join(sorted(unknown)))}."
        )
    return found


def no_dotted_name(where: str, name: str, t: dict[str, Any], section: str) -> None:
    nested = [k for k, v in t.items() if isinstance(v, dict)]
    if nested:
        # [models.qwen2.5-7b] parses as models -> "qwen2" -> "5-7b": say how to write it.
        raise CatalogError(
            f"{where}: a name with a dot must be quoted, e.g. "
            f"[{section}.\"{name}.{printable(nested[0])}\"]."
        )


def check_name(label: str, section: str, name: str) -> None:
    if not name.strip() or not name.isprintable():
        raise CatalogError(
            f"{label}: the name {printable(repr(name))} in [{section}] is empty or holds a "
            "control character (names must be printable text)."
        )


def check_strings(where: str, t: dict[str, Any]) -> None:
    for key in _STRING_KEYS:
        if key in t and not isinstance(t[key], str):
            raise CatalogError(f"{where}: {key} must be a string.")
        if key in t and not t[key].isprintable():
            raise CatalogError(
                f"{where}: {key} holds a control character or other unprintable text "
                f"({printable(repr(t[key]))})."
            )


def check_locations(where: str, t: dict[str, Any]) -> tuple[str, ...]:
    """Every name that becomes part of a path must keep it inside the models folder."""
    repo, file = t.get("repo"), t.get("file")
    if repo is not None and not _is_repo_id(repo):
        raise CatalogError(
            f"{where}: repo must be a Hugging Face repo id like \"owner/name\" (letters, "
            f"digits, '-', '_', '.'), not {repo!r}."
        )
    if file is not None and not _is_relative_file(file):
        raise CatalogError(
            f"{where}: file must be a path inside the repo (no '..', no leading '/', no "
            f"backslash or drive letter), not {file!r}."
        )
    for key in ("pypi",):
        if key in t and not _PYPI_NAME.fullmatch(t[key]):
            raise CatalogError(f"{where}: {key} must be a package name, not {t[key]!r}.")
    if "pypi_file" in t and not _is_segment(t["pypi_file"]):
        raise CatalogError(
            f"{where}: pypi_file must be a plain file name (no '/', '\\' or '..'), not "
            f"{t['pypi_file']!r}."
        )
    if "pypi_version" in t:
        check_version(where, t["pypi_version"])
    parts = t.get("pypi_parts", [])
    if not isinstance(parts, list) or not all(
            isinstance(p, str) and _PYPI_NAME.fullmatch(p) for p in parts):
        raise CatalogError(f"{where}: pypi_parts must be a list of package names.")
    if parts and not t.get("pypi_version"):
        raise CatalogError(f"{where}: pypi_parts needs a pypi_version.")
    return tuple(parts)


def check_version(where: str, version: str) -> None:
    if not _VERSION.fullmatch(version) or ".." in version:
        raise CatalogError(f"{where}: pypi_version must be a version like \"1.0.0\", not "
                           f"{version!r}.")


def _is_repo_id(repo: str) -> bool:
    owner, _, name = repo.partition("/")
    return all(_REPO_PART.fullmatch(p) and "--" not in p and ".." not in p
               for p in (owner, name))


def _is_relative_file(file: str) -> bool:
    return all(_is_segment(seg) for seg in file.split("/"))


def _is_segment(seg: str) -> bool:
    return (seg not in ("", ".", "..") and len(seg) <= 255 and seg.isprintable()
            and not _BAD_IN_SEGMENT & set(seg) and "/" not in seg
            and seg == seg.strip() and not seg.endswith("."))
