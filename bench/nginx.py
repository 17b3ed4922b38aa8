"""nginx from Debian, started by a benchmark or a drill on a free port of 127.0.0.1, with its
configuration, pid file, logs, temporary folders and cache in a folder of its own."""

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench import server as portal

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "nginx"

MAIN_CONF = """\
{user}worker_processes {workers};
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 2048; }}
http {{
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
{http}
}}
"""

# The portal as docs/deploy.md serves it: its http and location lines are deploy/nginx/'s files.
PORTAL_HTTP = """\
    access_log off;
    proxy_cache_path {root}/cache levels=1:2 keys_zone=ksbb:20m max_size=1g inactive=10m
                     use_temp_path=off;
    include {deploy}/ksbb-http.conf;
    upstream ksbb_app {
{servers}
    }
    server {
        listen 127.0.0.1:{port};
        client_max_body_size 6m;
        include {deploy}/ksbb-locations.conf;
    }
"""


def portal_http(upstreams: list[int]) -> str:
    """The http block of nginx in front of the portal's app servers on these ports."""
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in upstreams)
    return PORTAL_HTTP.replace("{servers}", servers)


class Nginx:
    """`http` is the http block's body; `{root}` and `{port}` in it are this nginx's folder and port,
    `{deploy}` the project's deploy/nginx/. Used as a context manager: started, then stopped."""

    def __init__(self, root: Path, http: str, *, workers: int | str = 1) -> None:
        self.binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(self.binary):
            raise RuntimeError("nginx is missing: scripts/bootstrap.sh --drill installs it")
        self.root, self.port = root, portal.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        root.mkdir(parents=True, exist_ok=True)
        # As root, nginx's workers would become `nobody`, who may not enter this folder.
        user = "user root;\n" if os.geteuid() == 0 else ""
        body = http.replace("{root}", str(root)).replace("{port}", str(self.port))
        self.conf = root / "nginx.conf"
        self.conf.write_text(
            MAIN_CONF.format(
                user=user, workers=workers, root=root, http=body.replace("{deploy}", str(DEPLOY))
            )
        )

    def __enter__(self) -> "Nginx":
        command = [self.binary, "-p", str(self.root), "-c", str(self.conf), "-e"]
        command.append(str(self.root / "error.log"))
        check = subprocess.run([*command, "-t"], capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"nginx refuses its configuration: {check.stderr}")
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 15
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"nginx did not start: {self.log_tail()}")
            time.sleep(0.2)
        return self

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health/live/", timeout=2) as response:
                return response.status == 200
        except urllib.error.HTTPError:
            return False
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish what it serves
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log_tail(self, lines: int = 10) -> str:
        log = self.root / "error.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
