-- How fresh the metrics are: per window, when its materialized view was last refreshed,
-- how long that took and when it is due again; then how far the minute and hour rollups
-- have got.
--
--   psql "$URL" -f sql/queries/metrics_freshness.sql
--
-- A window is refreshed by the first refresh_metrics() call at or after next_due (5 s of
-- slack); the service calls it every minute, so overdue (more than a minute past
-- next_due) means those calls are not running or are failing. Change a cadence with
--   UPDATE observability.metric_windows SET refresh_every = interval '10 minutes' WHERE time_window = '24h';

SELECT w.time_window,
       w.refresh_every,
       w.last_refreshed_at,
       round(w.last_duration_ms::numeric, 1)                    AS last_duration_ms,
       v.computed_at                                            AS view_computed_at,
       w.last_refreshed_at + w.refresh_every                    AS next_due,
       date_trunc('second', now() - w.last_refreshed_at)        AS age,
       now() >= w.last_refreshed_at + w.refresh_every + interval '1 minute' AS overdue
FROM observability.metric_windows w
LEFT JOIN (
    SELECT '1h' AS time_window, max(computed_at) AS computed_at FROM observability.metrics_1h
    UNION ALL SELECT '24h', max(computed_at) FROM observability.metrics_24h
    UNION ALL SELECT '7d', max(computed_at) FROM observability.metrics_7d
    UNION ALL SELECT '30d', max(computed_at) FROM observability.metrics_30d
) v USING (time_window)
ORDER BY w.window_span;

SELECT r.name,
       r.rolled_until,
       date_trunc('second', now() - r.rolled_until)                           AS lag,
       (SELECT max(bucket) FROM observability.metrics_minute)                 AS last_minute_bucket,
       (SELECT max(bucket) FROM observability.metrics_hour)                   AS last_hour_bucket
FROM observability_internal.rollup_state r;
