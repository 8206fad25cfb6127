"""The SQL of the PostgreSQL event store (`postgres.PostgresEventStore`),
apart from the code that runs it. Arguments are numbered ($1...); arrays
are passed whole and unnested, so a batch is one statement."""

EVENT_COLUMNS = (
    "position, event_id, run_id, thread_id, seq, attempt, type, schema_version, time, payload, "
    "trace_context"
)
HEAD_COLUMNS = (
    "run_id, thread_id, last_seq, attempt, ended, lease_owner, lease_until, republished, "
    "cancel_action"
)

LOCK_HEADS = f"""
SELECT {HEAD_COLUMNS} FROM run_heads WHERE run_id = ANY($1::text[])
ORDER BY run_id FOR UPDATE
"""

STORED_ATTEMPTS = """
SELECT e.run_id, e.seq, e.attempt FROM events e
JOIN unnest($1::text[], $2::bigint[]) AS k(run_id, seq) ON e.run_id = k.run_id AND e.seq = k.seq
"""

# Inserts the events, moves the heads and announces the runs, in one round trip.
WRITE = """
WITH new_events AS (
    INSERT INTO events
        (event_id, run_id, thread_id, seq, attempt, type, schema_version, time, payload,
         trace_context)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::int[], $6::text[],
                         $7::int[], $8::timestamptz[], $9::text[], $17::text[])
), heads AS (
    INSERT INTO run_heads (run_id, thread_id, last_seq, attempt, ended, lease_owner)
    SELECT r, t, s, a, e, '' FROM unnest($10::text[], $11::text[], $12::bigint[], $13::int[],
                                         $14::bool[]) AS h(r, t, s, a, e)
    ON CONFLICT (run_id) DO UPDATE SET last_seq = EXCLUDED.last_seq, ended = EXCLUDED.ended
)
SELECT pg_notify($15, $16)
"""

# The same rule as base.is_stale_command, in SQL so that the partial indexes
# on unclaimed and on started runs do the work; SKIP LOCKED lets concurrent
# sweepers take different runs.
TAKE_STALE = """
WITH stale AS (
    SELECT h.run_id FROM run_heads h JOIN events e ON e.run_id = h.run_id AND e.seq = 1
    WHERE (h.attempt = 0 AND NOT h.ended
           AND e.time < now() - make_interval(secs => $1::float8 / 1000 * power(2, h.republished)))
       OR (h.attempt > 0 AND NOT h.ended
           AND h.lease_until
               < now() - make_interval(secs => $1::float8 / 1000 * power(2, h.republished)))
    ORDER BY e.time LIMIT $2
    FOR UPDATE OF h SKIP LOCKED
), marked AS (
    UPDATE run_heads SET republished = republished + 1
    WHERE run_id IN (SELECT run_id FROM stale) RETURNING run_id
)
SELECT e.position, e.event_id, e.run_id, e.thread_id, e.seq, e.attempt, e.type,
       e.schema_version, e.time, e.payload, e.trace_context
FROM events e JOIN marked m ON e.run_id = m.run_id AND e.seq = 1
ORDER BY e.time
"""

INSERT_STREAM_EVENTS = """
WITH new_events AS (
    INSERT INTO events
        (event_id, run_id, thread_id, seq, attempt, type, schema_version, time, payload)
    SELECT e, r, t, s, 0, y, 1, w, p
    FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[],
                $6::timestamptz[], $7::text[]) AS x(e, r, t, s, y, w, p)
)
SELECT pg_notify($8, $9)
"""

CANCEL_REQUESTS = """
SELECT run_id, cancel_action FROM run_heads
WHERE run_id = ANY($1::text[]) AND cancel_action <> '' AND NOT ended
"""

# Marks the run and tells its lease holder, in one statement: "rollback"
# wins over "interrupt", otherwise the first request stands.
MARK_CANCEL = f"""
WITH marked AS (
    UPDATE run_heads SET cancel_action =
        CASE WHEN cancel_action = 'rollback' THEN cancel_action ELSE $2 END
    WHERE run_id = $1 AND NOT ended
    RETURNING {HEAD_COLUMNS}
), told AS (
    SELECT pg_notify($3, lease_owner || ' ' || run_id || ' ' || cancel_action)
    FROM marked WHERE lease_owner <> ''
)
SELECT {HEAD_COLUMNS}, (SELECT count(*) FROM told) AS told FROM marked
"""

REJECT = """
INSERT INTO event_rejections (event_id, run_id, seq, attempt, reason, time)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::timestamptz[])
"""

READ = f"""
SELECT {EVENT_COLUMNS} FROM events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3
"""

READ_ALL = f"SELECT {EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2"
# The same, with the payloads of the types in $3 only ('{}' for the others).
READ_ALL_TRIMMED = (
    "SELECT position, event_id, run_id, thread_id, seq, attempt, type, schema_version, time,"
    " CASE WHEN type = ANY($3::text[]) THEN payload ELSE '{}' END AS payload, trace_context"
    " FROM events WHERE position > $1 ORDER BY position LIMIT $2"
)

HEAD = f"SELECT {HEAD_COLUMNS} FROM run_heads WHERE run_id = $1"

CLAIM = """
UPDATE run_heads h SET attempt = c.attempt, lease_owner = c.owner, lease_until = c.until,
    republished = c.republished
FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::int[])
     AS c(run_id, attempt, owner, until, republished)
WHERE h.run_id = c.run_id
"""

LOCK_THREADS = """
SELECT pg_advisory_xact_lock(hashtextextended(t, 0))
FROM unnest($1::text[]) AS t ORDER BY t
"""

ACTIVE_RUNS = f"""
SELECT DISTINCT ON (thread_id) {HEAD_COLUMNS} FROM run_heads
WHERE thread_id = ANY($1::text[]) AND attempt > 0 AND NOT ended
ORDER BY thread_id, run_id
"""

# Rows are locked in run_id order, as appends lock them, so that the two
# cannot deadlock.
RENEW = """
UPDATE run_heads SET lease_until = now() + make_interval(secs => $3::float8 / 1000)
WHERE run_id IN (
    SELECT run_id FROM run_heads
    WHERE run_id = ANY($1::text[]) AND lease_owner = $2 AND NOT ended
    ORDER BY run_id FOR UPDATE
)
RETURNING run_id
"""


LATEST_ROOT_CHECKPOINT = """
SELECT checkpoint_id FROM checkpoints WHERE thread_id = $1 AND checkpoint_ns = ''
ORDER BY checkpoint_id COLLATE "C" DESC LIMIT 1
"""

# Each side is answered from its partial index (unclaimed / started runs).
HAS_UNENDED_RUNS = """
SELECT EXISTS (SELECT 1 FROM run_heads WHERE attempt = 0 AND NOT ended)
    OR EXISTS (SELECT 1 FROM run_heads WHERE attempt > 0 AND NOT ended)
"""
