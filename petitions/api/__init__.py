"""JSON API: article ingest now; the read API, embeds and partner API later."""
