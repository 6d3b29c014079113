"""A real CAS 3.0 server for the tests: django-cas-server in its own virtualenv.

``start(workdir, users, service_patterns)`` builds (once, cached under CAS_VENV_DIR,
default /tmp/cas-venv-<versions>) a virtualenv with Django and django-cas-server from PyPI,
writes a minimal Django project (sqlite, the cas_server app, an authentication class that
releases the attributes given per user, as sso.sch.gr does), migrates it, registers the
service patterns and runs it with Django's runserver on a free port. No mock: the
helpdesk validates real tickets against it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

#: pip's words when it cannot reach an index (the only reason the CAS tests skip).
_NO_NETWORK = re.compile(r"NewConnectionError|Max retries exceeded|Temporary failure in name "
                         r"resolution|Network is unreachable|No matching distribution found|"
                         r"ConnectTimeout|ReadTimeout|ProxyError")
#: What the virtualenv holds; the cache key.
REQUIREMENTS = ("Django>=5.2,<5.3", "django-cas-server==3.1.0")


class Unavailable(Exception):
    """The CAS server could not be installed: PyPI is unreachable (the tests skip)."""


def venv_dir() -> Path:
    key = hashlib.sha256(" ".join(REQUIREMENTS).encode()).hexdigest()[:12]
    return Path(os.environ.get("CAS_VENV_DIR") or f"/tmp/cas-venv-{key}")


def ensure_venv() -> Path:
    """The virtualenv's python, created and filled on first use (a stamp marks it done)."""
    import fcntl

    venv = venv_dir()
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if stamp.exists() and python.exists():
        return python
    with open(f"{venv}.lock", "w") as lock:  # two test runs at once build it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (stamp.exists() and python.exists()):
            _build(venv, python, stamp)
    return python


def _build(venv: Path, python: Path, stamp: Path) -> None:
    base = getattr(sys, "_base_executable", None) or "python3"
    try:
        subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True,
                       capture_output=True, timeout=300)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
                       check=True, capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        output = (getattr(exc, "stderr", b"") or b"").decode(errors="replace")
        message = f"could not install {' '.join(REQUIREMENTS)}: {exc} {output[-500:]}"
        if _NO_NETWORK.search(output) or isinstance(exc, subprocess.TimeoutExpired):
            raise Unavailable("PyPI is unreachable: " + message) from exc
        raise RuntimeError(message) from exc  # anything else is a failure, not a skip
    stamp.write_text(" ".join(REQUIREMENTS))


SETTINGS = '''
from pathlib import Path
BASE = Path(__file__).resolve().parent
SECRET_KEY = "cas-test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                  "django.contrib.sessions", "django.contrib.messages",
                  "django.contrib.staticfiles", "cas_server"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
              "django.middleware.locale.LocaleMiddleware",
              "django.middleware.common.CommonMiddleware",
              "django.middleware.csrf.CsrfViewMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware",
              "django.contrib.messages.middleware.MessageMiddleware"]
ROOT_URLCONF = "casproject.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": [
                  "django.template.context_processors.request",
                  "django.contrib.auth.context_processors.auth",
                  "django.contrib.messages.context_processors.messages"]}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE / "cas.db")}}
STATIC_URL = "/static/"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
CAS_AUTH_CLASS = "casproject.psd_auth.PsdUser"
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_SHOW_POWERED = False
#: Seconds a service ticket stays valid (CAS 3.0 recommends at most a few minutes).
CAS_TICKET_VALIDITY = 60
CAS_SLO_TIMEOUT = 5
'''

URLS = '''
from django.urls import include, path
urlpatterns = [path("cas/", include("cas_server.urls", namespace="cas_server"))]
'''

AUTH = '''
"""Users of the test ΠΣΔ with the attributes sso.sch.gr releases (users.json)."""
import json
from pathlib import Path

from cas_server.auth import AuthUser

USERS = json.loads((Path(__file__).resolve().parent / "users.json").read_text("utf-8"))


class PsdUser(AuthUser):
    def test_password(self, password):
        user = USERS.get(self.username)
        return user is not None and user["password"] == password

    def attributs(self):
        return dict(USERS.get(self.username, {}).get("attributes", {}))
'''

