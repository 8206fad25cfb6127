"""The projector: the read side. It tails the event store by position and
keeps the read models (one row per run) that answer status queries."""
