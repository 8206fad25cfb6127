"""graphmesh's tools: the `graphmesh` command (`main`), the benchmark
(`bench`), the supervisor of `graphmesh up` (`supervisor`) and the
generated reference of settings (`settings_reference`).

They use the shared library (`graphmesh`) and its local stack
(`graphmesh.testing`); no service imports them.
"""
