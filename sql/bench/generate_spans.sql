-- Fills observability.spans and observability.traces of an already migrated database with
-- synthetic MCP gateway traffic, for benchmarks of the metric views, rollups and pages.
--
--   psql "$URL" -v spans=10000000 -v traces=1000000 -v days=30 -f sql/bench/generate_spans.sql
--
-- Variables (all optional):
--   traces  traces to generate, spread uniformly over the last :days days ending now
--           (default 1000000)
--   spans   total spans wanted; the mean spans per trace is :spans / :traces and must lie
--           between 3 and 20 (default 10000000, i.e. 10 per trace)
--   days    days of history, 1 to 397 (default 30)
--   seed    a number in [-1, 1] for setseed(): the same ids, shapes, durations and errors
--           on every run (times still end at now(); use a fresh database, or the trace
--           ids collide). Default: none
--
-- What it writes:
--   * every trace: a root http_request server span `POST /mcp` (service mcp-gateway), one
--     or more MCP operations under it (tool_invoke 65 %, prompt_render 15 %,
--     resource_fetch 20 %: 40 tools, 12 prompts, 20 resources, each picked with a
--     zipf-like popularity), and db_query and http_request client spans under those.
--     3 to 20 spans per trace; durations are log-normal per target; each parent starts
--     before and ends after its children, which run one after another. Some tools are
--     slow (web_search, run_code, browse_page, generate_report), two fail more than half
--     the time (legacy_crm_lookup, scrape_website), nine fail 5-20 %, the rest < 5 %;
--     about 4 in 10,000 db_query spans take 1 to 4 s. Error spans carry a status_message
--     from a small set per kind.
--   * one more trace of exactly 1,000 spans: a chain of 19 nested tool calls under the
--     root, then a 4-ary tree 5 levels deep below its end. Its hex trace id is printed at
--     the end (psql variable wide_trace_id).
--   * one traces row per trace, consistent with its spans (root, bounds, counts).
--
-- Spans go straight into observability.spans, not through ingest_spans(); the script
-- writes the matching traces rows itself. It first calls ensure_partitions() for
-- :days + 1 days back, so every span lands in its daily partition, then generates one
-- day per statement (one transaction each; an interrupted run leaves the days already
-- done), and ends with VACUUM (ANALYZE) of both tables. It adds to whatever is there;
-- run it on an empty database for clean figures.
-- Session settings: work_mem 256MB, temp_buffers 256MB, synchronous_commit off, jit off
-- (the generator's row estimates are far off, and JIT would compile for seconds per day).
-- Run `SELECT * FROM observability.refresh_metrics(p_force => true);` afterwards to
-- fill the metric views and rollups.

\set ON_ERROR_STOP on
\set QUIET on
\if :{?traces}
\else
    \set traces 1000000
\endif
\if :{?spans}
\else
    \set spans 10000000
\endif
\if :{?days}
\else
    \set days 30
\endif

SELECT (:traces::bigint >= 1 AND :days::integer BETWEEN 1 AND 397
        AND :spans::numeric / :traces BETWEEN 3 AND 20) AS generate_args_ok \gset
\if :generate_args_ok
\else
    DO $$ BEGIN RAISE EXCEPTION 'generate_spans.sql: need traces >= 1, days between 1 and 397, and spans / traces between 3 and 20'; END $$;
\endif

SET work_mem = '256MB';
SET temp_buffers = '256MB';
SET synchronous_commit = off;
SET jit = off;
SET client_min_messages = warning;
\if :{?seed}
    SELECT setseed(:seed) AS seeded \gset
\endif
\pset footer off

SELECT now() AS gen_now, clock_timestamp() AS gen_started \gset

-- The exponent k of n = 3 + floor(18 * random() ^ k) (3 to 20 spans per trace) whose mean
-- is :spans / :traces: E[floor(18 U^k)] = sum over v = 1..17 of 1 - (v/18)^(1/k).
SELECT k AS gen_shape
FROM (SELECT exp(x / 1000.0::double precision) AS k FROM generate_series(-4000, 7000) AS x) c
ORDER BY abs(3 + (SELECT sum(1 - (v / 18.0::double precision) ^ (1 / c.k)) FROM generate_series(1, 17) AS v)
             - :spans::double precision / :traces)
LIMIT 1 \gset

\echo
\echo '== generating' :traces 'traces, about' :spans 'spans, over' :days 'days ending' :'gen_now'
\timing on

\echo '== partitions'
SELECT count(*) AS partitions_created
FROM observability.ensure_partitions(p_days_back => :days + 1, p_days_ahead => 2, p_now => :'gen_now');

\timing off
-- Catalogs. rank is the popularity order: rank r of N is drawn with probability
-- ln((r + 1) / r) / ln(N + 1), zipf-like (rank 1 of 40 about 19 %, rank 40 under 1 %).
-- http_share: share of the operation's child spans that are HTTP calls (else SQL);
-- http_call: the HTTP call (rank in gen_downstream kind 'http') it makes most often.
CREATE TEMP TABLE gen_mcp AS
SELECT row_number() OVER (ORDER BY m.op_order, m.rank)::integer AS id, m.*
FROM (VALUES
    (1, 'tool_invoke', 1, 'search_docs', 120, 0.5, 0.01, 0.0, NULL),
    (1, 'tool_invoke', 2, 'read_file', 8, 0.6, 0.02, 0.0, NULL),
    (1, 'tool_invoke', 3, 'get_weather', 140, 0.45, 0.03, 0.5, 4),
    (1, 'tool_invoke', 4, 'list_directory', 6, 0.5, 0.01, 0.0, NULL),
    (1, 'tool_invoke', 5, 'fetch_url', 450, 0.7, 0.09, 0.6, 7),
    (1, 'tool_invoke', 6, 'run_sql', 60, 0.9, 0.14, 0.0, NULL),
    (1, 'tool_invoke', 7, 'summarize_document', 900, 0.4, 0.03, 0.6, 1),
    (1, 'tool_invoke', 8, 'write_file', 15, 0.5, 0.02, 0.0, NULL),
    (1, 'tool_invoke', 9, 'github_search_code', 350, 0.5, 0.02, 0.6, 3),
    (1, 'tool_invoke', 10, 'vector_search', 45, 0.6, 0.01, 0.3, 2),
    (1, 'tool_invoke', 11, 'send_email', 380, 0.5, 0.06, 0.5, 5),
    (1, 'tool_invoke', 12, 'get_customer', 30, 0.5, 0.01, 0.0, NULL),
    (1, 'tool_invoke', 13, 'create_calendar_event', 220, 0.4, 0.02, 0.0, NULL),
    (1, 'tool_invoke', 14, 'translate_text', 520, 0.35, 0.03, 0.5, 1),
    (1, 'tool_invoke', 15, 'slack_post_message', 260, 0.4, 0.04, 0.6, 8),
    (1, 'tool_invoke', 16, 'web_search', 1500, 0.6, 0.11, 0.7, 9),
    (1, 'tool_invoke', 17, 'jira_search', 300, 0.5, 0.02, 0.6, 10),
    (1, 'tool_invoke', 18, 'embed_text', 80, 0.4, 0.005, 0.6, 2),
    (1, 'tool_invoke', 19, 'legacy_crm_lookup', 2200, 0.8, 0.58, 0.7, 6),
    (1, 'tool_invoke', 20, 'update_customer', 40, 0.5, 0.03, 0.0, NULL),
    (1, 'tool_invoke', 21, 'list_calendar_events', 90, 0.4, 0.01, 0.0, NULL),
    (1, 'tool_invoke', 22, 'github_create_issue', 420, 0.4, 0.04, 0.6, 3),
    (1, 'tool_invoke', 23, 'run_code', 3000, 0.9, 0.17, 0.2, 1),
    (1, 'tool_invoke', 24, 'geocode_address', 75, 0.4, 0.02, 0.5, 4),
    (1, 'tool_invoke', 25, 'get_stock_quote', 160, 0.4, 0.03, 0.5, 9),
    (1, 'tool_invoke', 26, 'create_invoice', 180, 0.5, 0.02, 0.0, NULL),
    (1, 'tool_invoke', 27, 'jira_create_issue', 480, 0.4, 0.07, 0.6, 10),
    (1, 'tool_invoke', 28, 'list_invoices', 70, 0.5, 0.01, 0.0, NULL),
    (1, 'tool_invoke', 29, 'browse_page', 2500, 0.7, 0.12, 0.6, 7),
    (1, 'tool_invoke', 30, 'convert_currency', 50, 0.3, 0.01, 0.5, 9),
    (1, 'tool_invoke', 31, 'take_screenshot', 1800, 0.5, 0.04, 0.5, 7),
    (1, 'tool_invoke', 32, 'query_metrics', 110, 0.6, 0.02, 0.0, NULL),
    (1, 'tool_invoke', 33, 'scrape_website', 1200, 0.9, 0.63, 0.7, 7),
    (1, 'tool_invoke', 34, 'create_ticket', 200, 0.4, 0.02, 0.5, 10),
    (1, 'tool_invoke', 35, 'kubectl_get_pods', 260, 0.5, 0.04, 0.5, 3),
    (1, 'tool_invoke', 36, 's3_list_objects', 95, 0.5, 0.01, 0.5, 3),
    (1, 'tool_invoke', 37, 'generate_report', 5200, 0.6, 0.08, 0.3, 1),
    (1, 'tool_invoke', 38, 'github_create_pr', 650, 0.4, 0.06, 0.6, 3),
    (1, 'tool_invoke', 39, 'image_caption', 780, 0.3, 0.03, 0.5, 1),
    (1, 'tool_invoke', 40, 'delete_file', 10, 0.5, 0.02, 0.0, NULL),
    (2, 'prompt_render', 1, 'code_review', 15, 0.5, 0.02, 0.0, NULL),
    (2, 'prompt_render', 2, 'summarize_thread', 12, 0.5, 0.01, 0.0, NULL),
    (2, 'prompt_render', 3, 'draft_email', 10, 0.4, 0.01, 0.0, NULL),
    (2, 'prompt_render', 4, 'explain_error', 14, 0.5, 0.02, 0.0, NULL),
    (2, 'prompt_render', 5, 'write_commit_message', 8, 0.4, 0.01, 0.0, NULL),
    (2, 'prompt_render', 6, 'meeting_notes', 18, 0.5, 0.03, 0.0, NULL),
    (2, 'prompt_render', 7, 'sql_from_question', 25, 0.6, 0.08, 0.0, NULL),
    (2, 'prompt_render', 8, 'translate', 9, 0.4, 0.01, 0.0, NULL),
    (2, 'prompt_render', 9, 'release_notes', 40, 0.5, 0.02, 0.3, 3),
    (2, 'prompt_render', 10, 'incident_report', 30, 0.5, 0.04, 0.0, NULL),
    (2, 'prompt_render', 11, 'onboarding_guide', 22, 0.4, 0.01, 0.0, NULL),
    (2, 'prompt_render', 12, 'test_plan', 20, 0.5, 0.15, 0.0, NULL),
    (3, 'resource_fetch', 1, 'file:///docs/README.md', 3, 0.5, 0.005, 0.0, NULL),
    (3, 'resource_fetch', 2, 'file:///docs/api/reference.md', 4, 0.5, 0.01, 0.0, NULL),
    (3, 'resource_fetch', 3, 'db://customers/accounts', 25, 0.6, 0.02, 0.0, NULL),
    (3, 'resource_fetch', 4, 'file:///docs/architecture.md', 4, 0.5, 0.01, 0.0, NULL),
    (3, 'resource_fetch', 5, 'db://customers/orders', 35, 0.7, 0.03, 0.0, NULL),
    (3, 'resource_fetch', 6, 'file:///docs/runbooks/oncall.md', 3, 0.5, 0.01, 0.0, NULL),
    (3, 'resource_fetch', 7, 'db://customers/contacts', 20, 0.6, 0.02, 0.0, NULL),
    (3, 'resource_fetch', 8, 'file:///docs/guides/deploy.md', 4, 0.5, 0.01, 0.0, NULL),
    (3, 'resource_fetch', 9, 'db://customers/invoices', 40, 0.7, 0.04, 0.0, NULL),
    (3, 'resource_fetch', 10, 'file:///docs/changelog.md', 5, 0.5, 0.02, 0.0, NULL),
    (3, 'resource_fetch', 11, 'db://inventory/products', 30, 0.6, 0.02, 0.0, NULL),
    (3, 'resource_fetch', 12, 'file:///docs/faq.md', 3, 0.5, 0.01, 0.0, NULL),
    (3, 'resource_fetch', 13, 'db://customers/tickets', 45, 0.7, 0.09, 0.0, NULL),
    (3, 'resource_fetch', 14, 'file:///docs/security/policy.md', 3, 0.5, 0.01, 0.0, NULL),
    (3, 'resource_fetch', 15, 'db://analytics/daily_active_users', 400, 0.8, 0.06, 0.0, NULL),
    (3, 'resource_fetch', 16, 'file:///docs/onboarding.md', 3, 0.5, 0.01, 0.0, NULL),
    (3, 'resource_fetch', 17, 'file:///docs/archive/2023/notes.md', 6, 0.5, 0.35, 0.0, NULL),
    (3, 'resource_fetch', 18, 'db://customers/payment_methods', 30, 0.6, 0.14, 0.0, NULL),
    (3, 'resource_fetch', 19, 'file:///docs/drafts/roadmap.md', 4, 0.5, 0.55, 0.0, NULL),
    (3, 'resource_fetch', 20, 'db://billing/ledger', 60, 0.7, 0.03, 0.0, NULL)
) AS m(op_order, operation, rank, target, median_ms, sigma, error_rate, http_share, http_call);

-- What the MCP operations call. db: operation, collection, statement as stored after
-- redaction (literals as ?); http: method, host, URL (target = method and path).
CREATE TEMP TABLE gen_downstream AS
SELECT row_number() OVER (ORDER BY d.kind, d.rank)::integer AS id, d.*
FROM (VALUES
    ('db', 1, 'SELECT', 'customers', 'SELECT id, name, email FROM customers WHERE id = ?', 2, 0.6, 0.003),
    ('db', 2, 'SELECT', 'orders', 'SELECT * FROM orders WHERE customer_id = ? AND status = ?', 4, 0.8, 0.003),
    ('db', 3, 'INSERT', 'audit_log', 'INSERT INTO audit_log (tool, user_id, created_at) VALUES (?, ?, ?)', 2, 0.5, 0.002),
    ('db', 4, 'SELECT', 'documents', 'SELECT id, title FROM documents WHERE tsv @@ plainto_tsquery(?, ?) LIMIT ?', 12, 0.9, 0.005),
    ('db', 5, 'UPDATE', 'sessions', 'UPDATE sessions SET last_seen_at = now() WHERE id = ?', 3, 0.6, 0.004),
    ('db', 6, 'SELECT', 'documents', 'SELECT body FROM documents WHERE id = ?', 2, 0.5, 0.002),
    ('db', 7, 'INSERT', 'outbox', 'INSERT INTO outbox (recipient, subject, body) VALUES (?, ?, ?)', 3, 0.6, 0.01),
    ('db', 8, 'SELECT', 'orders', 'SELECT date_trunc(?, created_at) AS day, sum(total_cents) FROM orders WHERE created_at >= ? GROUP BY 1 ORDER BY 1', 35, 1.0, 0.01),
    ('db', 9, 'UPDATE', 'orders', 'UPDATE orders SET status = ?, shipped_at = now() WHERE id = ?', 6, 0.7, 0.008),
    ('db', 10, 'SELECT', 'prompt_templates', 'SELECT body FROM prompt_templates WHERE name = ? AND version = ?', 2, 0.4, 0.002),
    ('db', 11, 'INSERT', 'tool_calls', 'INSERT INTO tool_calls (session_id, tool, started_at) VALUES (?, ?, ?)', 2, 0.5, 0.003),
    ('db', 12, 'UPDATE', 'customers', 'UPDATE customers SET updated_at = now() WHERE id = ?', 4, 0.6, 0.006),
    ('http', 1, 'POST', 'api.llm.example', 'https://api.llm.example/v1/chat/completions', 600, 0.5, 0.02),
    ('http', 2, 'POST', 'api.llm.example', 'https://api.llm.example/v1/embeddings', 90, 0.4, 0.01),
    ('http', 3, 'GET', 'api.github.com', 'https://api.github.com/search/code', 250, 0.5, 0.02),
    ('http', 4, 'GET', 'api.weather.example', 'https://api.weather.example/v1/forecast', 120, 0.4, 0.01),
    ('http', 5, 'POST', 'api.mail.example', 'https://api.mail.example/v3/mail/send', 180, 0.4, 0.02),
    ('http', 6, 'GET', 'crm.legacy.example', 'https://crm.legacy.example/api/lookup', 900, 0.8, 0.08),
    ('http', 7, 'GET', 'www.example.org', 'https://www.example.org/articles', 350, 0.7, 0.05),
    ('http', 8, 'POST', 'slack.example', 'https://slack.example/api/chat.postMessage', 150, 0.4, 0.01),
    ('http', 9, 'GET', 'api.search.example', 'https://api.search.example/v1/web', 450, 0.5, 0.02),
    ('http', 10, 'POST', 'jira.example.com', 'https://jira.example.com/rest/api/3/issue', 300, 0.5, 0.02)
) AS d(kind, rank, operation, name, text, median_ms, sigma, error_rate);

-- Status messages of failed spans. An MCP operation draws from three consecutive
-- messages that depend on its catalog id, so each tool fails in its own few ways.
-- {target} is replaced by the span's target.
CREATE TEMP TABLE gen_message (source text, message text);
INSERT INTO gen_message VALUES
    ('root', 'HTTP 500'), ('root', 'HTTP 502'), ('root', 'HTTP 504'),
    ('tool_invoke', 'Invalid params: ''query'' is a required property'),
    ('tool_invoke', 'upstream timeout after 30 s'),
    ('tool_invoke', 'rate limit exceeded (429), retry after 20 s'),
    ('tool_invoke', 'permission denied for this API key'),
    ('tool_invoke', 'tool result reported isError'),
    ('tool_invoke', 'connection reset by peer'),
    ('tool_invoke', 'upstream returned HTTP 502'),
    ('tool_invoke', 'result exceeds the 1 MiB limit'),
    ('prompt_render', '''ticket'' is undefined'),
    ('prompt_render', 'Invalid params: ''language'' is a required property'),
    ('prompt_render', 'prompt template {target} not found'),
    ('prompt_render', 'template render timed out after 5 s'),
    ('resource_fetch', 'Resource not found: {target}'),
    ('resource_fetch', 'permission denied: {target}'),
    ('resource_fetch', 'timeout reading {target} after 10 s'),
    ('resource_fetch', 'resource too large (> 5 MiB)'),
    ('db', 'canceling statement due to statement timeout'),
    ('db', 'deadlock detected'),
    ('db', 'duplicate key value violates unique constraint'),
    ('db', 'could not serialize access due to concurrent update'),
    ('http', 'HTTP 502'),
    ('http', 'HTTP 503'),
    ('http', 'HTTP 429'),
    ('http', 'connection reset by peer'),
    ('http', 'read timeout after 30 s');

-- One row per span before it gets its names and attributes: role r (root), m (MCP
-- operation), d (SQL), h (HTTP call); cat is the gen_mcp or gen_downstream id; pick
-- chooses the status message.
CREATE TEMP TABLE gen_stage (
    trace_id       uuid        NOT NULL,
    span_id        bigint      NOT NULL,
    parent_span_id bigint,
    role           "char"      NOT NULL,
    cat            integer     NOT NULL,
    start_time     timestamptz NOT NULL,
    end_time       timestamptz NOT NULL,
    is_error       boolean     NOT NULL,
    pick           integer     NOT NULL
);

-- A random non-zero 64-bit span id.
CREATE FUNCTION pg_temp.random_span_id() RETURNS bigint
    LANGUAGE sql VOLATILE
    RETURN coalesce(nullif(((floor(random() * 4294967296)::bigint - 2147483648) << 32)
                           | floor(random() * 4294967296)::bigint, 0), 1);

-- A standard normal draw (Box-Muller), for log-normal durations.
CREATE FUNCTION pg_temp.normal() RETURNS double precision
    LANGUAGE sql VOLATILE
    RETURN sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random());

-- Stages the spans of p_traces traces starting uniformly in [p_from, p_until). Each trace
-- has n = 3 + floor(18 * random() ^ p_shape) spans: the root, 1 + floor(random() * (n - 1) / 2)
-- MCP operations and the rest as their children, spread evenly. Times are laid out
-- bottom-up with one cursor per trace: a child's duration is drawn, the operations it
-- belongs to grow by it, so every parent contains its children. Three window sums over
-- the cursor increments (running, per operation, per trace) place every span; no join.
CREATE FUNCTION pg_temp.stage_traffic(p_from timestamptz, p_until timestamptz, p_traces integer,
                                      p_shape double precision) RETURNS bigint
    LANGUAGE plpgsql AS
$fn$
DECLARE
    v_median    double precision[];
    v_sigma     double precision[];
    v_err       double precision[];
    v_http      double precision[];
    v_call      integer[];
    v_dmedian   double precision[];
    v_dsigma    double precision[];
    v_derr      double precision[];
    v_tools     integer;
    v_prompts   integer;
    v_resources integer;
    v_dbs       integer;
    v_https     integer;
    v_rows      bigint;
BEGIN
    SELECT array_agg(median_ms::double precision ORDER BY id), array_agg(sigma::double precision ORDER BY id),
           array_agg(error_rate::double precision ORDER BY id), array_agg(http_share::double precision ORDER BY id),
           array_agg(http_call ORDER BY id),
           count(*) FILTER (WHERE operation = 'tool_invoke'), count(*) FILTER (WHERE operation = 'prompt_render'),
           count(*) FILTER (WHERE operation = 'resource_fetch')
      INTO v_median, v_sigma, v_err, v_http, v_call, v_tools, v_prompts, v_resources
      FROM pg_temp.gen_mcp;
    SELECT array_agg(median_ms::double precision ORDER BY id), array_agg(sigma::double precision ORDER BY id),
           array_agg(error_rate::double precision ORDER BY id),
           count(*) FILTER (WHERE kind = 'db'), count(*) FILTER (WHERE kind = 'http')
      INTO v_dmedian, v_dsigma, v_derr, v_dbs, v_https
      FROM pg_temp.gen_downstream;

    INSERT INTO pg_temp.gen_stage (trace_id, span_id, parent_span_id, role, cat, start_time, end_time, is_error, pick)
    WITH trace AS (
        SELECT g.i,
               p_from + random() * (p_until - p_from) AS t0,
               md5(random()::text || random()::text)::uuid AS trace_id,
               pg_temp.random_span_id() AS root_id,
               3 + floor(18 * random() ^ p_shape)::integer AS n,
               0.2 + 1.8 * random() AS root_pre,
               0.1 + 0.9 * random() AS root_post,
               random() < 0.003 AS root_error
        FROM generate_series(1, p_traces) AS g(i)
    ),
    shaped AS (
        SELECT t.*, 1 + floor(random() * (t.n - 1) / 2.0)::integer AS n_ops
        FROM trace t
    ),
    -- j = 0 is the root, j >= 1 the MCP operations.
    op_draw AS (
        SELECT s.i, s.t0, s.trace_id, s.root_id, s.root_pre, s.root_post, s.root_error, j.j,
               CASE WHEN j.j = 0 THEN 0
                    ELSE (s.n - 1 - s.n_ops) / s.n_ops + (j.j <= (s.n - 1 - s.n_ops) % s.n_ops)::integer
               END AS kids,
               pg_temp.random_span_id() AS op_id,
               random() AS u_kind, random() AS u_rank, pg_temp.normal() AS z, random() AS u_err,
               random() AS u_split, 0.02 + 0.3 * random() AS gap, floor(random() * 1000)::integer AS pick
        FROM shaped s
        CROSS JOIN LATERAL generate_series(0, s.n_ops) AS j(j)
    ),
    op_cat AS (
        SELECT o.*,
               CASE WHEN o.j = 0 THEN 0
                    WHEN o.u_kind < 0.65 THEN floor((v_tools + 1) ^ o.u_rank)::integer
                    WHEN o.u_kind < 0.80 THEN v_tools + floor((v_prompts + 1) ^ o.u_rank)::integer
                    ELSE v_tools + v_prompts + floor((v_resources + 1) ^ o.u_rank)::integer
               END AS cat
        FROM op_draw o
    ),
    op AS (
        SELECT o.*, o.self_ms * 0.5 * o.u_split AS pre, o.self_ms * (1 - 0.5 * o.u_split) AS post
        FROM (
            SELECT c.*,
                   CASE WHEN c.j = 0 THEN 0
                        ELSE least(120000, greatest(0.2, v_median[c.cat] * exp(v_sigma[c.cat] * c.z)))
                   END AS self_ms,
                   c.j > 0 AND c.u_err < v_err[c.cat] AS op_error
            FROM op_cat c
        ) o
    ),
    -- k = 0 is the root or operation itself, k >= 1 its children.
    span_draw AS (
        SELECT o.i, o.t0, o.trace_id, o.root_id, o.root_pre, o.root_post, o.root_error, o.j, o.kids,
               o.op_id, o.cat AS op_cat, o.gap, o.pick, o.pre, o.post, o.op_error, k.k,
               random() < v_http[o.cat] AS is_http, random() AS u_pref, random() AS u_rank,
               pg_temp.normal() AS z, random() AS u_slow, random() AS u_err,
               0.02 + 0.3 * random() AS kgap, floor(random() * 1000)::integer AS kpick
        FROM op o
        CROSS JOIN LATERAL generate_series(0, o.kids) AS k(k)
    ),
    span_cat AS (
        SELECT s.*,
               CASE WHEN s.k = 0 THEN s.op_cat
                    WHEN NOT s.is_http THEN floor((v_dbs + 1) ^ s.u_rank)::integer
                    WHEN v_call[s.op_cat] IS NOT NULL AND s.u_pref < 0.8 THEN v_dbs + v_call[s.op_cat]
                    ELSE v_dbs + floor((v_https + 1) ^ s.u_rank)::integer
               END AS cat
        FROM span_draw s
    ),
    span AS (
        SELECT c.*,
               CASE WHEN c.j = 0 THEN 'r' WHEN c.k = 0 THEN 'm' WHEN c.is_http THEN 'h' ELSE 'd' END::"char" AS role,
               CASE WHEN c.k = 0 THEN 0
                    WHEN NOT c.is_http AND c.u_slow < 0.0004 THEN 1000 * (1.05 + 3 * random())
                    ELSE least(60000, greatest(0.05, v_dmedian[c.cat] * exp(v_dsigma[c.cat] * c.z)))
               END AS dur,
               CASE WHEN c.j = 0 THEN c.root_error
                    WHEN c.k = 0 THEN c.op_error
                    ELSE c.u_err < v_derr[c.cat]
               END AS failed
        FROM span_cat c
    ),
    -- How far each span moves the trace's cursor, and how far after the cursor it starts.
    step AS (
        SELECT s.*,
               CASE WHEN s.j = 0 THEN s.root_pre
                    WHEN s.k = 0 THEN s.gap + s.pre + CASE WHEN s.kids = 0 THEN s.post ELSE 0 END
                    ELSE s.kgap + s.dur + CASE WHEN s.k = s.kids THEN s.post ELSE 0 END
               END AS inc,
               CASE WHEN s.j = 0 THEN 0 WHEN s.k = 0 THEN s.gap ELSE s.kgap END AS lead
        FROM span s
    ),
    placed AS (
        SELECT p.*,
               sum(p.inc) OVER (PARTITION BY p.i ORDER BY p.j, p.k ROWS UNBOUNDED PRECEDING) - p.inc AS before,
               sum(p.inc) OVER (PARTITION BY p.i, p.j) AS block,
               sum(p.inc) OVER (PARTITION BY p.i) AS total
        FROM step p
    )
    SELECT p.trace_id,
           CASE p.role WHEN 'r' THEN p.root_id WHEN 'm' THEN p.op_id ELSE pg_temp.random_span_id() END,
           CASE p.role WHEN 'r' THEN NULL WHEN 'm' THEN p.root_id ELSE p.op_id END,
           p.role, p.cat,
           p.t0 + (CASE WHEN p.role = 'r' THEN 0 ELSE p.before + p.lead END) * interval '1 millisecond',
           p.t0 + (CASE p.role WHEN 'r' THEN p.total + p.root_post
                               WHEN 'm' THEN p.before + p.block
                               ELSE p.before + p.lead + p.dur END) * interval '1 millisecond',
           p.failed,
           CASE WHEN p.k = 0 THEN p.pick ELSE p.kpick END
    FROM placed p;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$fn$;

-- Stages the 1,000-span trace, starting at p_start and lasting 30 s: node 0 is the root,
-- nodes 1-19 a chain of nested tool calls (19 levels), nodes 20-999 a 4-ary tree under
-- node 19 (5 more levels; inner nodes tool calls and resource reads, leaves SQL and HTTP
-- calls, the leaves numbered by a multiple of 37 failing). Children split their parent's
-- time evenly, each with a small random margin at both ends. Returns the trace id.
CREATE FUNCTION pg_temp.stage_wide_trace(p_start timestamptz) RETURNS uuid
    LANGUAGE plpgsql AS
$fn$
DECLARE
    v_trace_id uuid := md5(random()::text || random()::text)::uuid;
    v_tools     integer;
    v_prompts   integer;
    v_resources integer;
    v_dbs       integer;
    v_https     integer;
BEGIN
    SELECT count(*) FILTER (WHERE operation = 'tool_invoke'), count(*) FILTER (WHERE operation = 'prompt_render'),
           count(*) FILTER (WHERE operation = 'resource_fetch')
      INTO v_tools, v_prompts, v_resources
      FROM pg_temp.gen_mcp;
    SELECT count(*) FILTER (WHERE kind = 'db'), count(*) FILTER (WHERE kind = 'http')
      INTO v_dbs, v_https
      FROM pg_temp.gen_downstream;

    INSERT INTO pg_temp.gen_stage (trace_id, span_id, parent_span_id, role, cat, start_time, end_time, is_error, pick)
    WITH RECURSIVE node AS (
        SELECT k, CASE WHEN k = 0 THEN NULL WHEN k <= 19 THEN k - 1 ELSE 19 + (k - 20) / 4 END AS parent,
               pg_temp.random_span_id() AS span_id
        FROM generate_series(0, 999) AS k
    ),
    shaped AS (
        SELECT n.*,
               (row_number() OVER (PARTITION BY n.parent ORDER BY n.k) - 1)::integer AS idx,
               (count(*) OVER (PARTITION BY n.parent))::integer AS siblings,
               n.k <= 19 + (999 - 20) / 4 AS inner_node
        FROM node n
    ),
    timed AS (
        SELECT s.k, 0::double precision AS start_off, 30000::double precision AS end_off
        FROM shaped s WHERE s.k = 0
        UNION ALL
        SELECT c.k,
               p.start_off + (p.end_off - p.start_off) * (c.idx + 0.005 + 0.025 * random()) / c.siblings,
               p.start_off + (p.end_off - p.start_off) * (c.idx + 1 - 0.005 - 0.025 * random()) / c.siblings
        FROM timed p
        JOIN shaped c ON c.parent = p.k
    )
    SELECT v_trace_id, s.span_id, ps.span_id,
           CASE WHEN s.k = 0 THEN 'r' WHEN s.inner_node THEN 'm' WHEN s.k % 2 = 0 THEN 'd' ELSE 'h' END::"char",
           CASE WHEN s.k = 0 THEN 0
                WHEN s.inner_node AND s.k % 5 = 0 AND s.k > 19 THEN v_tools + v_prompts + 1 + s.k % v_resources
                WHEN s.inner_node THEN 1 + (s.k * 7) % v_tools
                WHEN s.k % 2 = 0 THEN 1 + s.k % v_dbs
                ELSE v_dbs + 1 + s.k % v_https
           END,
           p_start + t.start_off * interval '1 millisecond',
           p_start + t.end_off * interval '1 millisecond',
           NOT s.inner_node AND s.k % 37 = 0,
           s.k
    FROM shaped s
    JOIN timed t ON t.k = s.k
    LEFT JOIN shaped ps ON ps.k = s.parent;
    RETURN v_trace_id;
END
$fn$;

-- Turns the staged spans into observability.spans rows (names, targets and attributes
-- from the catalogs, as the ingest classifier would have stored them; inserted in start
-- time order, as live ingestion roughly would) and their traces rows, then empties the
-- stage. Returns the rows written.
CREATE FUNCTION pg_temp.flush_stage(OUT spans bigint, OUT traces bigint)
    LANGUAGE plpgsql AS
$fn$
DECLARE
    -- Per gen_mcp id (MCP operations) and per gen_downstream id (SQL and HTTP calls).
    v_m_name     text[];
    v_m_op       text[];
    v_m_target   text[];
    v_m_attrs    jsonb[];
    v_d_name     text[];
    v_d_target   text[];
    v_d_attrs    jsonb[];
    v_d_bare     jsonb[];
    v_msg_root   text[];
    v_msg_tool   text[];
    v_msg_prompt text[];
    v_msg_res    text[];
    v_msg_db     text[];
    v_msg_http   text[];
    v_root_attrs jsonb := '{"http.request.method": "POST", "http.route": "/mcp", "http.response.status_code": 200}';
    v_resource   jsonb := '{"service.name": "mcp-gateway", "service.version": "1.4.2", "deployment.environment.name": "bench"}';
BEGIN
    SELECT array_agg(m.method || ' ' || m.target ORDER BY m.id), array_agg(m.operation ORDER BY m.id),
           array_agg(m.target ORDER BY m.id),
           array_agg(jsonb_build_object('mcp.method.name', m.method, m.key, m.target) ORDER BY m.id)
      INTO v_m_name, v_m_op, v_m_target, v_m_attrs
      FROM (SELECT g.*,
                   CASE g.operation WHEN 'tool_invoke' THEN 'tools/call' WHEN 'prompt_render' THEN 'prompts/get'
                                    ELSE 'resources/read' END AS method,
                   CASE g.operation WHEN 'tool_invoke' THEN 'gen_ai.tool.name' WHEN 'prompt_render' THEN 'gen_ai.prompt.name'
                                    ELSE 'mcp.resource.uri' END AS key
            FROM pg_temp.gen_mcp g) m;
    SELECT array_agg(CASE d.kind WHEN 'db' THEN d.operation || ' ' || d.name ELSE d.operation END ORDER BY d.id),
           array_agg(CASE d.kind WHEN 'db' THEN d.operation
                                 ELSE d.operation || ' ' || substring(d.text FROM '^https?://[^/]+(/[^?#]*)') END ORDER BY d.id),
           array_agg(CASE d.kind
                         WHEN 'db' THEN jsonb_build_object('db.system.name', 'postgresql', 'db.operation.name', d.operation,
                                                           'db.collection.name', d.name, 'db.query.text', d.text)
                         ELSE d.bare || jsonb_build_object('http.response.status_code',
                                                           CASE d.operation WHEN 'POST' THEN 201 ELSE 200 END)
                     END ORDER BY d.id),
           array_agg(d.bare ORDER BY d.id)
      INTO v_d_name, v_d_target, v_d_attrs, v_d_bare
      FROM (SELECT g.*, jsonb_build_object('http.request.method', g.operation, 'url.full', g.text,
                                           'server.address', g.name) AS bare
            FROM pg_temp.gen_downstream g) d;
    SELECT array_agg(message) FILTER (WHERE source = 'root'), array_agg(message) FILTER (WHERE source = 'tool_invoke'),
           array_agg(message) FILTER (WHERE source = 'prompt_render'),
           array_agg(message) FILTER (WHERE source = 'resource_fetch'),
           array_agg(message) FILTER (WHERE source = 'db'), array_agg(message) FILTER (WHERE source = 'http')
      INTO v_msg_root, v_msg_tool, v_msg_prompt, v_msg_res, v_msg_db, v_msg_http
      FROM pg_temp.gen_message;

    INSERT INTO observability.spans (trace_id, span_id, parent_span_id, name, kind, operation, target, service_name,
                                     scope_name, start_time, end_time, duration_ms, status, status_message,
                                     attributes, resource_attributes, events)
    SELECT s.trace_id, s.span_id, s.parent_span_id,
           CASE s.role WHEN 'r' THEN 'POST /mcp' WHEN 'm' THEN v_m_name[s.cat] ELSE v_d_name[s.cat] END,
           CASE s.role WHEN 'r' THEN 'server' WHEN 'm' THEN 'internal' ELSE 'client' END,
           CASE s.role WHEN 'r' THEN 'http_request' WHEN 'm' THEN v_m_op[s.cat] WHEN 'd' THEN 'db_query'
                       ELSE 'http_request' END,
           CASE s.role WHEN 'r' THEN 'POST /mcp' WHEN 'm' THEN v_m_target[s.cat] ELSE v_d_target[s.cat] END,
           'mcp-gateway',
           CASE s.role WHEN 'r' THEN 'opentelemetry.instrumentation.asgi' WHEN 'm' THEN 'mcp.server'
                       WHEN 'd' THEN 'opentelemetry.instrumentation.asyncpg'
                       ELSE 'opentelemetry.instrumentation.httpx' END,
           s.start_time, s.end_time,
           extract(epoch FROM s.end_time - s.start_time) * 1000,
           CASE WHEN s.is_error THEN 'error' WHEN s.role = 'm' THEN 'ok' ELSE 'unset' END,
           s.message,
           CASE WHEN s.role = 'm' THEN v_m_attrs[s.cat]
                WHEN s.role = 'd' OR (s.role = 'h' AND NOT s.is_error) THEN v_d_attrs[s.cat]
                WHEN s.role = 'h' AND s.http_code IS NULL THEN v_d_bare[s.cat]
                WHEN s.role = 'h' THEN v_d_bare[s.cat] || jsonb_build_object('http.response.status_code', s.http_code)
                WHEN s.is_error THEN v_root_attrs || jsonb_build_object('http.response.status_code', s.http_code)
                ELSE v_root_attrs
           END,
           v_resource, '[]'::jsonb
    FROM (
        SELECT m.*, substring(m.message FROM '^HTTP (\d{3})')::integer AS http_code
        FROM (
            SELECT g.*,
                   CASE WHEN NOT g.is_error THEN NULL
                        WHEN g.role = 'r' THEN v_msg_root[1 + g.pick % cardinality(v_msg_root)]
                        WHEN g.role = 'd' THEN v_msg_db[1 + g.pick % cardinality(v_msg_db)]
                        WHEN g.role = 'h' THEN v_msg_http[1 + g.pick % cardinality(v_msg_http)]
                        WHEN v_m_op[g.cat] = 'tool_invoke'
                            THEN v_msg_tool[1 + (g.cat * 3 + g.pick % 3) % cardinality(v_msg_tool)]
                        WHEN v_m_op[g.cat] = 'prompt_render'
                            THEN replace(v_msg_prompt[1 + (g.cat + g.pick % 2) % cardinality(v_msg_prompt)],
                                         '{target}', v_m_target[g.cat])
                        ELSE replace(v_msg_res[1 + (g.cat + g.pick % 2) % cardinality(v_msg_res)],
                                     '{target}', v_m_target[g.cat])
                   END AS message
            FROM pg_temp.gen_stage g
        ) m
    ) s
    ORDER BY s.start_time;
    GET DIAGNOSTICS spans = ROW_COUNT;

    INSERT INTO observability.traces (trace_id, root_span_id, root_name, service_name, start_time, end_time,
                                      span_count, error_count)
    SELECT g.trace_id, max(g.span_id) FILTER (WHERE g.parent_span_id IS NULL), 'POST /mcp', 'mcp-gateway',
           min(g.start_time), max(g.end_time), count(*), count(*) FILTER (WHERE g.is_error)
    FROM pg_temp.gen_stage g
    GROUP BY g.trace_id
    ORDER BY min(g.start_time);
    GET DIAGNOSTICS traces = ROW_COUNT;

    TRUNCATE pg_temp.gen_stage;
END
$fn$;

-- One day of traffic: stage it, write it. One call per day keeps every sort and the
-- stage at a day's size.
CREATE FUNCTION pg_temp.generate_day(p_from timestamptz, p_until timestamptz, p_traces integer,
                                     p_shape double precision) RETURNS text
    LANGUAGE plpgsql AS
$fn$
DECLARE
    v_spans  bigint;
    v_traces bigint;
BEGIN
    PERFORM pg_temp.stage_traffic(p_from, p_until, p_traces, p_shape);
    SELECT f.spans, f.traces INTO v_spans, v_traces FROM pg_temp.flush_stage() f;
    RETURN format('%s .. %s: %s traces, %s spans', to_char(p_from AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                  to_char(p_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), v_traces, v_spans);
END
$fn$;

\echo '== spans and traces, one statement per day (UTC times)'
\timing on
\pset tuples_only on
SELECT format('SELECT pg_temp.generate_day(%L, %L, %s, %s)',
              :'gen_now'::timestamptz - make_interval(days => :days - d),
              :'gen_now'::timestamptz - make_interval(days => :days - d - 1),
              (d + 1)::bigint * :traces / :days - d::bigint * :traces / :days,
              :gen_shape)
FROM generate_series(0, :days - 1) AS d
\gexec

\echo '== the 1,000-span trace'
SELECT observability.hex_trace_id(pg_temp.stage_wide_trace(:'gen_now'::timestamptz - interval '20 minutes'))
    AS wide_trace_id \gset
SELECT format('%s spans, %s trace', f.spans, f.traces) FROM pg_temp.flush_stage() f;
\pset tuples_only off

-- Settle the tables as autovacuum eventually would (visibility map, statistics of every
-- partition and of the partitioned parent, which autovacuum never analyzes), so that it
-- does not start on them in the middle of a benchmark.
\echo '== vacuum analyze'
VACUUM (ANALYZE) observability.traces;
VACUUM (ANALYZE) observability.spans;
\timing off

SELECT (SELECT count(*) FROM observability.traces) AS traces,
       (SELECT count(*) FROM observability.spans) AS spans,
       (SELECT count(*) FROM observability.spans_default) AS in_spans_default,
       date_trunc('second', clock_timestamp() - :'gen_started'::timestamptz) AS elapsed;
\echo
\echo 'trace with 1000 spans:' :wide_trace_id
