"""Make sure the PostgreSQL test database exists: ``pg_test_db.py URL``.

Exit 0 when it exists (created if it was missing); exit 2 and print why when the
server cannot be reached.
"""
import sys

import psycopg
from psycopg import sql


def main(url: str) -> int:
    url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    params = psycopg.conninfo.conninfo_to_dict(url)
    name = params.get("dbname") or params.get("user") or "postgres"
    try:
        with psycopg.connect(url, connect_timeout=3):
            return 0
    except psycopg.OperationalError as exc:
        if f'database "{name}" does not exist' not in str(exc):
            print(str(exc).strip().splitlines()[0])
            return 2
    try:
        with psycopg.connect(**{**params, "dbname": "postgres"}, connect_timeout=3,
                             autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        print(f"could not create database {name}: {str(exc).strip().splitlines()[0]}")
        return 2
    print(f"created database {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
