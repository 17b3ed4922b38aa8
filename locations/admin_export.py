"""Staff exports of admin lists: the selected (or, with "select all", the filtered) rows as CSV or
XLSX. The rows are the admin's own queryset, so an area officer exports only their area. Columns
that hold personal data are added only for staff who may both see and export it, and the export is
recorded against each person in it (locations.personal_data) before the first byte is sent."""

import csv
import io

from django.contrib import admin
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from locations.personal_data import Via, may_see, record_ids
from locations.spreadsheets import safe_cell

PERSONAL_DATA_PERMISSION = "donations.export_personal_data"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Echo:
    def write(self, value: str) -> str:
        return value


class ExportActionsMixin:
    """Give a ModelAdmin "Export as CSV" and "Export as XLSX" actions.

    `export_fields` are (header, lookup) pairs read with one values_list query; `private_export_fields`
    the same, for personal data, exported only to staff who may see personal data and hold
    PERSONAL_DATA_PERMISSION. `private_export_owner` is the foreign key to the person whose data
    those are ("pk" when it is the row itself).
    """

    export_fields: list[tuple[str, str]] = []
    private_export_fields: list[tuple[str, str]] = []
    private_export_owner: str = "pk"

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.export_fields and self.has_view_permission(request):
            for func in (export_csv, export_xlsx):
                actions[func.__name__] = (func, func.__name__, func.short_description)
        return actions

    def exports_personal_data(self, request) -> bool:
        return bool(self.private_export_fields) and (
            may_see(request.user) and request.user.has_perm(PERSONAL_DATA_PERMISSION)
        )

    def export_columns(self, request) -> list[tuple[str, str]]:
        columns = list(self.export_fields)
        if self.exports_personal_data(request):
            columns += self.private_export_fields
        return columns

    def _record_export(self, request, queryset) -> None:
        owner = self.private_export_owner
        model = self.model if owner == "pk" else self.model._meta.get_field(owner).related_model
        owners = queryset.order_by().values_list(owner if owner == "pk" else f"{owner}_id")
        record_ids(request, model, (pk for (pk,) in owners.iterator(2000)), Via.EXPORT)

    def export_rows(self, request, queryset):
        """The header, then one list of cells per row. Reads nothing until iterated, except the
        record of an export with personal data, which is written first."""
        columns = self.export_columns(request)
        if self.exports_personal_data(request):
            self._record_export(request, queryset)
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
