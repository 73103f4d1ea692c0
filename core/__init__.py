"""The ground floor: what every stage shares (the record types, the error tree, the settings). Imports nothing of ours."""
