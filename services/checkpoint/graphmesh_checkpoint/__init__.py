"""The checkpoint service: the write side. It appends run events to the event
store idempotently (from Kafka and from the gateway), fences executor
attempts, and serves event reads and watches."""
