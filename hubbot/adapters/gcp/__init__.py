"""Google Cloud: billing-export costs from BigQuery, budgets mirrored to Cloud Billing, the billing
link check, and budget notifications pushed by Pub/Sub. The SDKs load on first use."""
