"""Reading an uploaded form package strictly, before anything of it is believed or stored.

A package is one ``.toml`` definition, or a ``.zip`` or ``.tar`` (optionally gzipped) archive of
``.toml`` files: the definition (the one file with a top-level ``key``) and its fragment files.
Nothing in it is ever executed; a Python file, or any other kind of file, is refused. The
whole upload, each file, the number of files and the nesting of tables are bounded, text must
be UTF-8, and a name inside an archive must be a plain relative path (no ``..``, no absolute
path, no link): the files are written into a fresh temporary folder only after every name
passed, so that the definition loader resolves fragments exactly as it does for an installed
plugin's files.

Every refusal is a `PackageProblem` with where it is and a message for the admin (translated by
the web layer; the loader's own problems are shown as ``handover plugins check`` prints them).
"""

import gzip
import io
import posixpath
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Bounds of a package; an instance may set FORM_UPLOAD_MAX_BYTES in its config.py.
MAX_BYTES = 512 * 1024
MAX_FILES = 50
MAX_DEPTH = 16
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


def N_(message: str) -> str:
    """Mark ``message`` for translation; the web layer translates it (the CLI prints it)."""
    return message


@dataclass(frozen=True)
class PackageProblem:
    """One problem: ``where`` (a file, and a place in it), ``message`` with ``params``;
    ``translatable`` is False for the loader's own English texts."""

    where: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    translatable: bool = True

    def __str__(self) -> str:
        text = self.message % self.params if self.params else self.message
        return f"{self.where}: {text}" if self.where else text


