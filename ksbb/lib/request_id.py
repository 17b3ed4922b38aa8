"""A request id for every request (django-log-request-id), in the logs and in X-Request-ID.

An id arriving in the header named by LOG_REQUEST_ID_HEADER (set only when the proxy in front
writes it, e.g. nginx's $request_id) is kept if it looks like an id; anything else (a client's
own header when no proxy is trusted with it, or text that could forge a log line) is replaced by a
fresh one. The response carries the id in X-Request-ID either way.
"""

import re

from log_request_id.middleware import RequestIDMiddleware as _RequestIDMiddleware

ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestIDMiddleware(_RequestIDMiddleware):
    def _get_request_id(self, request):
        if self.request_id_header:
            given = request.META.get(self.request_id_header, "")
            if ACCEPTABLE_ID.fullmatch(given):
                return given
        return self._generate_id()
