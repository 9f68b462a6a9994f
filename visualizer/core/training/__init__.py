"""The training session (a generator of events), its control, events, history and device."""
