"""Redis: the connection (a server at REDIS_URL, or the embedded one) and every key the bot writes."""
