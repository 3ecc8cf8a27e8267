-- Platform activity. Portable SQL (SQLite and PostgreSQL).

-- A registration is proven by its first launch: when a platform first launched the tool
-- (set once) and when it last did (kept within a minute per node). Unix seconds; NULL: never.
ALTER TABLE platforms ADD COLUMN first_launch_at BIGINT;
ALTER TABLE platforms ADD COLUMN last_launch_at BIGINT;
