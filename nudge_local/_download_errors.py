"""The typed errors of downloads (re-exported by ``nudge_local.download``).

They live in their own module so that the transfer code (``_http_fetch``), the Hub and the
package-index paths can all raise them without importing ``download``.
"""

from __future__ import annotations

from ._errors import NudgeError


class DownloadError(NudgeError):
    """A model could not be downloaded; the message says why and what to do."""


class DownloadCancelledError(DownloadError):
    """The caller cancelled; the partial file is kept and the next download resumes it."""


class DownloadNetworkError(DownloadError):
    """The server could not be reached (connection refused, DNS, timeout, dropped transfer,
    or it kept answering 429/5xx after the retries)."""


class DownloadOfflineError(DownloadNetworkError):
    """HF_HUB_OFFLINE (or PIP_NO_INDEX for the package index) is set and the file is not on
    disk yet."""


class DownloadAccessError(DownloadError):
    """HTTP 401/403: a gated or private repo."""


class DownloadNotFoundError(DownloadError):
    """HTTP 404: no such repo, revision, file or package version."""


class DownloadVerificationError(DownloadError):
    """The downloaded bytes failed a check (sha256, git blob sha1, size, GGUF header); the
    bad file was deleted."""


class DiskSpaceError(DownloadError):
    """Not enough free disk space (before the transfer, or the disk filled up during it)."""
