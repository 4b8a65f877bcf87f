-- One row per trace, so the trace list never has to aggregate spans. ingest_spans()
-- (0005) keeps it: a trace's spans may arrive in several exports, in any order, from
-- several services, and each batch is merged into the row.

CREATE TABLE observability.traces (
    trace_id      uuid        PRIMARY KEY,
    root_span_id  bigint,
    root_name     text        NOT NULL,
    service_name  text        NOT NULL,
    start_time    timestamptz NOT NULL,
    end_time      timestamptz NOT NULL,
    duration_ms   double precision GENERATED ALWAYS AS (extract(epoch FROM end_time - start_time) * 1000) STORED,
    span_count    integer     NOT NULL,
    error_count   integer     NOT NULL,
    status        text        GENERATED ALWAYS AS (CASE WHEN error_count > 0 THEN 'error' ELSE 'ok' END) STORED,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE observability.traces IS
    'One row per trace, kept by ingest_spans(). root_span_id is NULL until the root span (no parent) has arrived; until then root_name and service_name are those of the earliest span seen.';

-- Trace list by time, newest first.
CREATE INDEX traces_start_time_idx ON observability.traces (start_time DESC);
-- Failed traces by time.
CREATE INDEX traces_errors_start_time_idx ON observability.traces (start_time DESC) WHERE error_count > 0;
