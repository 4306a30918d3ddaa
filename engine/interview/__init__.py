"""The headless interview: session state, which question to ask next, typed answers."""
