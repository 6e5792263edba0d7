"""Running the pipeline: the live bot, replays, the scheduler, health, metrics and logs."""
