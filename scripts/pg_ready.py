"""Exit 0 when the PostgreSQL server of the given URL answers, 1 otherwise (used by make test)."""

import sys

import psycopg

url = sys.argv[1]
base, _, _name = url.rpartition("/")
try:
    with psycopg.connect(f"{base}/postgres", connect_timeout=3) as conn:
        conn.execute("select 1")
except Exception as exc:
    print(f"PostgreSQL unavailable: {exc.__class__.__name__}", file=sys.stderr)
    sys.exit(1)
sys.exit(0)
