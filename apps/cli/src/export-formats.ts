/** `export --format` values; kept apart from the command so that building the CLI's help loads no exporter. */
export const EXPORT_FORMATS = ["actions.v1", "jsonl", "markdown", "otlp"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
