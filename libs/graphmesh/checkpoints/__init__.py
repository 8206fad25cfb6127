"""LangGraph checkpoints kept through the event log.

- `events`: the checkpoint and thread events and their payloads (pure).
- `store`: the tables the checkpoint service keeps from those events, and
  the queries that read them (PostgreSQL).
- `saver`: the LangGraph checkpointer that writes events and reads from the
  checkpoint service.
"""
