"""The results store (SQLite or PostgreSQL): tables, migrations and the one store API."""
