"""A database of the benchmarks' own (temporary SQLite, or pingyi_bench on PostgreSQL).

A benchmark never touches the development database under ./var: settings are pointed (through
DATABASE_URL and PINGYI_VAR_DIR) at the scratch database before Django is set up.
"""

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PG_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "pingyi_bench"


def pg_url(database: str) -> str:
    """The URL of a database on the server of DATABASE_URL (or the local default server)."""
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        server = DEFAULT_PG_SERVER
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def recreate_pg_database(*, drop_only: bool = False, database: str = BENCH_DB) -> None:
    import psycopg

    try:
        conn = psycopg.connect(pg_url("postgres"), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"PostgreSQL does not answer at {pg_url('postgres')}: {exc}") from exc
    with conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {database}")


def bench_db(args: argparse.Namespace) -> str:
    """The scratch database's name: pingyi_bench, or the benchmark's own (args.database)."""
    return getattr(args, "database", None) or BENCH_DB


def use_own_database(args: argparse.Namespace) -> Path:
    """Point settings at the bench database; returns a scratch directory for ./var."""
    scratch = Path(tempfile.mkdtemp(prefix="pingyi-bench-"))
    os.environ["PINGYI_VAR_DIR"] = str(scratch)
    os.environ["DJANGO_DEBUG"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingyi.settings")
    if args.postgres:
        if not getattr(args, "reuse", False):  # --reuse: the database a --keep run left
            recreate_pg_database(database=bench_db(args))
        os.environ["DATABASE_URL"] = pg_url(bench_db(args))
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    return scratch


@contextmanager
def scratch_database(args: argparse.Namespace) -> Iterator[None]:
    """Set Django up on the bench database for the block, and remove the database after it.

    A PostgreSQL DATABASE_URL means --postgres (its server is used, never its database);
    args.keep leaves pingyi_bench (or args.database) in place to look at with psql.
    """
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        args.postgres = True
    scratch = use_own_database(args)
    try:
        sys.path.insert(0, str(ROOT_DIR))
        import django

        django.setup()
        yield
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if args.postgres and not args.keep:
            from django.db import connections

            connections.close_all()
            recreate_pg_database(drop_only=True, database=bench_db(args))
