"""imagegate's benchmarks: the gateway's hot path and discovery, side by side with a bare
pass-through proxy and the LiteLLM proxy. `scripts/bench` runs them; see docs/benchmarks.md."""