class PackageRefused(ValueError):
    """The package cannot be accepted; ``problems`` names every problem found."""

    def __init__(self, problems: list[PackageProblem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass
class Package:
    """The files of a package that passed the strict reading: name -> parsed TOML."""

    filename: str
    definition_name: str
    files: dict[str, bytes]


def refuse(where: str, message: str, **params: Any) -> PackageRefused:
    return PackageRefused([PackageProblem(where, message, params)])


def unreadable(archive: str) -> PackageRefused:
    """An archive that its library cannot open: said in the uploader's words, not the
    library's exception name ("ReadError" told an administrator nothing)."""
    return refuse(archive, N_("The archive cannot be read: it is damaged, encrypted, or not "
                              "the kind of archive its name says (.zip, .tar, .tar.gz)."))


def read_package(filename: str, data: bytes, max_bytes: int = MAX_BYTES,
                 size: int | None = None) -> Package:
    """The package in ``data`` (named ``filename`` by the uploader), read strictly; raises
    `PackageRefused`. ``size`` is the file's whole size when only its start was read."""
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] or "upload"
    size = max(size or 0, len(data))
    if size > max_bytes:
        raise refuse(name, N_("The file is %(size)s kB; a form package may be at most "
                              "%(limit)s kB."),
                     size=size // 1024, limit=max_bytes // 1024)
    if not size:
        raise refuse(name, N_("The file is empty."))
    lower = name.lower()
    if lower.endswith(".py") or lower.endswith(".pyc") or data.startswith(b"#!"):
        raise refuse(name, N_("This is program code. A form package holds only TOML files and "
                              "is never run; a form that needs code is a Python plugin, "
                              "installed by the server's operator."))
    if lower.endswith(".toml"):
        _parse(name, data)
        return Package(name, name, {name: data})
    if zipfile.is_zipfile(io.BytesIO(data)):
        files = _zip_members(name, data, max_bytes)
    elif lower.endswith(ARCHIVE_SUFFIXES) or _is_tar(data):
        files = _tar_members(name, data, max_bytes)
    else:
        raise refuse(name, N_("Upload a .toml form definition, or a .zip or .tar archive of "
                              "one with its fragment files."))
    definitions = [member for member, raw in
                   ((member, _parse(f"{name}/{member}", content))
                    for member, content in files.items()) if "key" in raw]
    if len(definitions) != 1:
        raise refuse(name, N_("The archive must hold exactly one form definition (a .toml file "
                              "with a top-level key); it holds %(count)s."),
                     count=len(definitions))
    return Package(name, definitions[0], files)


def write_into(package: Package, folder: Path) -> Path:
    """Write the package's files into ``folder`` (fresh, private); the definition's path."""
    for member, content in package.files.items():
        target = folder.joinpath(*member.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return folder.joinpath(*package.definition_name.split("/"))


def _is_tar(data: bytes) -> bool:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*"):
            return True
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile):
        return False


def _parse(where: str, data: bytes) -> dict[str, Any]:
    """Strict TOML: UTF-8, valid, tables nested at most ``MAX_DEPTH`` deep."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise refuse(f"{where}, line {line}",
                     N_("The text is not valid UTF-8 (byte %(byte)s). Save the file as "
                        "UTF-8."), byte=error.start) from None
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise refuse(where, N_("Not valid TOML: %(error)s"), error=str(error)) from None
    except RecursionError:
        raise _too_deep(where) from None
    if _depth(parsed) > MAX_DEPTH:
        raise _too_deep(where)
    return parsed


def _too_deep(where: str) -> PackageRefused:
    return refuse(where, N_("Tables and lists are nested more than %(depth)s levels deep; a "
                            "form definition never needs that."), depth=MAX_DEPTH)


def _depth(value: Any) -> int:
    """How deep tables and lists nest, walked without recursion (so a hostile file cannot
    exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _safe_path(archive: str, name: str) -> None:
    """Raise unless ``name`` is a plain relative path that stays inside the package."""
    where = f"{archive}/{name}"
    name = name.rstrip("/")
    parts = name.split("/")
    if (not name or "\\" in name or "\x00" in name or name.startswith("/")
            or ":" in parts[0] or any(part in ("..", "") for part in parts[:-1])
            or ".." in parts or posixpath.normpath(name) != name):
        raise refuse(where, N_("A name inside the archive must be a plain relative path, "
                               "without “..” or a leading “/”."))


def _member_name(archive: str, name: str) -> str:
    """A member's name, if it is a plain relative path to a .toml file; raises otherwise."""
    _safe_path(archive, name)
    where = f"{archive}/{name}"
    if name.lower().endswith((".py", ".pyc", ".pyw", ".so")):
        raise refuse(where, N_("This is program code. A form package holds only TOML files and "
                               "is never run; a form that needs code is a Python plugin, "
                               "installed by the server's operator."))
    if not name.lower().endswith(".toml"):
        raise refuse(where, N_("Only .toml files may be in a form package."))
    return name


def _collect(archive: str, files: dict[str, bytes], name: str, content: bytes,
             max_bytes: int) -> None:
    if len(files) >= MAX_FILES:
        raise refuse(archive, N_("The archive holds more than %(count)s files."),
                     count=MAX_FILES)
    if len(content) > max_bytes or sum(map(len, files.values())) + len(content) > max_bytes:
        raise refuse(archive, N_("Unpacked, the archive is larger than %(limit)s kB."),
                     limit=max_bytes // 1024)
    files[name] = content


def _zip_members(archive: str, data: bytes, max_bytes: int) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            for info in bundle.infolist():
                if info.is_dir():
                    _safe_path(archive, info.filename)
                    continue
                name = _member_name(archive, info.filename)
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise refuse(f"{archive}/{name}", N_("Links are not allowed in a form "
                                                         "package."))
                with bundle.open(info) as stream:  # read no more than the bound allows
                    content = stream.read(max_bytes + 1)
                _collect(archive, files, name, content, max_bytes)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError):
        raise unreadable(archive) from None
    return files


def _tar_members(archive: str, data: bytes, max_bytes: int) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as bundle:
            for member in bundle:
                if member.isdir():
                    _safe_path(archive, member.name)
                    continue
                name = _member_name(archive, member.name)
                if not member.isfile():
                    raise refuse(f"{archive}/{name}", N_("Links and special files are not "
                                                         "allowed in a form package."))
                stream = bundle.extractfile(member)
                content = stream.read(max_bytes + 1) if stream else b""
                _collect(archive, files, name, content, max_bytes)
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile):
        raise unreadable(archive) from None
    return files
