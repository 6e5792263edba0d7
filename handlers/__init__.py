"""Telegram command handlers, registered in one place (see the Telegram issue)."""
