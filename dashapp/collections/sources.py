"""Where a collection's images come from: uploaded files, one zip, or a
folder on the server. Each source yields candidates (name, bytes, label) or
rejections (name, reason); nothing here decodes images (that is intake's
job) and nothing here fails the collection for one bad entry.

Zips are hostile input: entry names are only ever displayed, never used as
paths; the number of entries processed and the bytes inflated are bounded;
an entry whose declared sizes say "bomb" is refused before inflating, and an
entry is never inflated past its declared size, so a lying header cannot
inflate it further; nested archives are skipped. A zip whose entries
overlap (one stored image listed many times in the central directory) is
refused whole before anything is inflated, and an entry whose bytes repeat an
earlier entry's is listed as a duplicate without being decoded again.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..i18n import _
from ..intake import DecodeBudget, IntakeError

ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst", ".jar")
ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh", b"\xfd7zXZ\x00",
                 b"\x28\xb5\x2f\xfd")
# Images are compressed already; an entry that inflates far more is a bomb
# (above a small size, where headers and flat colours can compress well).
MAX_RATIO = 50.0
RATIO_FLOOR_BYTES = 64 * 1024
CHUNK = 64 * 1024
LABEL_PATTERN = re.compile(r"^[\w][\w .\-+]{0,63}$")
FOLDER_PATTERN = re.compile(r"^[\w][\w.\-]{0,127}$")
Data = bytes  # an entry's content (a name _Budget can use: its own ``bytes`` is a count)


class CollectionError(IntakeError):
    """The source as a whole cannot be read (not a zip at all, an absurd directory)."""

    status = 400
    code = "bad_collection"


@dataclass(frozen=True)
class CollectionLimits:
    max_images: int = 5000  # entries processed per collection (images or not)
    max_bytes: int = 1 << 30  # bytes read or inflated per collection
    max_file_bytes: int = 10 * 1024 * 1024  # per image, as intake's upload limit
    max_ratio: float = MAX_RATIO
    max_decode_seconds: float = 300.0  # CPU seconds spent decoding one collection's images
    max_decoded_pixels: int = 4_000_000_000  # pixels decoded per collection (a hundred 40 MP images)

    @property
    def max_zip_entries(self) -> int:
        """A central directory with more entries than this is refused whole,
        before Python's zipfile builds an object per entry."""
        return max(10 * self.max_images, 50_000)

    def decode_budget(self) -> DecodeBudget:
        """What decoding one collection may cost, fresh for each collection."""
        return DecodeBudget(self.max_decode_seconds, self.max_decoded_pixels)


@dataclass(frozen=True)
class Candidate:
    name: str
    data: bytes
    label: str | None = None


@dataclass(frozen=True)
class Rejected:
    name: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "reason": self.reason}


@dataclass
class _Budget:
    limits: CollectionLimits
    entries: int = 0
    bytes: int = 0
    refusals: list[str] = field(default_factory=list)
    seen: dict[str, str] = field(default_factory=dict)  # digest of an entry's bytes -> its first name

    def refuse_entry(self) -> str | None:
        if self.entries >= self.limits.max_images:
            return _("over the limit of {n} images per collection").format(n=self.limits.max_images)
        self.entries += 1
        return None

    def refuse_bytes(self, size: int) -> str | None:
        if self.bytes + size > self.limits.max_bytes:
            return _("over the limit of {n} bytes per collection").format(n=self.limits.max_bytes)
        return None

    def refuse_duplicate(self, name: str, data: Data) -> str | None:
        """The same bytes as an earlier entry: listed once, never decoded twice."""
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self.seen:
            self.seen[digest] = name
            return None
        return _("same file as {name}; counted once").format(name=self.seen[digest])


def display_name(raw: str) -> str:
    """A name fit to show: control characters dropped, short. Never a path we open."""
    cleaned = "".join(ch for ch in raw.replace("\\", "/") if unicodedata.category(ch)[0] != "C")
    return (cleaned or "(unnamed)")[:200]


def label_of(raw: str) -> str | None:
    """The folder an entry sits in, as its class label (ImageFolder layout)."""
    parts = [part for part in raw.replace("\\", "/").split("/") if part]
    if len(parts) < 2:
        return None
    label = parts[-2]
    return label if LABEL_PATTERN.match(label) and label not in (".", "..") else None


def is_archive(name: str, data: bytes) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES) or data.startswith(ARCHIVE_MAGIC) or data[257:262] == b"ustar"


def from_files(files: Iterable[tuple[str, bytes]], limits: CollectionLimits) -> Iterator[Candidate | Rejected]:
    """Many uploaded files; a label only if the browser sent a folder path."""
    budget = _Budget(limits)
    for raw_name, data in files:
        name = display_name(raw_name)
        reason = budget.refuse_entry() or budget.refuse_bytes(len(data))
        if reason is None and is_archive(name, data):
            reason = _("nested archive skipped")
        if reason is not None:
            yield Rejected(name, reason)
            continue
        budget.bytes += len(data)
        duplicate = budget.refuse_duplicate(name, data)
        yield Rejected(name, duplicate) if duplicate else Candidate(name, data, label_of(raw_name))


def _declared_entries(data: bytes) -> int | None:
    """Entry count from the end-of-central-directory record, read before zipfile parses anything."""
    tail_start = max(0, len(data) - (22 + 65535))
    at = data.rfind(b"PK\x05\x06", tail_start)
    if at < 0 or at + 22 > len(data):
        return None
    (total,) = struct.unpack_from("<H", data, at + 10)
    return int(total)


