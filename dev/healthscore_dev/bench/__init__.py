"""`make bench` / `healthscore bench`: the service's speed, side by side in one run (docs/performance.md).

Measurement code, run by the CLI only (like healthscore_dev.local): each path it compares is
a module of its own (seed_style, scorer_run, floor, api_latency, cold_start, batch_size),
`run` puts them in one table and bench/results/latest.json.
"""
