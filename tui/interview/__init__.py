"""The Textual interview: app, screens, widgets. No rule logic lives here."""
