"""The terminal interview (Textual). Screens, widgets and styles only: the questions,
answers and decisions come from ``engine.interview``, so no rule logic lives here."""
