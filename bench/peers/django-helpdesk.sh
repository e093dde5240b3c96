#!/usr/bin/env bash
# django-helpdesk 2.6.1 (from PyPI, on SQLite, served by gunicorn) as a peer
# for `kept bench --peers`. See README.md beside this script.
#
#   django-helpdesk.sh install   virtualenv, a minimal Django project around
#                                helpdesk, migrate, a staff user with a DRF
#                                token, one queue; keeps a pristine database
#   django-helpdesk.sh start     fresh copy of that database, gunicorn on
#                                127.0.0.1:$PORT (default 8092); prints
#                                KEY=VALUE lines on stdout, nothing else
#   django-helpdesk.sh stop      stop what start started (by its process group)
#
# Nothing of django-helpdesk goes into the repository: everything lives under
# $KEPT_PEERS_DIR (default /var/tmp/kept-peers/django-helpdesk).
set -euo pipefail

PORT="${PORT:-8092}"
HOST=127.0.0.1
WORKERS="${WORKERS:-4}"
HELPDESK_VERSION=2.6.1
DIR="${KEPT_PEERS_DIR:-/var/tmp/kept-peers}/django-helpdesk"
VENV="$DIR/venv"
PROJECT="$DIR/project"
PRISTINE="$DIR/pristine.sqlite3"
STATE="$DIR/state.env"
RUN="$DIR/run"
PIDFILE="$DIR/gunicorn.pid"
LOG="$DIR/gunicorn.log"
PYTHON="${PYTHON:-python3}"

log() { echo "django-helpdesk.sh: $*" >&2; }

installed() {
    [[ -x "$VENV/bin/gunicorn" && -f "$PROJECT/manage.py" && -f "$PRISTINE" && -f "$STATE" ]]
}

write_project() {
    mkdir -p "$PROJECT/keptbench"
    : >"$PROJECT/keptbench/__init__.py"
    cat >"$PROJECT/manage.py" <<'EOF'
#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keptbench.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
EOF
    cat >"$PROJECT/keptbench/wsgi.py" <<'EOF'
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keptbench.settings")
application = get_wsgi_application()
EOF
    cat >"$PROJECT/keptbench/urls.py" <<'EOF'
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("helpdesk.urls", namespace="helpdesk")),
]
EOF
    # The database file and the mail directory come from the environment
    # that `start` sets, so every run works on its own copy.
    cat >"$PROJECT/keptbench/settings.py" <<'EOF'
# Written by kept's bench/peers/django-helpdesk.sh: the smallest Django
# project around django-helpdesk, for the intake benchmark on loopback.
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SCRATCH = Path(os.environ.get("KEPT_DH_DIR", BASE_DIR.parent))

SECRET_KEY = "kept-bench-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]
SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "keptbench.urls"
WSGI_APPLICATION = "keptbench.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite as kept runs it: WAL, synchronous=NORMAL, a raised busy timeout;
# IMMEDIATE transactions so concurrent writers wait instead of failing on
# a lock upgrade; connections kept across requests.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("KEPT_DH_DB", str(SCRATCH / "pristine.sqlite3")),
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
    }
}

# No MTA: mail helpdesk sends (to the submitter on create, reply and
# resolve) is rendered and written to files, as RT appends to an mbox.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("KEPT_DH_MAIL", str(SCRATCH / "mail"))
DEFAULT_FROM_EMAIL = "helpdesk@example.com"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}
# On by default in 2.6.1; said here so the benchmark does not depend on it.
HELPDESK_API_ENABLED = True
# Teams mode needs pinax-teams (not a dependency of the package); off.
HELPDESK_TEAMS_MODE_ENABLED = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = str(SCRATCH / "static")
MEDIA_ROOT = str(SCRATCH / "media")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "helpdesk:login"
EOF
}

install() {
    local started=$SECONDS
    mkdir -p "$DIR"
    if [[ -x "$VENV/bin/gunicorn" ]] && "$VENV/bin/pip" show django-helpdesk 2>/dev/null | grep -qx "Version: $HELPDESK_VERSION"; then
        log "virtualenv already has django-helpdesk $HELPDESK_VERSION"
    else
        log "installing django-helpdesk $HELPDESK_VERSION and gunicorn from PyPI into $VENV"
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/pip" install -q "django-helpdesk==$HELPDESK_VERSION" gunicorn >&2
    fi
    write_project
    if [[ ! -f "$PRISTINE" || ! -f "$STATE" ]]; then
        rm -f "$PRISTINE" "$PRISTINE-wal" "$PRISTINE-shm" "$STATE"
        log "migrating a fresh database"
        (cd "$PROJECT" && KEPT_DH_DB="$PRISTINE" "$VENV/bin/python" manage.py migrate --noinput >&2)
        # A staff (superuser) agent with a DRF token and one queue. The
        # password is unusable: the API is driven with the token only.
        (cd "$PROJECT" && KEPT_DH_DB="$PRISTINE" "$VENV/bin/python" manage.py shell -v 0 | grep -E '^(TOKEN|QUEUE_ID)=' >"$STATE.new") <<'EOF'
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from helpdesk.models import Queue

User = get_user_model()
agent, _ = User.objects.get_or_create(
    username="bench",
    defaults={"email": "bench@example.com", "is_staff": True, "is_superuser": True},
)
agent.set_unusable_password()
agent.save()
token, _ = Token.objects.get_or_create(user=agent)
queue, _ = Queue.objects.get_or_create(slug="bench", defaults={"title": "Bench"})
print(f"TOKEN={token.key}")
print(f"QUEUE_ID={queue.id}")
EOF
        # Fold the write-ahead log into the file, so a plain copy is whole.
        "$VENV/bin/python" - "$PRISTINE" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
EOF
        mv "$STATE.new" "$STATE"
    fi
    log "install took $((SECONDS - started)) s"
}

answering() {
    local token
    token=$(sed -n 's/^TOKEN=//p' "$STATE")
    curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Token $token" \
        "http://$HOST:$PORT/api/tickets/?status=1" 2>/dev/null | grep -q '^200$'
}

start() {
    installed || install
    if [[ -f "$PIDFILE" ]] && kill -0 -- "-$(cat "$PIDFILE")" 2>/dev/null; then
        log "already running (process group $(cat "$PIDFILE")); stop it first"
        exit 1
    fi
    if curl -s -o /dev/null "http://$HOST:$PORT/" 2>/dev/null; then
        log "something already answers on $HOST:$PORT"
        exit 1
    fi
    # A fresh copy of the pristine database for every run, so runs compare.
    rm -rf "$RUN"
    mkdir -p "$RUN/mail"
    cp "$PRISTINE" "$RUN/db.sqlite3"

    : >"$LOG"
    # setsid: gunicorn's master and workers get their own process group,
    # whose id (the master's pid) `stop` signals.
    KEPT_DH_DB="$RUN/db.sqlite3" KEPT_DH_MAIL="$RUN/mail" KEPT_DH_DIR="$DIR" \
        setsid "$VENV/bin/gunicorn" --chdir "$PROJECT" -b "$HOST:$PORT" -w "$WORKERS" \
        keptbench.wsgi </dev/null >>"$LOG" 2>&1 &
    local pid=$!
    echo "$pid" >"$PIDFILE"
    wait_until_answering gunicorn "$pid"
    log "gunicorn answering on $HOST:$PORT with $WORKERS workers (process group $pid, log $LOG)"
    echo "BASE_URL=http://$HOST:$PORT"
    grep -E '^(TOKEN|QUEUE_ID)=' "$STATE"
    echo "PGID=$pid"
}

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
