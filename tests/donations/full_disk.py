"""A file storage on a disk that is full: Django's own FileSystemStorage creates the file in its
folder as usual, but every byte it writes goes through /dev/full, so the write fails with the
kernel's real ENOSPC and leaves behind exactly what a full disk leaves: the file, empty."""

import os
from unittest import mock

from django.core.files.storage import FileSystemStorage

_open = os.open


def _open_on_full_disk(path, flags, mode=0o777, *args, **kwargs):
    if not flags & os.O_CREAT:
        return _open(path, flags, mode, *args, **kwargs)
    os.close(_open(path, flags, mode, *args, **kwargs))  # the file appears, as on a real disk
    return _open("/dev/full", os.O_WRONLY)


class FullDiskStorage(FileSystemStorage):
    def _save(self, name, content):
        with mock.patch("django.core.files.storage.filesystem.os.open", _open_on_full_disk):
            return super()._save(name, content)
