"""The admin's needs import: upload a file, see per row what would happen, confirm.

The upload is kept under MEDIA_ROOT/imports/ with a random name between the preview and the
confirmation (the name travels in the session, never in the form, so nobody can point the import at
another file); the same needs.imports.import_needs runs twice, first as a dry run.
"""

import csv
import io
import secrets
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from locations.scoping import area_codes
from locations.spreadsheets import ImportFileError
from needs.imports import COLUMNS, import_needs, template_csv

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SESSION_KEY = "ksbb_needs_import"
PREVIEW_ROWS = 500
ACTION_LABELS = {
    "created": gettext_lazy("create"),
    "updated": gettext_lazy("update"),
    "unchanged": gettext_lazy("unchanged"),
    "refused": gettext_lazy("refused"),
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Needs file (CSV or XLSX)"),
        help_text=gettext_lazy(
            "UTF-8 CSV (comma or semicolon) or an XLSX workbook, with the template's columns."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 50 MB; split it or use manage.py import_needs.")
            )
        return upload


def _folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pending(request) -> Path | None:
    name = request.session.get(SESSION_KEY)
    path = _folder() / name if name else None
    return path if path and path.is_file() else None


def import_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    ctx = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Import needs"),
    }
    if request.method == "POST" and "confirm" in request.POST:
        path = _pending(request)
        if path is None:
            messages.error(request, _("The uploaded file has expired; upload it again."))
            return redirect("admin:needs_need_import")
        report = import_needs(path, area=area_codes(request.user), by=request.user)
        path.unlink(missing_ok=True)
        request.session.pop(SESSION_KEY, None)
        counts = report.counts
        messages.success(
            request,
            _(
                "Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, %(refused)s refused."
            )
            % {k: counts[k] for k in ("created", "updated", "unchanged", "refused")},
        )
        return redirect("admin:needs_need_changelist")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        path = _folder() / f"{secrets.token_hex(16)}{Path(upload.name).suffix.lower()}"
        with path.open("wb") as f:
            for chunk in upload.chunks():
                f.write(chunk)
        try:
            report = import_needs(path, dry_run=True, area=area_codes(request.user))
        except ImportFileError as e:
            path.unlink(missing_ok=True)
            form.add_error("file", str(e))
        else:
            stale = _pending(request)
            if stale:
                stale.unlink(missing_ok=True)
            request.session[SESSION_KEY] = path.name
            shown = (
                report.refused + [r for r in report.results if r.action != "refused"][:PREVIEW_ROWS]
            )
            ctx |= {
                "report": report,
                "counts": report.counts,
                "rows": [(r, ACTION_LABELS[r.action]) for r in sorted(shown, key=lambda r: r.line)],
                "hidden": len(report.results) - len(shown),
                "file_name": upload.name,
            }
            return render(request, "admin/needs/need/import_preview.html", ctx)
    ctx |= {"form": form, "columns": COLUMNS}
    return render(request, "admin/needs/need/import.html", ctx)


def template_view(model_admin, request, fmt: str):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "needs"
        for row in csv.reader(io.StringIO(template_csv())):
            sheet.append(row)
        out = io.BytesIO()
        workbook.save(out)
        response = HttpResponse(
            out.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ksbb-needs-template.{fmt}"'
    return response


def import_urls(model_admin):
    view = model_admin.admin_site.admin_view
    return [
        path("import/", view(lambda r: import_view(model_admin, r)), name="needs_need_import"),
        path(
            "import/template.<str:fmt>",
            view(lambda r, fmt: template_view(model_admin, r, "xlsx" if fmt == "xlsx" else "csv")),
            name="needs_need_import_template",
        ),
    ]
