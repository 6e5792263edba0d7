"""Where an alert leaves: the outbox stream, its consumer, and the targets it delivers to."""
