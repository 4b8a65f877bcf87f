-- Saved views: a list page's filters under a name, so a team's usual questions ("failed
-- calls of the search server this week") are one click from every page and can be shared
-- as a link. Kept in PostgreSQL so every replica of the service shows the same ones and
-- they survive restarts; psql users can list and edit them too.

CREATE TABLE observability.saved_views (
    view_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What the navigation shows. No control characters: it is a label, not a document.
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100 AND name !~ '[\x01-\x1f\x7f]'),
    -- The list page the filters belong to.
    page       text NOT NULL CHECK (page IN ('metrics', 'tools', 'prompts', 'resources', 'traces')),
    -- The page's query string, without the '?', as the service wrote it after checking
    -- that the page accepts it.
    query      text NOT NULL CHECK (char_length(query) <= 4000),
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    CONSTRAINT saved_views_name_key UNIQUE (name)
);

COMMENT ON TABLE observability.saved_views IS 'Named filter sets of the list pages (metrics, tools, prompts, resources, traces), listed in the dashboards'' navigation; /admin/observability/views/{view_id} opens one. See docs/dashboards.md.';
