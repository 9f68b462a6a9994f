"""The application shell: main window, actions, settings, theme, presentation mode, lessons."""
