#!/usr/bin/env bash
# The test command: unit tests, the integration-test binary and the sqllogictest files.
# It installs what the tests need by itself: a Python venv with moto (a local S3-compatible
# server, from PyPI), started on a free port on 127.0.0.1 for the object-storage test, and the
# Flight SQL clients BI tools use (the ADBC driver, flightsql-dbapi with SQLAlchemy), run
# against `c360 serve` after the Rust tests.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/c360-target}"
VENV="${C360_VENV:-$HOME/.cache/c360-venv}"

if [ ! -x "$VENV/bin/moto_server" ]; then
  echo "scripts/test.sh: creating $VENV with moto[server] (local S3 server for the tests)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]>=5,<6"
fi
if ! "$VENV/bin/python" -c "import adbc_driver_flightsql, flightsql, sqlalchemy, pandas" 2>/dev/null; then
  echo "scripts/test.sh: installing the Flight SQL clients into $VENV"
  # flightsql-dbapi's SQLAlchemy dialect needs SQLAlchemy 1.4 (its pin) and pandas.
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "adbc-driver-flightsql>=1.3,<2" "adbc-driver-manager>=1.3,<2" "pyarrow>=16" \
    "flightsql-dbapi==0.2.2" "sqlalchemy>=1.4,<2" "pandas>=2"
fi

PORT="$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
LOG="$(mktemp -t c360-moto.XXXXXX.log)"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
MOTO_PID=$!
trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT

export C360_TEST_S3_ENDPOINT="http://127.0.0.1:$PORT"
export C360_TEST_S3_BUCKET="c360-test"
"$VENV/bin/python" - <<PY
import time, boto3
s3 = boto3.client("s3", endpoint_url="$C360_TEST_S3_ENDPOINT", region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
for attempt in range(100):
    try:
        s3.create_bucket(Bucket="$C360_TEST_S3_BUCKET")
        break
    except Exception as e:
        if attempt == 99:
            raise SystemExit(f"local S3 server did not start: {e}; see $LOG")
        time.sleep(0.2)
PY
echo "scripts/test.sh: local S3 server on $C360_TEST_S3_ENDPOINT (bucket $C360_TEST_S3_BUCKET)"

cargo test --all-targets "$@"

echo "scripts/test.sh: Flight SQL clients against c360 serve"
"$VENV/bin/python" tests/clients/test_flight_clients.py "$CARGO_TARGET_DIR/debug/c360"
