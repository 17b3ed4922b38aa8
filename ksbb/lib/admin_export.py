"""Staff exports of admin lists: the selected (or, with "select all", the filtered) rows as CSV or
XLSX. The rows are the admin's own queryset, so a staff member bound to an area exports only their
area. Columns of personal data are added only when the admin says so (exports_personal_data), and
the admin records such an export (record_export) before the first byte is sent: in this project
locations.personal_data.PersonalDataAdminMixin does both."""

import csv
import io

from django.contrib import admin
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ksbb.lib.cells import safe_cell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Echo:
    def write(self, value: str) -> str:
        return value


class ExportActionsMixin:
    """Give a ModelAdmin "Export as CSV" and "Export as XLSX" actions.

    `export_fields` are (header, lookup) pairs read with one values_list query; `private_export_fields`
    the same, for personal data, exported only when exports_personal_data(request) says so.
    """

    export_fields: list[tuple[str, str]] = []
    private_export_fields: list[tuple[str, str]] = []

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.export_fields and self.has_view_permission(request):
            for func in (export_csv, export_xlsx):
                actions[func.__name__] = (func, func.__name__, func.short_description)
        return actions

    def exports_personal_data(self, request) -> bool:
        return False

    def record_export(self, request, queryset) -> None:
        """Called before an export with personal columns is sent."""

    def export_columns(self, request) -> list[tuple[str, str]]:
        columns = list(self.export_fields)
        if self.private_export_fields and self.exports_personal_data(request):
            columns += self.private_export_fields
        return columns

    def export_rows(self, request, queryset):
        """The header, then one list of cells per row. Reads nothing until iterated, except the
        record of an export with personal data, which is written first."""
        columns = self.export_columns(request)
        if len(columns) > len(self.export_fields):
            self.record_export(request, queryset)
        return self._rows(columns, queryset)

    def _rows(self, columns, queryset):
        yield [str(header) for header, _lookup in columns]
        for row in (
            queryset.order_by("pk")
            .values_list(*[lookup for _header, lookup in columns])
            .iterator(2000)
        ):
            yield [safe_cell(_cell(v)) for v in row]

    def export_filename(self, extension: str) -> str:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"ksbb-{self.model._meta.model_name}-{stamp}.{extension}"


def _cell(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@admin.action(description=_("Export the selected rows as CSV"))
def export_csv(model_admin, request, queryset):
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in model_admin.export_rows(request, queryset)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{model_admin.export_filename("csv")}"'
    return response


@admin.action(description=_("Export the selected rows as XLSX"))
def export_xlsx(model_admin, request, queryset):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(model_admin.model._meta.verbose_name_plural)[:31])
    for row in model_admin.export_rows(request, queryset):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="{model_admin.export_filename("xlsx")}"'
    )
    return response
