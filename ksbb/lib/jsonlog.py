"""One JSON object per log line, for log collectors (LOG_FORMAT=json; docs/deploy.md).

Standard library only. Each line has `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`,
`message` and `request_id` (the X-Request-ID of the request being served, "none" outside one; set
by log_request_id's filter on the handler), then `exception` or `stack` when the record has one.
"""

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: a message argument that is no plain type is written as its text.
        return json.dumps(entry, ensure_ascii=False, default=str)
