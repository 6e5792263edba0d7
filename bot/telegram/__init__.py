"""The Telegram side: the one application builder, its limits, delivery of alerts, chats' subscriptions."""
