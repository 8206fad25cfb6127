"""Local infrastructure for one machine: a private PostgreSQL cluster and a
Kafka-protocol broker, each confined to a data directory."""
