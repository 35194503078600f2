"""Categories and articles from the news site; subscriptions and digests build on them."""