SETUP = '''
import json, sys
import django
django.setup()
from cas_server.models import ReplaceAttributName, ServicePattern
for pos, (name, pattern, slo) in enumerate(json.loads(sys.argv[1])):
    sp = ServicePattern.objects.create(pos=pos, name=name, pattern=pattern, single_log_out=slo)
    ReplaceAttributName.objects.create(name="*", service_pattern=sp)
'''


@dataclass
class CasServer:
    url: str  #: the CAS base URL, ending in "/cas/"
    process: subprocess.Popen
    database: Path
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(workdir: Path, users: dict, service_patterns: list[tuple[str, str, bool]]) -> CasServer:
    """Install (cached), configure and run the CAS server; ``users`` maps a user name to
    {"password", "attributes"}; ``service_patterns`` are (name, regex, single log-out)."""
    python = ensure_venv()
    project = workdir / "casproject"
    project.mkdir(parents=True, exist_ok=True)
    (project / "__init__.py").write_text("")
    (project / "settings.py").write_text(SETTINGS)
    (project / "urls.py").write_text(URLS)
    (project / "psd_auth.py").write_text(textwrap.dedent(AUTH))
    (project / "users.json").write_text(json.dumps(users, ensure_ascii=False), "utf-8")
    (workdir / "setup_services.py").write_text(SETUP)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "casproject.settings",
           "PYTHONPATH": str(workdir)}
    env.pop("PYTHONHOME", None)
    manage = [str(python), "-m", "django"]
    try:
        subprocess.run([*manage, "migrate", "--noinput"], cwd=workdir, env=env, check=True,
                       capture_output=True, timeout=300)
        subprocess.run([str(python), "setup_services.py", json.dumps(service_patterns)],
                       cwd=workdir, env=env, check=True, capture_output=True, timeout=120)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"django-cas-server set-up failed: {exc.stderr.decode()[-800:]}") from exc
    port = _free_port()
    log = workdir / "cas.log"
    process = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
                               cwd=workdir, env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    server = CasServer(url=f"http://127.0.0.1:{port}/cas/", process=process,
                       database=project / "cas.db", log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the CAS server stopped: {log.read_text(errors='replace')[-800:]}")
        try:
            with urllib.request.urlopen(server.url + "login", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    server.stop()
    raise RuntimeError("the CAS server did not answer within 60 s")


def issue_ticket(server: CasServer, service: str, username: str, password: str) -> str:
    """Log in at the CAS server as a browser would (its form, login ticket and CSRF token)
    and return the service ticket it issues for ``service``, unused."""
    import http.cookiejar
    from urllib.parse import parse_qs, urlencode, urlsplit

    jar = http.cookiejar.CookieJar()

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    login = server.url + "login?" + urlencode({"service": service})
    html = opener.open(login, timeout=10).read().decode()
    fields = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', html))
    fields.update(username=username, password=password)
    try:
        opener.open(urllib.request.Request(login, data=urlencode(fields).encode(),
                                           headers={"Referer": login}), timeout=10)
    except urllib.error.HTTPError as answer:
        if answer.code == 302:
            return parse_qs(urlsplit(answer.headers["Location"]).query)["ticket"][0]
        raise
    raise AssertionError("the CAS server issued no ticket (wrong password?)")


def age_ticket(server: CasServer, ticket: str, seconds: int = 3600) -> None:
    """Make a service ticket older than the server's validity (it then fails as expired)."""
    import sqlite3
    from datetime import UTC, datetime, timedelta

    old = (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")
    with sqlite3.connect(server.database) as connection:
        changed = connection.execute("UPDATE cas_server_serviceticket SET creation = ? "
                                     "WHERE value = ?", (old, ticket)).rowcount
    assert changed == 1, "no such ticket at the CAS server"
