"""The executor: consumes run commands from Kafka, runs the graphs, and
emits every state change as an event to Kafka."""
