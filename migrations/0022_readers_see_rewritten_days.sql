-- Functions that read spans take their own snapshot, so a read that waited for a
-- compaction's swap sees the rewritten day instead of no day (found by CI).
--
-- compact_span_partition() copies a day into a new table and swaps it in; the copied rows
-- carry the rewrite's transaction id, so a snapshot taken before the rewrite commits
-- cannot see them. A statement naming observability.spans is safe: PostgreSQL locks the
-- tables a statement names while parsing and planning it, waits there for the swap, and
-- only then takes the snapshot the statement runs with. A STABLE function is not, when
-- the planner has not locked what its body reads while planning the calling statement:
-- its statements lock spans when they run, and run with the calling statement's
-- snapshot, taken before. That is every PL/pgSQL function, and every SQL function the
-- planner does not try to inline (SET options; STRICT when set-returning) or whose
-- stored, already parsed body it reads without locking anything (trace_otlp()'s
-- SQL-standard body). So trace_otlp() called while its trace's day was being swapped
-- waited for the swap and then returned no spans, and so did trace_compare(),
-- trace_compare_typical(), window_metrics(), merged_window_metrics() and a REFRESH of
-- metrics_1h or metrics_24h (whose query calls window_metrics()): a trace exported
-- empty, a comparison with nothing in it, or an hour's or a day's figures without that
-- day's spans until the next refresh. CompactionReadTests shows each.
--
-- A VOLATILE function takes a new snapshot for its statements after their locks
-- (PostgreSQL's "Function Volatility Categories" documents this difference). So every
-- function PostgreSQL runs on its own whose statements read spans, directly or through a
-- function they call, becomes VOLATILE. Functions PostgreSQL inlines into the calling
-- statement stay STABLE: trace_compare(), trace_compare_typical() and trace_typical()
-- become part of that statement, which then calls the VOLATILE compare_aligned() or
-- span_alignment() itself, and a VOLATILE function is never inlined (made VOLATILE, the
-- two comparisons took 1.0 to 2.9 ms more on a 1,000-span trace in make bench-readers).
-- span_ranks() stays STABLE too: the planner reads both bodies while planning the
-- calling statement, so that statement already waits for the swap before its snapshot.
-- typical_trace_sample() and call_at_percentile() read traces and calls, which no
-- rewrite swaps.

-- MARK: Readers of spans

ALTER FUNCTION observability.trace_otlp(uuid) VOLATILE;
ALTER FUNCTION observability_internal.span_alignment(uuid[]) VOLATILE;
ALTER FUNCTION observability_internal.digest_rows(text, timestamptz, timestamptz) VOLATILE;
ALTER FUNCTION observability.window_metrics(interval) VOLATILE;

-- MARK: Functions run on their own that call them

ALTER FUNCTION observability_internal.compare_aligned(uuid, uuid, uuid[]) VOLATILE;
ALTER FUNCTION observability.merged_window_metrics(interval) VOLATILE;
