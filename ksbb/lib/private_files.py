"""Serving an uploaded file that is not public, after the caller's view has checked who may see it.

The file itself never has a public address (MEDIA_ROOT is not served). In development Django streams
it; in production the view only decides, and the web server sends the bytes from a location that
only it can reach (`KSBB_PRIVATE_MEDIA_SERVER`: `nginx` answers with X-Accel-Redirect to
`KSBB_PRIVATE_MEDIA_PREFIX` + the file's name, `apache` with X-Sendfile and the file's path;
docs/deploy.md shows the nginx location).
"""

import mimetypes
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile, FileField
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header


def private_file_response(file: FieldFile, *, public: bool = False) -> HttpResponse:
    """The bytes of `file`, or the header that tells the web server to send them. `public`: the
    view found it is for everyone (a photo its uploader chose to show), so any cache may keep it."""
    name = file.name
    if not name or ".." in PurePosixPath(name).parts or not file.storage.exists(name):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    server = settings.KSBB_PRIVATE_MEDIA_SERVER
    if server == "nginx":
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.KSBB_PRIVATE_MEDIA_PREFIX + name
    elif server == "apache":
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = file.path
    else:
        response = FileResponse(file.open("rb"), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(False, PurePosixPath(name).name)
    if public:
        response["Cache-Control"] = "public, max-age=86400"
    else:
        # Staff-only: no shared cache may keep it, and a browser only for this session's pages.
        response["Cache-Control"] = "private, no-store"
    return response


def store(field: FileField, data: bytes, filename: str) -> str:
    """Write `data` under a new name of `field`'s (its `upload_to`, random) and return the name.
    On a failed write (a full disk, say) whatever part of the file reached the storage is removed
    and the OSError raised again: FileSystemStorage leaves a partial file behind."""
    name = field.storage.get_available_name(
        field.generate_filename(None, filename), max_length=field.max_length
    )
    try:
        return field.storage.save(name, ContentFile(data), max_length=field.max_length)
    except OSError:
        discard(field, name)
        raise


def discard(field: FileField, name: str) -> None:
    """Remove the file `name` of `field`'s storage, if there is one."""
    if name and field.storage.exists(name):
        field.storage.delete(name)
