"""The pack maintainers' tools: the self-check, mutants, contracts and generated tables."""
