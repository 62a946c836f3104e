"""Download, verify and unpack an official Speech Commands archive.

Resumable: bytes arrive in ``<archive>.part`` and a later call asks for the rest with an HTTP
``Range`` header. Verified: the sha256 of the whole archive must match before anything is
unpacked. Never hangs: every connect and read has a short timeout, and an unreachable host gives
one :class:`~nas.errors.DataError` saying how to download the archive by hand.
"""
from __future__ import annotations

import hashlib
import http.client
import logging
import re
import shutil
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from nas.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

_BLOCK = 1 << 20
_DONE_MARKER = ".fetched"  # written last inside the unpacked folder: its presence means complete


@dataclass(frozen=True)
class Archive:
    url: str
    size: int  # bytes
    sha256: str


# Sizes and sums: tensorflow/datasets url_checksums/speech_commands.txt (v0.02, test set),
# torchaudio datasets/speechcommands.py _CHECKSUMS (v0.01), TF's speech_commands train.py log (v0.01 size).
ARCHIVES: dict[str, Archive] = {
    "v0.01": Archive(
        "http://download.tensorflow.org/data/speech_commands_v0.01.tar.gz",
        1488293908,
        "743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d",
    ),
    "v0.02": Archive(
        "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz",
        2428923189,
        "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
    ),
    "test_v0.02": Archive(
        "http://download.tensorflow.org/data/speech_commands_test_set_v0.02.tar.gz",
        112563277,
        "cc2a00c1147c2254e9be3fa0f779d8c17421dc349b86366567a8edfa9acd51df",
    ),
}


def fetch_speech_commands(
    version: str,
    dest_dir: str | Path,
    *,
    archive: str | Path | None = None,
    sha256: str | None = None,
    url: str | None = None,
    timeout_s: float = 10.0,
) -> Path:
    """Downloads (or takes ``archive``), verifies and unpacks one Speech Commands archive.

    Args:
        version: ``"v0.01"``, ``"v0.02"`` or ``"test_v0.02"`` (the official 12-class test set).
        dest_dir: folder for the archive and the unpacked ``speech_commands_<version>/``.
        archive: a ``.tar.gz`` downloaded by hand; nothing is downloaded then.
        sha256: expected sha256 of the archive, for a mirror or a re-issued archive; default the
            official one.
        url: where to download from; default the official address.
        timeout_s: limit for connecting and for each read; a stall longer than this stops the
            download (the ``.part`` file stays, so the next call resumes).

    Returns:
        The unpacked dataset folder. If it is already complete, it is returned at once.

    Raises:
        ConfigError: unknown version.
        DataError: offline, interrupted, checksum mismatch, or an archive that cannot be unpacked.
    """
    if version not in ARCHIVES:
        raise ConfigError(f"data fetch: unknown version {version!r}; expected one of {sorted(ARCHIVES)}")
    official = ARCHIVES[version]
    url = url or official.url
    expected_sha = (sha256 or official.sha256).lower()
    dest_dir = Path(dest_dir)
    root = dest_dir / f"speech_commands_{version}"
    if (root / _DONE_MARKER).is_file():
        return root
    dest_dir.mkdir(parents=True, exist_ok=True)

    if archive is None:
        archive = dest_dir / Path(official.url).name
        if not archive.is_file():
            # The official size is only known for the official bytes, not for a given --sha256.
            _download(url, archive, official.size if sha256 is None else None, timeout_s)
    archive = Path(archive)
    if not archive.is_file():
        raise DataError(f"{archive}: archive not found; expected the {version} .tar.gz")
    _verify_sha256(archive, expected_sha)
    _unpack(archive, root)
    return root


def _download(url: str, target: Path, expected_size: int | None, timeout_s: float) -> None:
    """Downloads ``url`` to ``target`` through ``target.part``, resuming what a cut-off left."""
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:
            part.replace(target)  # everything arrived before; the sha256 check decides if it is whole
            return
        raise DataError(f"{url}: the server answered HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise DataError(
            f"offline: could not reach {url} ({reason}); download {url} by hand and pass its path "
            f"(kws-nas data fetch --archive FILE)"
        ) from err

    with response:
        total = _total_size(response, have)
        if response.status != 206:
            have = 0  # the server ignored the Range header: start over
        if expected_size is not None and total is not None and total != expected_size:
            raise DataError(
                f"{url}: the server offers {total} bytes, but the official archive has {expected_size}; "
                "pass --sha256 if this mirror holds a different archive on purpose"
            )
        if have:
            logger.info("%s: resuming after %d bytes", part, have)
        with open(part, "ab" if have else "wb") as out, tqdm(
            total=total, initial=have, unit="B", unit_scale=True, desc=target.name
        ) as bar:
            try:
                while block := response.read(_BLOCK):
                    out.write(block)
                    bar.update(len(block))
            except (OSError, http.client.HTTPException) as err:  # timeouts, resets, IncompleteRead
                raise DataError(
                    f"{url}: download interrupted after {out.tell()} of {total or '?'} bytes ({err}); "
                    f"run again to resume from {part}"
                ) from err
            received = out.tell()
    if total is not None and received != total:
        raise DataError(f"{url}: download ended after {received} of {total} bytes; run again to resume from {part}")
    part.replace(target)


def _total_size(response, have: int) -> int | None:
    """The whole archive's size, from Content-Range (a resumed 206) or Content-Length (a 200)."""
    if response.status == 206:
        match = re.search(r"/(\d+)$", response.headers.get("Content-Range", ""))
        return int(match.group(1)) if match else None
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def _verify_sha256(archive: Path, expected: str) -> None:
    digest = hashlib.sha256()
    with open(archive, "rb") as f, tqdm(
        total=archive.stat().st_size, unit="B", unit_scale=True, desc=f"sha256 {archive.name}"
    ) as bar:
        while block := f.read(_BLOCK):
            digest.update(block)
            bar.update(len(block))
    if digest.hexdigest() != expected:
        # Kept, not deleted: a wrong --sha256 must not cost the user a 2 GB download.
        kept = archive.with_name(archive.name + ".sha256-mismatch")
        archive.replace(kept)
        raise DataError(
            f"{archive}: sha256 {digest.hexdigest()} does not match the expected {expected}; "
            f"the file was moved to {kept} (delete it to download again)"
        )


def _unpack(archive: Path, root: Path) -> None:
    """Unpacks into a temporary sibling, then renames: a killed run never leaves a folder that looks whole."""
    staging = root.with_name(root.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(staging, filter="data")  # "data" refuses absolute paths and links outside
    except (tarfile.TarError, EOFError, OSError) as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise DataError(f"{archive}: cannot unpack ({err}); expected a Speech Commands .tar.gz") from err
    (staging / _DONE_MARKER).write_text(f"{archive.name}\n")
    if root.exists():  # an earlier, unmarked (incomplete) copy
        shutil.rmtree(root)
    staging.replace(root)
