"""Disk errors in words: which file system is full or read-only, and what was being written."""
from __future__ import annotations

import errno
import os
from pathlib import Path

FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
#: errors that mean "this place cannot be written", whatever the file
UNWRITABLE = FULL | {errno.EROFS, errno.EACCES, errno.EPERM}


def mount_point(path: str | Path) -> str:
    """The mount point of the file system holding `path` (or its nearest existing parent)."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    while not os.path.ismount(p) and p != p.parent:
        p = p.parent
    return str(p)


def is_disk_error(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.errno in UNWRITABLE


def disk_error_message(e: OSError, path: str | Path | None = None) -> str:
    """One line: "no space left on /mnt (writing /mnt/runs/x/status.json)" and the like."""
    where = path if path is not None else (e.filename or "")
    target = f" (writing {where})" if where else ""
    if e.errno in FULL:
        return f"no space left on {mount_point(where or '.')}{target}"
    if e.errno == errno.EROFS:
        return f"read-only file system {mount_point(where or '.')}{target}"
    return f"cannot write {where or 'a file'}: {e.strerror or e}"
