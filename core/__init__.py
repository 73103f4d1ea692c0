"""The ground floor: what every stage shares (record types, the error tree, settings). It imports nothing of ours."""
