/// The migration files compiled into the binary. `migrations/` is the source of truth: the
/// package manifest embeds every file of it (`Sources/ObservatoryMigrations/migrations` is a
/// link to it), and this list names them, because the generated `PackageResources` cannot be
/// enumerated. A file missing here fails `EmbeddedMigrationsTests`, which names the line to add.
enum EmbeddedMigrations {
    static let files: [(file: String, bytes: [UInt8])] = [
        ("0001_create_spans.sql", PackageResources._001_create_spans_sql),
        ("0002_create_traces.sql", PackageResources._002_create_traces_sql),
        ("0003_create_ensure_partitions.sql", PackageResources._003_create_ensure_partitions_sql),
        ("0004_create_psql_views.sql", PackageResources._004_create_psql_views_sql),
        ("0005_create_ingest_spans.sql", PackageResources._005_create_ingest_spans_sql),
        ("0006_create_metric_views.sql", PackageResources._006_create_metric_views_sql),
        ("0007_create_metric_rollups.sql", PackageResources._007_create_metric_rollups_sql),
        ("0008_create_retention.sql", PackageResources._008_create_retention_sql),
        ("0009_remove_future_traces.sql", PackageResources._009_remove_future_traces_sql),
        ("0010_move_internal_objects.sql", PackageResources._010_move_internal_objects_sql),
        ("0011_create_calls.sql", PackageResources._011_create_calls_sql),
        ("0012_create_metric_digests.sql", PackageResources._012_create_metric_digests_sql),
        ("0013_create_trace_export.sql", PackageResources._013_create_trace_export_sql),
        ("0014_create_saved_views.sql", PackageResources._014_create_saved_views_sql),
        ("0015_create_exemplars.sql", PackageResources._015_create_exemplars_sql),
        ("0016_create_trace_compare.sql", PackageResources._016_create_trace_compare_sql),
        ("0017_create_span_ranks.sql", PackageResources._017_create_span_ranks_sql),
        ("0018_create_resources.sql", PackageResources._018_create_resources_sql),
        ("0019_unique_index_on_open_days.sql", PackageResources._019_unique_index_on_open_days_sql),
        ("0020_create_scopes.sql", PackageResources._020_create_scopes_sql),
        ("0021_compaction_lock_order.sql", PackageResources._021_compaction_lock_order_sql),
        ("0022_readers_see_rewritten_days.sql", PackageResources._022_readers_see_rewritten_days_sql),
    ]
}
