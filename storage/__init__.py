"""Data structures, keyspace and persistence (installed as respd.storage)."""
