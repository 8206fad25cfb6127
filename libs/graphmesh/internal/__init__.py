"""Generated code of graphmesh's internal APIs (between its services)."""