def _entry_refusal(info: zipfile.ZipInfo, limits: CollectionLimits) -> str | None:
    if info.flag_bits & 0x1:
        return _("encrypted entry")
    if info.file_size > limits.max_file_bytes:
        return _("declares {size} bytes; the limit per image is {limit}").format(size=info.file_size,
                                                                             limit=limits.max_file_bytes)
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
        return _("compression ratio {ratio}:1 (a zip bomb?); refused without inflating").format(ratio=f"{ratio:.0f}")
    return None


def _bounded_read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Inflate at most the declared size; one byte more means the header lied."""
    out = io.BytesIO()
    with archive.open(info) as handle:
        while chunk := handle.read(CHUNK):
            out.write(chunk)
            if out.tell() > info.file_size:
                raise CollectionError(_("inflates past its declared size (a zip bomb?)"))
    return out.getvalue()


def _local_end(data: bytes, info: zipfile.ZipInfo) -> int:
    """Where an entry's bytes end: its local header (30 bytes, then the name
    and extra field whose lengths it states) and the compressed data."""
    start = info.header_offset
    if start < 0 or start + 30 > len(data):
        raise CollectionError(_("The zip lists an entry outside the file; it is refused."))
    name_length, extra_length = struct.unpack_from("<HH", data, start + 26)
    return start + 30 + name_length + extra_length + info.compress_size


def _refuse_overlaps(data: bytes, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip whose entries share bytes: one stored image listed many
    times would otherwise cost one inflate and one decode per listing."""
    end = 0
    for info in sorted(infos, key=lambda item: item.header_offset):
        if info.header_offset < end:
            raise CollectionError(_("The zip lists entries that overlap (the same bytes under several names); it "
                                    "is refused."))
        end = _local_end(data, info)


def from_zip(data: bytes, limits: CollectionLimits) -> Iterator[Candidate | Rejected]:
    declared = _declared_entries(data)
    if declared is not None and declared > limits.max_zip_entries:
        raise CollectionError(_("The zip lists {n} entries; at most {limit} are read.").format(
            n=declared, limit=limits.max_zip_entries))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise CollectionError(_("This is not a readable zip file ({error}).").format(error=exc)) from exc
    budget = _Budget(limits)
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_entries:
            raise CollectionError(_("The zip holds {n} entries; at most {limit} are read.").format(
                n=len(infos), limit=limits.max_zip_entries))
        _refuse_overlaps(data, infos)
        for info in infos:
            if info.is_dir():
                continue
            name = display_name(info.filename)
            reason = (budget.refuse_entry() or _entry_refusal(info, limits) or budget.refuse_bytes(info.file_size)
                      or (_("nested archive skipped") if is_archive(name, b"") else None))
            if reason is None:
                try:
                    content = _bounded_read(archive, info)
                except CollectionError as exc:
                    reason = str(exc)
                except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError,
                        ValueError) as exc:
                    reason = _("unreadable entry ({error})").format(error=exc)
            if reason is not None:
                yield Rejected(name, reason)
                continue
            budget.bytes += len(content)
            if is_archive(name, content):
                yield Rejected(name, _("nested archive skipped"))
                continue
            duplicate = budget.refuse_duplicate(name, content)
            yield Rejected(name, duplicate) if duplicate else Candidate(name, content, label_of(info.filename))


# ---------------------------------------------------------------- server folders


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path`` (symlinks resolved) stays inside ``root``."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def folder_names(root: Path | None) -> list[str]:
    """Each sub-folder of the operator's collections folder is a collection."""
    if root is None or not root.is_dir():
        return []
    return sorted(entry.name for entry in root.iterdir()
                  if FOLDER_PATTERN.match(entry.name) and entry.is_dir() and _inside(entry, root))


def _folder_files(base: Path, root: Path) -> Iterator[tuple[Path, str | None]]:
    """Files directly in ``base`` (no label), then one level of label folders."""
    entries = sorted(base.iterdir(), key=lambda p: p.name)
    for entry in entries:
        if entry.is_file() and _inside(entry, root):
            yield entry, None
    for entry in entries:
        if entry.is_dir() and _inside(entry, root) and LABEL_PATTERN.match(entry.name):
            for child in sorted(entry.iterdir(), key=lambda p: p.name):
                if child.is_file() and _inside(child, root):
                    yield child, entry.name


def from_folder(root: Path, name: str, limits: CollectionLimits) -> Iterator[Candidate | Rejected]:
    """A server folder in ImageFolder layout; symlinks that lead outside ``root`` are skipped."""
    if name not in folder_names(root):
        raise CollectionError(_("There is no collection folder named {name}.").format(name=repr(name)))
    base = root / name
    budget = _Budget(limits)
    for path, label in _folder_files(base, root):
        shown = display_name(str(path.relative_to(base)))
        size = path.stat().st_size
        reason = budget.refuse_entry() or budget.refuse_bytes(size)
        if reason is None and size > limits.max_file_bytes:
            reason = _("{size} bytes; the limit per image is {limit}").format(size=size, limit=limits.max_file_bytes)
        if reason is None and path.name.lower().endswith(ARCHIVE_SUFFIXES):
            reason = _("nested archive skipped")
        if reason is not None:
            yield Rejected(shown, reason)
            continue
        try:
            # The resolved path, opened without following a link: a file checked
            # above cannot be swapped for a link out of the folder now.
            fd = os.open(path.resolve(), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as handle:
                data = handle.read(limits.max_file_bytes + 1)
        except OSError as exc:
            yield Rejected(shown, _("unreadable ({error})").format(error=exc.strerror or exc))
            continue
        budget.bytes += len(data)
        duplicate = budget.refuse_duplicate(shown, data)
        yield Rejected(shown, duplicate) if duplicate else Candidate(shown, data, label)
