"""The portal's adjustments to other packages' admins."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from procrastinate.contrib.django.models import ProcrastinateJob


class PortalAccessAttemptAdmin(AccessAttemptAdmin):
    """django-axes' lockouts (the staff unlock a username early here). Its "Clean up expired
    attempts" action reads the time of a login attempt from the request, which only a login request
    carries: without it, the action was a server error. An admin request has no attempt time;
    axes then measures the cool-off from now."""

    @admin.action(description=AccessAttemptAdmin.cleanup_expired_attempts.short_description)
    def cleanup_expired_attempts(self, request, queryset):
        request.axes_attempt_time = None
        return super().cleanup_expired_attempts(request, queryset)


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, PortalAccessAttemptAdmin)

# The background worker's jobs are operators' business, not staff work: they are watched through
# /metrics and /health/ready/, and handled with `manage.py procrastinate shell` (docs/deploy.md).
admin.site.unregister(ProcrastinateJob)
